"""Window tests: offscreen Qt, isolated settings and caches, a seeded model."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def seeded_weights(tmp_path_factory):
    """A 1000-class AlexNet with seeded random weights, saved like torchvision's file."""
    import torch

    from alexnet_gui.core.model import build_model

    path = tmp_path_factory.mktemp("weights") / "seeded-alexnet.pth"
    torch.save(build_model(seed=0).state_dict(), path)
    return path


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.fixture
def make_window(qtbot, seeded_weights):
    """make_window(*extra_args, weights=seeded) -> a shown MainWindow with its model loaded."""
    from alexnet_gui.app import create_window

    windows = []

    def make(*args, weights=seeded_weights, wait=True):
        argv = ["--device", "cpu", *args]
        if weights is not None:
            argv = ["--weights", str(weights), *argv]
        window = create_window(argv)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        if wait:
            qtbot.waitUntil(lambda: window.model_info is not None, timeout=60000)
        return window

    yield make
    for window in windows:
        window.close()
        qtbot.waitUntil(lambda: not window.client.is_running(), timeout=10000)


@pytest.fixture
def image_dir(tmp_path):
    """make_images(n, size=(96, 80)) -> folder of n distinct PNGs."""
    import numpy as np
    from PIL import Image

    def make(n=3, size=(96, 80), name="images"):
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        rng = np.random.default_rng(n)
        for i in range(n):
            arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(arr).save(folder / f"img{i:03d}.png")
        return folder

    return make
