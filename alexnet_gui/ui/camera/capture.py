"""Capture into a class: while recording, the newest frame is saved every 1/rate s.

Each frame is encoded as a JPEG and written into ``DATASET/<class>/`` under a
new name (``core.audit.corrections.save_into_class``: created exclusively, never
over another file), so it can be undone like a corrected image, and the next
retrain learns from it.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal

from ...core.audit.corrections import CorrectionError, checked_class_name, save_into_class
from .frame_feed import frame_image

JPEG_QUALITY = 92
DEFAULT_RATE = 4.0  # frames saved per second while recording
MAX_RATE = 15.0


def jpeg_bytes(image, quality: int = JPEG_QUALITY) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "JPG", quality)
    buffer.close()
    return bytes(data.data())


class CaptureRecorder(QObject):
    captured = Signal(object)  # core.audit.corrections.AddedImage
    failed = Signal(str)  # why recording stopped
    recording_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: str | None = None
        self.class_name = ""
        self.rate = DEFAULT_RATE
        self.recording = False
        self.count = 0  # frames saved in this recording
        self._last = 0.0

    def start(self, dataset: str | None, class_name: str, rate: float) -> bool:
        """Record into ``dataset/<class_name>/``; False (after ``failed``) when it cannot."""
        if not dataset:
            self.failed.emit("Choose the folder to capture into first.")
            return False
        try:
            self.class_name = checked_class_name(class_name)
        except CorrectionError as exc:
            self.failed.emit(f"Class: {exc}.")
            return False
        self.dataset, self.rate = dataset, max(0.1, min(float(rate), MAX_RATE))
        self.count, self._last, self.recording = 0, 0.0, True
        self.recording_changed.emit(True)
        return True

    def stop(self) -> None:
        if self.recording:
            self.recording = False
            self.recording_changed.emit(False)

    def offer(self, frame, now: float | None = None) -> bool:
        """A new frame: saved when recording and 1/rate has passed since the last one."""
        if not self.recording:
            return False
        now = time.monotonic() if now is None else now
        if self._last and now - self._last < 1.0 / self.rate:
            return False
        image = frame_image(frame)
        if image.isNull():
            return False
        self._last = now
        name = f"camera-{datetime.now():%Y%m%d-%H%M%S}-{self.count + 1:03d}.jpg"
        try:
            added = save_into_class(self.dataset, jpeg_bytes(image), self.class_name, name, source="camera")
        except CorrectionError as exc:
            self.stop()
            self.failed.emit(str(exc))
            return False
        self.count += 1
        self.captured.emit(added)
        return True
