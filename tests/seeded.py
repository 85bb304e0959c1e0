"""Seeded weights and image files for the tests that run the model without a window:
one seeded weights file per session (and torchvision's AlexNet holding the same weights,
the reference), and factories for image files of any mode and format (random content,
seeded). The conftest.py of tests/core and of tests/cli import the fixtures; torch,
numpy and Pillow are imported by the fixtures that use them, when they run."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def seeded_state_dict():
    from alexnet_gui.core.model import build_model

    return build_model(seed=0).state_dict()


@pytest.fixture(scope="session")
def seeded_weights(tmp_path_factory, seeded_state_dict) -> Path:
    """A torchvision-style state dict of ``build_model(seed=0)`` (1000 classes)."""
    import torch

    path = tmp_path_factory.mktemp("weights") / "seeded.pt"
    torch.save(seeded_state_dict, path)
    return path


@pytest.fixture(scope="session")
def seeded_model(seeded_state_dict):
    """Shared, read-only: tests that change a model build their own."""
    from alexnet_gui.core.model import build_model

    model = build_model()
    model.load_state_dict(seeded_state_dict)
    return model.eval()


@pytest.fixture(scope="session")
def torchvision_model(seeded_state_dict):
    """torchvision's own AlexNet holding the same seeded weights: the reference."""
    import torchvision

    model = torchvision.models.alexnet()
    model.load_state_dict(seeded_state_dict)
    return model.eval()


def random_array(width: int, height: int, channels: int | None = 3, seed: int = 0, dtype=None):
    import numpy as np

    dtype = np.uint8 if dtype is None else dtype
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def random_image(width: int, height: int, mode: str = "RGB", seed: int = 0):
    """Random pixels in ``mode`` (converted from random RGB for the odd modes)."""
    from PIL import Image

    if mode == "RGB":
        return Image.fromarray(random_array(width, height, 3, seed), "RGB")
    if mode == "RGBA":
        return Image.fromarray(random_array(width, height, 4, seed), "RGBA")
    if mode == "L":
        return Image.fromarray(random_array(width, height, None, seed), "L")
    return random_image(width, height, "RGB", seed).convert(mode)


@pytest.fixture(name="random_image", scope="session")
def random_image_fixture():
    """``random_image(width, height, mode="RGB", seed=0) -> PIL.Image``."""
    return random_image


@pytest.fixture
def make_image(tmp_path):
    """``make_image(name, size=(w, h), mode="RGB", seed=0, **save_kwargs) -> Path``:
    random pixels saved under ``tmp_path`` in the format the suffix names."""

    def make(name: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", seed: int = 0,
             folder: Path | None = None, **save_kwargs) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        random_image(size[0], size[1], mode, seed).save(path, **save_kwargs)
        return path

    return make


@pytest.fixture
def write_bytes(tmp_path):
    """``write_bytes(name, data) -> Path`` under ``tmp_path``."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write
