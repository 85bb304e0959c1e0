"""The camera's frame path: frames in, at most one of them at the model, top-5 out.

``push`` takes every frame the source delivers (a ``QVideoFrame`` or a
``QImage``). While the model is answering one frame, newer frames are not
queued: each replaces the one waiting in a single slot, and a replaced frame
counts as dropped. When the answer comes, the waiting frame (the newest) goes
out at once. So memory stays flat whatever the source's rate, and the top-5 is
never more than one model step behind. A frame is converted (``toImage``) only
when it goes to the model or is shown, never for the frames dropped.

The rates shown are measured over the last ``RATE_WINDOW_S``: frames from the
source and frames answered per second.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

RATE_WINDOW_S = 2.0


class SourceFrame:
    """One frame of the source, converted to a QImage once, on first use: the display, the
    recorder and the model may each want it (``toImage`` is ~1 ms at 640x480)."""

    __slots__ = ("frame", "_image")

    def __init__(self, frame) -> None:
        self.frame = frame
        self._image: QImage | None = None

    def image(self) -> QImage:
        if self._image is None:
            self._image = self.frame if isinstance(self.frame, QImage) else self.frame.toImage()
        return self._image


def frame_image(frame) -> QImage:
    """A QImage of a SourceFrame, a QVideoFrame or a QImage; a null image when it has none."""
    if isinstance(frame, SourceFrame):
        return frame.image()
    if isinstance(frame, QImage):
        return frame
    return frame.toImage()


def image_to_rgb(image: QImage) -> np.ndarray:
    """(h, w, 3) uint8 RGB copy of ``image``."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, : w * 3].reshape(h, w, 3).copy()


class RateMeter:
    """Events per second over the last ``window_s``."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self.times: deque[float] = deque()
        self.count = 0

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.count += 1
        self.times.append(now)
        self._trim(now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._trim(now)
        if len(self.times) < 2:
            return 0.0
        span = max(now - self.times[0], self.times[-1] - self.times[0])
        return (len(self.times) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        self.times.clear()
        self.count = 0

    def _trim(self, now: float) -> None:
        while self.times and now - self.times[0] > self.window_s:
            self.times.popleft()


class FrameFeed(QObject):
    """Sends the newest frame to the model whenever it is free; says what came back."""

    prediction_ready = Signal(object)  # core Prediction of the frame answered
    failed = Signal(str)  # the model could not classify a frame
    stats_changed = Signal()

    def __init__(self, client, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.enabled = True  # False: frames are shown and captured, not classified
        self.in_flight = None  # the Job of the frame at the model
        self.waiting = None  # the newest frame not yet sent (one slot, never a queue)
        self.source_rate = RateMeter()
        self.answer_rate = RateMeter()
        self.dropped = 0
        self.last_seconds = 0.0  # the model's time for the last frame answered

    @property
    def received(self) -> int:
        return self.source_rate.count

    @property
    def answered(self) -> int:
        return self.answer_rate.count

    def push(self, frame) -> None:
        """A new frame from the source."""
        self.source_rate.tick()
        if not self.enabled:
            return
        if self.in_flight is None:
            self._send(frame)
        else:
            if self.waiting is not None:
                self.dropped += 1
            self.waiting = frame
        self.stats_changed.emit()

    def reset(self) -> None:
        """A new source: counts from zero; a frame at the model is let go."""
        if self.in_flight is not None:
            self.in_flight.cancel()
        self.in_flight = self.waiting = None
        self.source_rate.reset()
        self.answer_rate.reset()
        self.dropped = 0
        self.stats_changed.emit()

    def _send(self, frame) -> None:
        image = frame_image(frame)
        if image.isNull():
            self.dropped += 1
            return
        job = self.client.classify_frame(image_to_rgb(image))
        self.in_flight = job
        job.partial.connect(self._on_answer)
        job.failed.connect(self.failed)
        job.ended.connect(lambda j=job: self._on_ended(j))

    def _on_answer(self, prediction) -> None:
        self.answer_rate.tick()
        self.last_seconds = prediction.seconds
        self.prediction_ready.emit(prediction)

    def _on_ended(self, job) -> None:
        if self.in_flight is not job:
            return
        self.in_flight = None
        frame, self.waiting = self.waiting, None
        if frame is not None and self.enabled:
            self._send(frame)
        self.stats_changed.emit()
