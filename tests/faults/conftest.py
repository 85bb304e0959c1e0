"""Fixtures for the bad-input and fault suite: seeded weights, the CLI run in-process,
and one shared window for the cases that leave the model as it is (a window per case
would cost seconds each).

Every test still gets its own TORCH_HOME and XDG_CACHE_HOME (tests/conftest.py); the
window's Qt settings live in a temporary folder, never the user's.
"""

from __future__ import annotations

import json
import os
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


_SHARED: dict = {}  # the shared window while it is open, and the environment it was made in
FAULTS_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def shared_window(request, qapp, seeded_weights, tmp_path_factory):
    """One window with the seeded model for every case that leaves the model as it was
    (bad images, refused weights, refused folders). Tests using it must not change the model.
    It is closed when the last test of this folder is done, before other folders run."""
    from PySide6.QtCore import QSettings
    from pytestqt.qtbot import QtBot

    from alexnet_gui.app import create_window

    home = tmp_path_factory.mktemp("shared-window-home")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "settings"))
    mp = pytest.MonkeyPatch()
    mp.setenv("TORCH_HOME", str(home / "torch"))
    mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
    window = create_window(["--weights", str(seeded_weights), "--device", "cpu"])
    _SHARED.update(window=window, env=mp)
    window.show()
    QtBot(request).waitUntil(lambda: window.model_info is not None, timeout=90000)
    yield window
    close_shared_window()


def close_shared_window() -> None:
    window, mp = _SHARED.pop("window", None), _SHARED.pop("env", None)
    if window is not None:
        window.close()  # cancels jobs, stops the worker and waits for it
        assert not window.client.is_running()
    if mp is not None:
        mp.undo()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if nextitem is None or FAULTS_DIR not in Path(nextitem.path).resolve().parents:
        close_shared_window()


@pytest.fixture
def window(shared_window, qtbot):
    """The shared window, on the Classify tab with an empty list, its model unchanged."""
    w = shared_window
    qtbot.waitUntil(lambda: not w.client.busy(), timeout=30000)
    w.tabs.setCurrentWidget(w.classify_view)
    w.classify_view.images.clear()
    yield w
    assert w.model_info.description.endswith("(seeded-alexnet.pth)"), "a test changed the shared model"


@pytest.fixture(autouse=True)
def _modal_dialogs_recorded(no_modal_dialogs):
    """Every fault test records modal warnings (``no_modal_dialogs``, tests/conftest.py)."""


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
