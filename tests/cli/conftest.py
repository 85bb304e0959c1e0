"""The command-line tests: seeded weights and image files (tests/seeded.py, shared with
tests/core), and a class-per-folder set of shapes for the fine-tune commands. Every test
has its own TORCH_HOME and XDG_CACHE_HOME (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from seeded import make_image, random_image_fixture, seeded_model, seeded_state_dict, seeded_weights, write_bytes
from shape_folders import shapes

# fixtures, registered by their names here
__all__ = ["make_image", "random_image_fixture", "seeded_model", "seeded_state_dict", "seeded_weights", "shapes",
           "write_bytes"]


@pytest.fixture
def private_cache() -> Path:
    """This test's own fine-tune feature cache folder."""
    from alexnet_gui.core.paths import cache_dir

    return cache_dir()
