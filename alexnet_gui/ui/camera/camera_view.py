"""The Camera tab: classify a camera's stream live, and capture frames into a class.

A camera (or a video file) feeds ``FrameFeed``: the newest frame goes to the
worker whenever it is free, frames that come meanwhile are dropped (never
queued), and the top-5 and the achieved rates update as answers come. Holding
"Hold to record" saves frames at the chosen rate into a class folder of the
fine-tune folder (``CaptureRecorder``); each saved frame joins Fine-tune's
added list, to undo or to retrain with. Without a camera the tab says so and
offers a video file; the rest of the app is unaffected.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.engine import engine_label
from ...core.untrained import UNTRAINED_WARNING
from ..classify.prediction_bars import PredictionBarsWidget
from ..qtutil import make_label, refill_keeping_text, set_text
from . import camera_source
from .capture import DEFAULT_RATE, MAX_RATE, CaptureRecorder
from .frame_display import FrameDisplay
from .frame_feed import FrameFeed, SourceFrame, frame_image

DISPLAY_INTERVAL_S = 1 / 30  # the picture is redrawn at most this often
STATS_INTERVAL_MS = 250
VIDEO_FILTER = "Videos (*.mp4 *.mkv *.webm *.avi *.mov *.m4v);;All files (*)"
NO_CAMERA = ("No camera found. Connect one (it appears in the list when plugged in), "
             "or open a video file to classify its frames.")


class CameraView(QWidget):
    folder_chosen = Signal(str)  # the user picked a folder to capture into: Fine-tune uses it too
    captured = Signal(object)  # AddedImage: a frame saved into a class
    capture_ended = Signal(int)  # frames saved by the recording that just ended

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = ctx.client
        self.dataset: str | None = None
        self.source = None  # CameraSource, made when the tab is first shown
        self.unavailable: str | None = None  # why Qt Multimedia cannot run here
        self._shown_at = 0.0
        self._engine = ""
        self.feed = FrameFeed(self.client, self)
        self.recorder = CaptureRecorder(self)
        self._build()
        self._connect()
        self._stats_timer = QTimer(self, interval=STATS_INTERVAL_MS)
        self._stats_timer.timeout.connect(self._show_stats)

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        self.camera_box = QComboBox()
        self.camera_box.setAccessibleName("Camera")
        self.camera_box.setToolTip("The camera to classify (the list follows what is plugged in)")
        self.camera_box.setMinimumContentsLength(24)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start or stop the camera chosen")
        self.video_button = QPushButton("Open video file…")
        self.video_button.setToolTip("Classify a video file's frames, as a camera's")
        top = QHBoxLayout()
        for w in (self.camera_box, self.start_button, self.video_button):
            top.addWidget(w)
        top.addStretch(1)
        self.display = FrameDisplay()
        self.bars = PredictionBarsWidget("Live top-5")
        self.rate_label = make_label()
        self.message = make_label()
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.bars)
        column.addWidget(self.rate_label)
        column.addWidget(self.message)
        column.addWidget(self._build_capture())
        column.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(self.display)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([640, 380])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def _build_capture(self) -> QGroupBox:
        box = QGroupBox("Capture into a class")
        self.folder_label = make_label("No folder chosen")
        self.folder_button = QPushButton("Folder…")
        self.folder_button.setToolTip("The folder of class subfolders to save frames into (Fine-tune's folder)")
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.setAccessibleName("Capture class")
        self.class_box.setToolTip("The class the frames are saved under: pick one, or type a new name")
        self.rate_box = QDoubleSpinBox()
        self.rate_box.setRange(0.5, MAX_RATE)
        self.rate_box.setSingleStep(0.5)
        self.rate_box.setValue(DEFAULT_RATE)
        self.rate_box.setSuffix(" frames/s")
        self.rate_box.setAccessibleName("Capture rate")
        self.rate_box.setToolTip("How many frames a second are saved while recording")
        self.record_button = QPushButton("Hold to record")
        self.record_button.setToolTip("Hold down (mouse or Space) to save frames into the class")
        self.record_button.setAutoRepeat(False)
        self.counter = make_label()
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        form = QFormLayout(box)
        form.addRow(folder_row)
        form.addRow("Class:", self.class_box)
        form.addRow("Rate:", self.rate_box)
        form.addRow(self.record_button)
        form.addRow(self.counter)
        return box

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.toggle_camera)
        self.video_button.clicked.connect(self.open_video_dialog)
        self.folder_button.clicked.connect(self.choose_folder_dialog)
        self.record_button.pressed.connect(self.start_recording)
        self.record_button.released.connect(self.stop_recording)
        self.feed.prediction_ready.connect(self._on_prediction)
        self.feed.failed.connect(lambda text: set_text(self.message, f"⚠ {text}"))
        self.recorder.captured.connect(self._on_captured)
        self.recorder.failed.connect(lambda text: set_text(self.message, f"⚠ {text}"))
        self.recorder.recording_changed.connect(self._on_recording_changed)
        self.client.events.model_loaded.connect(self._on_model_loaded)
        self.client.events.engine_changed.connect(lambda e: self._set_engine(e.engine))

    # ------------------------------------------------------------ source

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.prepare()

    def prepare(self) -> bool:
        """Load Qt Multimedia and list the cameras (the first time the tab is shown)."""
        if self.source is not None or self.unavailable:
            return self.source is not None
        self.unavailable = camera_source.available()
        if self.unavailable:
            self.display.set_message(f"{self.unavailable}. Classify and the other tabs work as before.")
            for w in (self.camera_box, self.start_button, self.video_button):
                w.setEnabled(False)
            return False
        self.source = camera_source.CameraSource(self)
        self.source.frame.connect(self.push_frame)
        self.source.error.connect(self._on_source_error)
        self.source.running_changed.connect(self._on_running_changed)
        self.source.ended.connect(lambda: self._status("The video ended."))
        camera_source.multimedia().QMediaDevices(self).videoInputsChanged.connect(self.refresh_cameras)
        self.refresh_cameras()
        return True

    def refresh_cameras(self) -> None:
        devices = camera_source.cameras()
        chosen = self.camera_box.currentData()
        self.camera_box.clear()
        for d in devices:
            self.camera_box.addItem(d.description(), d)
        if chosen is not None:
            index = next((i for i, d in enumerate(devices) if d.id() == chosen.id()), -1)
            if index >= 0:
                self.camera_box.setCurrentIndex(index)
        has = bool(devices)
        self.camera_box.setEnabled(has)
        if not has:
            self.camera_box.addItem("No camera found")
        self._update_buttons()
        if self.source is None or not self.source.running:
            self.display.set_message(NO_CAMERA if not has else "Press Start to classify what the camera sees.")

    def toggle_camera(self) -> None:
        if self.source is not None and self.source.running:
            self.stop()
        else:
            self.start_camera()

    def start_camera(self) -> bool:
        if not self.prepare() or self.camera_box.currentData() is None:
            return False
        device = self.camera_box.currentData()
        with_camera_permission(lambda: self._begin(lambda: self.source.open_camera(device)),
                               lambda: self._on_source_error("Camera: access was not allowed (system settings)"))
        return True

    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video to classify", "", VIDEO_FILTER)
        if path:
            self.open_video(path)

    def open_video(self, path: str, rate: float = 1.0, loop: bool = False) -> bool:
        """Classify ``path``'s frames as a camera's (the same frame path)."""
        if not self.prepare():
            return False
        self._begin(lambda: self.source.open_video(path, rate, loop))
        return True

    def _begin(self, start) -> None:
        self.feed.reset()
        set_text(self.message, "")
        self.bars.clear("waiting for the first frame…")
        start()

    def stop(self) -> None:
        self.stop_recording()
        if self.source is not None:
            self.source.stop()

    def _on_running_changed(self, running: bool) -> None:
        self.start_button.setText("Stop" if running else "Start")
        if running:
            self._stats_timer.start()
        else:
            self._stats_timer.stop()
            self.stop_recording()
            self.display.set_image(None)
            self.display.set_message("Stopped. Press Start to classify what the camera sees."
                                     if self.camera_box.currentData() is not None else NO_CAMERA)
        self._show_stats()
        self._update_buttons()

    def _on_source_error(self, text: str) -> None:
        set_text(self.message, f"⚠ {text}")
        self._status(text)

    # ------------------------------------------------------------ frames

    def push_frame(self, frame) -> None:
        """Every frame of the source: shown, offered to the recorder, sent to the model when free
        (converted to a QImage once, by the first of them that needs it)."""
        frame = SourceFrame(frame)
        now = time.monotonic()
        if now - self._shown_at >= DISPLAY_INTERVAL_S:
            self._shown_at = now
            self.display.set_image(frame_image(frame))
        self.recorder.offer(frame, now)
        self.feed.push(frame)

    def _on_prediction(self, prediction) -> None:
        self.bars.show_prediction(prediction)

    def _show_stats(self) -> None:
        f = self.feed
        if not f.received:
            set_text(self.rate_label, "")
            return
        engine = f" with {self._engine}" if self._engine else ""
        each = f" ({f.last_seconds * 1000:.0f} ms each)" if f.answered else ""
        source = (self.source.description if self.source is not None else "") or "Source"
        set_text(self.rate_label,
                 f"{source}: {f.source_rate.rate():.1f} frames/s · classified {f.answer_rate.rate():.1f} frames/s"
                 f"{engine}{each} · {f.dropped} dropped while the model was busy")

    def _on_model_loaded(self, info) -> None:
        self.bars.set_note(None if info.trained else UNTRAINED_WARNING)
        self._set_engine(info.engine)

    def _set_engine(self, engine: str) -> None:
        self._engine = engine_label(engine)

    # ------------------------------------------------------------ capture

    def set_dataset(self, folder: str | None, classes: list[str]) -> None:
        """Where captures go (Fine-tune's folder, its train part) and the classes offered."""
        self.dataset = folder
        refill_keeping_text(self.class_box, classes)
        # The folder's name only (a whole path wraps and is cut in the column); the path in the tooltip.
        set_text(self.folder_label, f"Into {Path(folder).name}/" if folder else "No folder chosen")
        self.folder_label.setToolTip(folder or "")
        self._update_buttons()

    def choose_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to capture into (one subfolder per class)")
        if folder:
            self.choose_folder(folder)

    def choose_folder(self, folder: str) -> None:
        self.set_dataset(folder, sorted(p.name for p in Path(folder).iterdir()
                                        if p.is_dir() and not p.name.startswith(".")))
        self.folder_chosen.emit(folder)

    def start_recording(self) -> bool:
        return self.recorder.start(self.dataset, self.class_box.currentText(), self.rate_box.value())

    def stop_recording(self) -> None:
        self.recorder.stop()

    def _on_captured(self, added) -> None:
        set_text(self.counter, f"{self.recorder.count} frames saved into {added.class_name}/")
        if self.class_box.findText(added.class_name) < 0:
            self.class_box.addItem(added.class_name)
        self.captured.emit(added)

    def _on_recording_changed(self, recording: bool) -> None:
        self.record_button.setText("Recording… (release to stop)" if recording else "Hold to record")
        if not recording and self.recorder.count:
            self._status(f"Saved {self.recorder.count} frames into {self.recorder.class_name}/.")
            self.capture_ended.emit(self.recorder.count)

    def _update_buttons(self) -> None:
        running = self.source is not None and self.source.running
        self.start_button.setEnabled(running or self.camera_box.currentData() is not None)
        self.record_button.setEnabled(running and self.dataset is not None)

    def _status(self, text: str) -> None:
        self.ctx.status(text)

    def on_window_closing(self) -> None:
        self.stop()


def with_camera_permission(then, denied) -> None:
    """Run ``then`` once the system lets the app use the camera (asks where it must: macOS)."""
    from PySide6.QtCore import QCameraPermission

    app = QCoreApplication.instance()
    permission = QCameraPermission()
    status = app.checkPermission(permission)
    if status == Qt.PermissionStatus.Granted:
        then()
    elif status == Qt.PermissionStatus.Denied:
        denied()
    else:
        app.requestPermission(permission, lambda p: then() if app.checkPermission(p) == Qt.PermissionStatus.Granted
                              else denied())


def add_camera_view(window, ctx) -> CameraView:
    """Add the Camera tab to ``window``: captures go into Fine-tune's folder and its added list."""
    view = CameraView(ctx)
    window.add_view(view, "C&amera", "Classify a camera's stream live, and capture frames into a class")
    finetune = window.finetune_view
    finetune.corrections.dataset_changed.connect(view.set_dataset)
    view.folder_chosen.connect(finetune.set_folder)
    view.captured.connect(finetune.corrections.note_added)
    view.capture_ended.connect(lambda _n: finetune.rescan())
    return view
