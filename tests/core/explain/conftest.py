"""The explain tests use the seeded weights (tests/seeded.py) and their own pictures."""

from seeded import make_image, random_image_fixture, seeded_model, seeded_state_dict

__all__ = ["make_image", "random_image_fixture", "seeded_model", "seeded_state_dict"]
