import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The windows' model runs in a thread speaking the worker's pipe, not a spawned process:
# the same messages, without a torch import per window, and tests may patch the model's
# code. tests/ui/bridge/test_worker_process.py runs the real process, as the app does.
os.environ.setdefault("ALEXNET_GUI_WORKER_HOST", "thread")
# Torch classifies unless a test asks for ONNX Runtime (the engine tests do): exporting
# AlexNet takes seconds, and each test has a cache folder of its own.
os.environ.setdefault("ALEXNET_GUI_ENGINE", "torch")


import pytest  # noqa: E402

# A test fails when a paint it caused raises, even one still pending when it ends (see qt_checks).
from qt_checks import pytest_runtest_call  # noqa: E402, F401 - a hook: registered by its name here


def pytest_configure(config):
    # ALEXNET_GUI_TEST_THREADS=16 runs the suite's torch work on 16 threads (or 1, 2, ...),
    # as another machine would: tests that compare two float paths must hold on any count.
    # Unset, torch is not imported here and keeps its own default.
    threads = os.environ.get("ALEXNET_GUI_TEST_THREADS")
    if threads:
        import torch

        torch.set_num_threads(int(threads))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own torch hub dir and cache dir: the user's real
    ``~/.cache`` and torch hub checkpoints are never read or written."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    hub = getattr(sys.modules.get("torch"), "hub", None)
    if hub is not None:
        # undo a torch.hub.set_dir() made elsewhere, so TORCH_HOME is what counts;
        # torch is not imported here, so tests of lazy importing stay meaningful
        monkeypatch.setattr(hub, "_hub_dir", None)
    return tmp_path


@pytest.fixture
def two_threads():
    """torch on 2 CPU threads for the test (whatever ALEXNET_GUI_TEST_THREADS set), then as before."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(before)


@pytest.fixture
def no_modal_dialogs(monkeypatch):
    """Modal warnings are recorded instead of blocking the test: the list of their texts."""
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2] if len(a) > 2 else ""))
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2] if len(a) > 2 else ""))
    return shown


def pytest_sessionfinish(session, exitstatus):
    # Data left on Qt's offscreen clipboard crashes its teardown at interpreter exit.
    if "PySide6.QtGui" in sys.modules:
        from PySide6.QtGui import QGuiApplication

        if isinstance(QGuiApplication.instance(), QGuiApplication):  # not a bare QCoreApplication
            QGuiApplication.clipboard().clear()
