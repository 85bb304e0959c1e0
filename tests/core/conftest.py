"""Shared fixtures for the core tests: the seeded weights, torchvision's AlexNet holding
them (the reference) and image file factories, from tests/seeded.py (shared with tests/cli).
Imported here, pytest registers them by their names."""

from seeded import (
    make_image,
    random_image_fixture,
    seeded_model,
    seeded_state_dict,
    seeded_weights,
    torchvision_model,
    write_bytes,
)

__all__ = ["make_image", "random_image_fixture", "seeded_model", "seeded_state_dict", "seeded_weights", "torchvision_model",
           "write_bytes"]
