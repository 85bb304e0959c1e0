"""The model in a process of its own, as the app runs it: the window's process never
imports torch, survives the worker's death (it restarts it with the same model), stops
it on closing, and leaves no orphan, even when the window itself is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from window_events import drop

pytestmark = [pytest.mark.usefixtures("no_modal_dialogs"),
              pytest.mark.skipif(sys.platform == "win32", reason="kills with POSIX signals")]

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def process_window(make_window, monkeypatch):
    """make_window, with the model in a spawned worker process as the app has it."""
    monkeypatch.setenv("ALEXNET_GUI_WORKER_HOST", "process")
    return make_window


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped (in a container nobody may reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def kill_worker(window) -> int:
    pid = window.client.pid
    assert pid and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    return pid


def test_the_model_runs_in_another_process_and_answers_a_drop(process_window, image_dir, qtbot):
    window = process_window()
    assert window.client.pid not in (None, os.getpid()) and alive(window.client.pid)
    img = image_dir(1) / "img000.png"
    drop(window, [img])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=60000)


def test_a_killed_worker_fails_the_running_folder_and_comes_back_with_the_same_model(
        process_window, image_dir, qtbot):
    window = process_window()
    view = window.classify_view
    first_info = window.model_info
    stopped, failed = [], []
    window.client.events.worker_stopped.connect(stopped.append)
    window.client.events.job_failed.connect(lambda job, message: failed.append(message))
    drop(window, [image_dir(200, size=(64, 64))])
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=60000)
    old = kill_worker(window)  # mid-classify
    qtbot.waitUntil(lambda: bool(stopped), timeout=30000)
    assert "stopped (killed by signal 9)" in stopped[0] and "restarting" in stopped[0]
    assert any("the model process stopped" in m for m in failed)
    qtbot.waitUntil(lambda: not view.batch_running(), timeout=30000)
    # a new worker, with the same weights and device
    with qtbot.waitSignal(window.client.events.model_loaded, timeout=120000) as loaded:
        pass
    assert window.client.pid != old and not alive(old)
    info = loaded.args[0]
    assert (info.sha256, info.device_spec) == (first_info.sha256, first_info.device_spec)
    img = image_dir(1, name="after") / "img000.png"
    drop(window, [img])
    qtbot.waitUntil(lambda: view.images.entry_for(str(img)) is not None
                    and view.images.entry_for(str(img)).status == "done", timeout=60000)


def test_a_second_death_within_a_minute_stops_the_restarting(process_window, qtbot):
    window = process_window()
    stopped = []
    window.client.events.worker_stopped.connect(stopped.append)
    window.client.crash_worker(70)
    qtbot.waitUntil(lambda: len(stopped) == 1, timeout=30000)
    assert "exit code 70" in stopped[0]
    qtbot.waitUntil(lambda: window.client.pid is not None and window.client.is_running(), timeout=60000)
    with qtbot.waitSignal(window.client.events.model_loaded, timeout=120000):
        pass
    window.client.crash_worker(71)
    qtbot.waitUntil(lambda: len(stopped) == 2, timeout=30000)
    assert "again" in stopped[1] and "not restarting" in stopped[1]
    assert not window.client.is_running()
    assert "not restarting" in window.statusBar().currentMessage()


def test_a_killed_worker_mid_fine_tune_ends_the_run_as_failed(process_window, tmp_path, qtbot):
    from PIL import Image

    window = process_window()
    folder = tmp_path / "pets"
    for k, name in enumerate(("cats", "dogs")):
        (folder / name).mkdir(parents=True)
        for i in range(40):
            Image.new("RGB", (64, 64), (40 * k + i, 100, 200 - i)).save(folder / name / f"{i}.png")
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    with qtbot.waitSignal(view.health_report_shown, timeout=60000):
        view.set_folder(str(folder))
    view.set_settings(epochs=200)
    ended = []
    view.run_ended.connect(ended.append)
    with qtbot.waitSignal(view.progress_shown, timeout=60000):
        assert view.start()
    kill_worker(window)
    qtbot.waitUntil(lambda: bool(ended), timeout=30000)
    assert ended == ["failed"]
    assert "the model process stopped" in view.message_label.text()
    assert not list(tmp_path.rglob("*.pth")) and not list(tmp_path.rglob("*.tmp"))


def test_closing_the_window_stops_the_worker_within_two_seconds(process_window, image_dir, qtbot):
    window = process_window()
    pid = window.client.pid
    drop(window, [image_dir(200, size=(64, 64))])
    qtbot.waitUntil(lambda: window.classify_view.progress.value() > 0, timeout=60000)
    t0 = time.monotonic()
    window.close()
    assert not alive(pid) or not window.client.is_running()
    assert time.monotonic() - t0 < 5  # shutdown waits 2 s at most before it terminates
    qtbot.waitUntil(lambda: not alive(pid), timeout=5000)


APP = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QTimer
    from alexnet_gui.app import create_window

    window = create_window(["--weights", sys.argv[1], "--device", "cpu"])
    window.show()

    def loaded(info):
        window.client.events.model_loaded.disconnect(loaded)
        window.open_paths([sys.argv[2]])
        QTimer.singleShot(0, visit)

    def visit():
        # every tab, as a user looks around: Model's table, Filters, Feature maps, Fine-tune, Explain
        for i in range(window.tabs.count()):
            window.tabs.setCurrentIndex(i)
        window.feature_maps_view.features_shown.connect(lambda *_: report("features"))
        window.explain_view.shown.connect(lambda *_: report("explain"))

    drawn = set()

    def report(what):
        drawn.add(what)
        if drawn == {"features", "explain"}:  # a feature map grid and a heat map are on screen
            print(json.dumps({"worker": window.client.pid, "torch_here": "torch" in sys.modules,
                              "rows": window.model_view.table.rowCount(), "drawn": sorted(drawn)}), flush=True)

    window.client.events.model_loaded.connect(loaded)
    from PySide6.QtWidgets import QApplication
    QApplication.instance().exec()
""")


def test_a_window_killed_with_sigkill_leaves_no_worker_behind(seeded_weights, tmp_path):
    env = {**os.environ, "ALEXNET_GUI_WORKER_HOST": "process", "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (320, 240), (200, 120, 40)).save(photo)
    app = subprocess.Popen([sys.executable, "-c", APP, str(seeded_weights), str(photo)], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, text=True)
    try:
        line = app.stdout.readline()
        assert line, "the app did not report its worker"
        report = json.loads(line)
        worker = report["worker"]
        assert alive(worker)
        # the window's process never imported torch, with every tab shown, feature maps and a heat map drawn
        assert report["torch_here"] is False and report["rows"] == 21 and report["drawn"] == ["explain", "features"]
    finally:
        app.kill()
        app.wait(10)
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling another process's life: no signal to wait on here
    assert not alive(worker), "the worker outlived its window"


def test_the_worker_process_moves_to_onnxruntime_once_its_graph_passed(process_window, image_dir, qtbot,
                                                                        monkeypatch, tmp_path):
    """The worker is a daemonic process; the graph is exported by a child of its own, which
    multiprocessing refuses in a daemonic process unless the worker says otherwise."""
    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "onnxruntime")
    window = process_window()
    changes = []
    window.client.events.engine_changed.connect(changes.append)
    qtbot.waitUntil(lambda: any(c.ready for c in changes), timeout=120000)
    last = changes[-1]
    assert last.engine == "onnxruntime", last.reason
    drop(window, [image_dir(1) / "img000.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=60000)
