"""Fixtures for the bad-input and fault suite: seeded weights, the CLI run in-process,
one shared window for the cases that leave the model as it is, and synthesised drops.

Every test still gets its own TORCH_HOME and XDG_CACHE_HOME (tests/conftest.py);
Qt settings live in a folder of this session, never the user's.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def seeded_weights(tmp_path_factory) -> Path:
    """A 1000-class AlexNet with seeded random weights, saved as torchvision saves its file."""
    import torch

    from alexnet_gui.core.model import build_model

    path = tmp_path_factory.mktemp("weights") / "seeded-alexnet.pth"
    torch.save(build_model(seed=0).state_dict(), path)
    return path


@pytest.fixture
def cli(capsys, seeded_weights):
    """cli(*args, weights=seeded) -> (exit code, stdout, stderr) of ``alexnet-cli`` run in-process.
    ``--device cpu`` and ``--weights`` are added unless given."""
    from alexnet_gui.cli import main

    def run(*args, weights=seeded_weights, device="cpu"):
        argv = [str(a) for a in args]
        if weights is not None and "--weights" not in argv:
            argv += ["--weights", str(weights)]
        if device is not None and "--device" not in argv:
            argv += ["--device", device]
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli_json(cli):
    """cli_json(*args) -> (exit code, parsed stdout, stderr); adds ``--json``."""

    def run(*args, **kwargs):
        code, out, err = cli(*args, "--json", **kwargs)
        return code, json.loads(out), err

    return run


# ---------------------------------------------------------------- the window


@pytest.fixture(scope="session")
def qt_settings_dir(tmp_path_factory):
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qt-settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def fresh_settings(qt_settings_dir):
    """A window made in this test starts from empty settings (no remembered weights)."""
    for child in qt_settings_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _close(window, qtbot) -> None:
    window.close()
    qtbot.waitUntil(lambda: not window.client.thread.isRunning(), timeout=15000)


@pytest.fixture(scope="session")
def shared_window(request, qapp, qt_settings_dir, seeded_weights, tmp_path_factory):
    """One window with the seeded model for every case that leaves the model as it was
    (bad images, refused weights). Tests using it must not change the model."""
    from pytestqt.qtbot import QtBot

    from alexnet_gui.app import create_window

    for child in qt_settings_dir.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("shared-window-home")
    mp.setenv("TORCH_HOME", str(home / "torch"))
    mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
    bot = QtBot(request)
    window = create_window(["--weights", str(seeded_weights), "--device", "cpu"])
    window.show()
    bot.waitUntil(lambda: window.model_info is not None, timeout=90000)
    yield window
    _close(window, bot)
    mp.undo()


@pytest.fixture
def window(shared_window, qtbot):
    """The shared window, on the Classify tab with an empty list, its model unchanged."""
    w = shared_window
    qtbot.waitUntil(lambda: not w.client.worker.busy(), timeout=30000)
    w.tabs.setCurrentWidget(w.classify_view)
    w.classify_view.images.clear()
    yield w
    assert w.model_info.description.endswith("(seeded-alexnet.pth)"), "a test changed the shared model"


@pytest.fixture
def make_window(qtbot, seeded_weights, fresh_settings):
    """make_window(*extra_args, weights=seeded) -> a shown window with its model loaded;
    closed (worker thread stopped) at teardown."""
    from alexnet_gui.app import create_window

    windows = []

    def make(*args, weights=seeded_weights):
        argv = ["--device", "cpu", *args]
        if weights is not None:
            argv = ["--weights", str(weights), *argv]
        window = create_window(argv)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.model_info is not None, timeout=90000)
        return window

    yield make
    for window in windows:
        _close(window, qtbot)


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch):
    """Modal warnings are recorded instead of blocking the test: the list of their texts."""
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2] if len(a) > 2 else ""))
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2] if len(a) > 2 else ""))
    return shown


@pytest.fixture
def good_image(tmp_path):
    """good_image(name="good.png") -> a fresh ordinary photo-sized PNG (never listed before)."""
    from fault_inputs import write_png

    counter = iter(range(10_000))

    def make(name: str | None = None) -> Path:
        n = next(counter)
        path = tmp_path / "good" / (name or f"good-{n}.png")
        path.parent.mkdir(exist_ok=True)
        write_png(path, seed=100 + n, size=(120, 90))
        return path

    return make


@pytest.fixture
def still_classifies(qtbot, good_image):
    """still_classifies(window): drop a fresh good image and wait for its top-5 to show."""
    from fault_inputs import drop

    def check(window) -> list[str]:
        img = good_image()
        drop(window, [img])
        view = window.classify_view
        qtbot.waitUntil(lambda: view.current_path() == str(img) and len(view.bars.texts()) == 5, timeout=60000)
        entry = view.images.entry_for(str(img))
        assert entry.status == "done"
        return view.bars.texts()

    return check
