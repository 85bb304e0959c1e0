"""The Camera tab, driven from a generated video file (CI has no camera): frames reach the
model and the top-5 updates, capture writes readable files into the chosen class and joins
Fine-tune's added list, a busy model drops frames instead of queueing them, and without a
camera the tab says so."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest
from PIL import Image
from video_files import write_mjpeg_avi

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def frames(n: int, size=(320, 240)):
    """A red disc moving over a blue-green gradient: every frame different."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 90)], -1).astype(np.uint8)
    out = []
    for i in range(n):
        img = base.copy()
        cx, cy = (i * 7) % w, h // 2
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 40**2] = (220, 30, 30)
        out.append(Image.fromarray(img))
    return out


def resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def video(tmp_path):
    return write_mjpeg_avi(tmp_path / "clip.avi", frames(60), fps=30)


def test_video_frames_are_classified_and_captured(make_window, qtbot, tmp_path, video):
    window = make_window()
    view = window.camera_view
    window.tabs.setCurrentWidget(view)
    assert view.prepare(), view.unavailable
    dataset = tmp_path / "dataset"
    (dataset / "cats").mkdir(parents=True)
    view.choose_folder(str(dataset))
    assert window.finetune_view.folder == str(dataset)  # Fine-tune learns from what is captured
    assert view.open_video(str(video), loop=True)
    qtbot.waitUntil(lambda: view.feed.answered >= 3, timeout=30000)
    assert len(view.bars.texts()) == 5  # the top-5 of a frame
    qtbot.waitUntil(lambda: "classified" in view.rate_label.text(), timeout=5000)  # the achieved rate

    # Capture: hold the button, frames are saved at the set rate into the class typed in.
    view.class_box.setEditText("discs")
    view.rate_box.setValue(10)
    view.record_button.pressed.emit()
    qtbot.waitUntil(lambda: view.recorder.count >= 4, timeout=20000)
    with qtbot.waitSignal(view.capture_ended, timeout=5000) as ended:
        view.record_button.released.emit()
    n = ended.args[0]
    saved = sorted((dataset / "discs").iterdir())
    assert len(saved) == n == view.recorder.count
    for path in saved:
        with Image.open(path) as im:
            assert im.size == (320, 240)
            im.load()
    added = window.finetune_view.corrections.added
    assert [a.copy for a in added] == [str(p) for p in saved]  # each can be undone, and retrained with
    assert f"{n} frames saved into discs/" in view.counter.text()
    view.stop()
    assert not view.source.running


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads the resident size from /proc")
def test_a_busy_model_drops_frames_instead_of_queueing(make_window, qtbot, tmp_path):
    from PySide6.QtGui import QImage
    from PySide6.QtMultimedia import QVideoFrame

    window = make_window()
    view = window.camera_view
    feed = view.feed
    release = tmp_path / "release"
    window.client.hold_worker(release)  # the model is busy, as during a long step
    image = QImage(640, 480, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    sent = []
    real_send = window.client.classify_frame
    window.client.classify_frame = lambda frame: sent.append(frame.shape) or real_send(frame)
    view.push_frame(QVideoFrame(image))  # goes to the model, which is held
    tracemalloc.start()
    before, rss_before = tracemalloc.take_snapshot(), resident_bytes()
    for _ in range(1000):
        view.push_frame(QVideoFrame(image))
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert len(sent) == 1 and feed.dropped == 999  # one at the model, one waiting, the rest dropped
    # Flat: 1,000 frames of 1.2 MB each (1.2 GB) did not pile up, in Python or in Qt's memory.
    assert grown < 1_000_000 and resident_bytes() - rss_before < 100_000_000
    release.touch()
    # The model answers the held frame, then the newest waiting one; nothing else was queued.
    qtbot.waitUntil(lambda: feed.answered == 2 and feed.in_flight is None, timeout=30000)
    assert sent == [(480, 640, 3)] * 2
    assert len(view.bars.texts()) == 5


def test_without_a_camera_the_tab_says_so(make_window, qtbot, monkeypatch):
    from alexnet_gui.ui.camera import camera_source
    from alexnet_gui.ui.camera.camera_view import NO_CAMERA

    monkeypatch.setattr(camera_source, "cameras", lambda: [])
    window = make_window()
    view = window.camera_view
    window.tabs.setCurrentWidget(view)
    assert view.prepare()
    assert view.display.message == NO_CAMERA
    assert not view.start_button.isEnabled() and not view.start_camera()
    assert view.video_button.isEnabled()
    # The rest of the app as before.
    window.tabs.setCurrentWidget(window.classify_view)
    assert window.classify_view.isVisible()


def test_without_qt_multimedia_the_tab_says_why(make_window, qtbot, monkeypatch):
    from alexnet_gui.ui.camera import camera_source

    monkeypatch.setattr(camera_source, "available", lambda: "Qt Multimedia cannot load here (libpulse.so.0)")
    window = make_window()
    view = window.camera_view
    window.tabs.setCurrentWidget(view)
    assert not view.prepare()
    assert "libpulse" in view.display.message and not view.video_button.isEnabled()


def test_a_frame_shown_recorded_and_sent_is_converted_once(make_window, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    class CountingFrame:  # a QVideoFrame's one method the tab uses
        conversions = 0

        def __init__(self, image: QImage) -> None:
            self.image = image

        def toImage(self) -> QImage:  # noqa: N802 - Qt's name
            CountingFrame.conversions += 1
            return self.image

    window = make_window()
    view = window.camera_view
    sent = []
    monkeypatch.setattr(view.client, "classify_frame", lambda rgb: sent.append(rgb) or _HeldJob())
    assert view.recorder.start(str(tmp_path), "discs", 10)
    image = QImage(64, 48, QImage.Format.Format_RGB888)
    image.fill(0x336699)
    view.push_frame(CountingFrame(image))
    assert view.display.image is not None and view.recorder.count == 1 and len(sent) == 1
    assert CountingFrame.conversions == 1


class _HeldJob:
    """A frame job that never answers (the model busy)."""

    class _Signal:
        def connect(self, _slot) -> None:
            pass

    partial = failed = ended = _Signal()

    def cancel(self) -> None:
        pass
