"""Where frames come from: a camera (QCamera) or a video file (QMediaPlayer), both into
one QVideoSink whose frames ``frame`` hands on.

Qt Multimedia is imported when first needed (the Camera tab shown), not at start-up;
when it cannot load (a missing system library) ``available()`` says why and the
tab shows that instead of a camera.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal

QUIET = "qt.multimedia.symbolsresolver=false"  # which optional system libraries it looked for


def multimedia():
    """The QtMultimedia module, or an ImportError saying why it cannot load."""
    from PySide6.QtCore import QLoggingCategory

    QLoggingCategory.setFilterRules(QUIET)
    from PySide6 import QtMultimedia

    return QtMultimedia


def available() -> str | None:
    """None when Qt Multimedia loads; else why not, in words."""
    try:
        multimedia()
    except ImportError as exc:
        return f"Qt Multimedia cannot load here ({exc})"
    return None


def cameras() -> list:
    """The cameras connected now (QCameraDevice), the default first."""
    mm = multimedia()
    devices = list(mm.QMediaDevices.videoInputs())
    default = mm.QMediaDevices.defaultVideoInput()
    devices.sort(key=lambda d: d.id() != default.id())
    return devices


class CameraSource(QObject):
    frame = Signal(object)  # QVideoFrame
    error = Signal(str)
    running_changed = Signal(bool)
    ended = Signal()  # a video file played to its end

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        mm = multimedia()
        self._mm = mm
        self.sink = mm.QVideoSink(self)
        self.sink.videoFrameChanged.connect(self._on_frame)
        self.session = None
        self.camera = None
        self.player = None
        self.description = ""  # the camera's name, or the video file's
        self.running = False

    def open_camera(self, device) -> None:
        """Start ``device`` (a QCameraDevice)."""
        self.stop()
        mm = self._mm
        self.camera = mm.QCamera(device, self)
        self.camera.errorOccurred.connect(lambda _e, text: self._fail(f"Camera: {text}"))
        self.session = mm.QMediaCaptureSession(self)
        self.session.setCamera(self.camera)
        self.session.setVideoSink(self.sink)
        self.description = device.description()
        self.camera.start()
        self._set_running(True)

    def open_video(self, path: str, rate: float = 1.0, loop: bool = False) -> None:
        """Play the video file ``path`` into the same frame path (``rate``: playback speed)."""
        self.stop()
        mm = self._mm
        self.player = mm.QMediaPlayer(self)
        self.player.setVideoOutput(self.sink)
        self.player.errorOccurred.connect(lambda _e, text: self._fail(f"Video: {text}"))
        self.player.mediaStatusChanged.connect(self._on_media_status)
        if loop:
            self.player.setLoops(mm.QMediaPlayer.Loops.Infinite)
        self.player.setPlaybackRate(rate)
        self.player.setSource(QUrl.fromLocalFile(path))
        self.description = Path(path).name
        self.player.play()
        self._set_running(True)

    def stop(self) -> None:
        if self.camera is not None:
            self.camera.stop()
            self.camera.deleteLater()
            self.camera = None
        if self.session is not None:
            self.session.deleteLater()
            self.session = None
        if self.player is not None:
            self.player.stop()
            self.player.setVideoOutput(None)
            self.player.deleteLater()
            self.player = None
        self._set_running(False)

    def _on_frame(self, frame) -> None:
        if self.running and frame.isValid():
            self.frame.emit(frame)

    def _on_media_status(self, status) -> None:
        if status == self._mm.QMediaPlayer.MediaStatus.EndOfMedia:
            self._set_running(False)
            self.ended.emit()
        elif status == self._mm.QMediaPlayer.MediaStatus.InvalidMedia:
            self._fail("Video: the file cannot be played")

    def _fail(self, text: str) -> None:
        self.stop()
        self.error.emit(text)

    def _set_running(self, on: bool) -> None:
        if on != self.running:
            self.running = on
            self.running_changed.emit(on)
