"""Shared fixtures for the core tests: the seeded weights, torchvision's AlexNet holding
them (the reference) and image file factories, from tests/seeded.py (shared with tests/cli).
Imported here, pytest registers them by their names."""

import pytest
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


@pytest.fixture
def count_forwards(monkeypatch):
    """How many images went through the fine-tune's backbone (all views): ``["images"]``."""
    from alexnet_gui.core.finetune import extract as extract_module

    seen = {"images": 0}
    real = extract_module.backbone_features

    def counting(model, x, layer, *args):
        seen["images"] += x.shape[0]
        return real(model, x, layer, *args)

    monkeypatch.setattr(extract_module, "backbone_features", counting)
    return seen
