"""Seeded shape pictures as a class-per-folder set (tests/shape_folders.py, shared with
tests/cli); every test gets a private cache.

The backbone is ``seeded_model`` from tests/seeded.py (``build_model(seed=0)``):
random conv filters still separate the shapes' colours, enough for a head to learn.
"""

from __future__ import annotations

import pytest
from shape_folders import make_shapes, shapes

__all__ = ["make_shapes", "shapes"]  # the tests import make_shapes from here; shapes is a fixture


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return cache_home / "alexnet-gui"
