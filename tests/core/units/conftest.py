"""A small folder of pictures for the unit tests (seeded shapes and noise), the seeded model,
and a counter of the images that went through the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from seeded import seeded_model, seeded_state_dict
from shape_folders import make_shapes

from alexnet_gui.core.units import scan as scan_module

__all__ = ["seeded_model", "seeded_state_dict"]


@pytest.fixture
def picture_folder(tmp_path) -> Path:
    """Nine shapes in three class folders and five noise pictures of odd sizes: 14 images."""
    root = make_shapes(tmp_path / "pictures", per_class=3)
    rng = np.random.default_rng(3)
    for i, (w, h) in enumerate([(90, 70), (300, 200), (120, 260), (64, 64), (200, 150)]):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB").save(root / f"noise-{i}.png")
    return root


@pytest.fixture
def count_forwards(monkeypatch):
    """How many images went through the network in scans."""
    seen = {"images": 0}
    real = scan_module.summarize

    def counting(model, x, layers):
        seen["images"] += x.shape[0]
        return real(model, x, layers)

    monkeypatch.setattr(scan_module, "summarize", counting)
    return seen
