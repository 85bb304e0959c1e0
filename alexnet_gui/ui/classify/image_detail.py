"""The selected image of the Classify view: large preview, name and size, its top-k as bars."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..qtutil import set_text
from .prediction_bars import PredictionBarsWidget

AGAIN_HINT = "select it and use Edit › Classify again, or right-click it"


class ImageDetailWidget(QWidget):
    """Shows one ``ImageEntry`` (``image_list_model``), whatever its state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None  # the preview at full size, rescaled on resize
        self.preview = QLabel("No image selected")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(240, 200)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setAccessibleName("Selected image")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.bars = PredictionBarsWidget("Top-5")
        self.compare_bars = PredictionBarsWidget("Base model (ImageNet)")
        self.compare_bars.hide()
        bars_row = QHBoxLayout()
        bars_row.addWidget(self.bars)
        bars_row.addWidget(self.compare_bars)
        layout = QVBoxLayout(self)
        layout.addWidget(self.preview, 3)
        layout.addWidget(self.caption)
        layout.addLayout(bars_row, 2)

    def show_entry(self, e, compare: bool) -> None:
        """``e`` None: nothing selected."""
        if e is None:
            self._set_preview_text("No image selected")
            self.caption.clear()
            self.bars.clear()
            self.compare_bars.clear()
            return
        if e.preview is not None:
            self._set_preview(QPixmap.fromImage(e.preview))
        elif e.preview_error is not None:
            self._set_preview_text(f"No preview: {e.preview_error.split(': ', 1)[-1]}")
        elif e.icon is not None:
            self._set_preview(e.icon.pixmap(64, 64))
        elif e.status == "error":  # nothing to draw: the reason in its place
            self._set_preview_text(f"⚠ {e.name}\n{(e.error or 'failed').split(': ', 1)[-1]}")
        elif e.status == "cancelled":
            self._set_preview_text(f"{e.name}\nnot classified ({e.stopped})")
        else:
            self._set_preview_text("…")
        if e.status == "cancelled":
            set_text(self.caption, e.name)
            self.bars.clear(f"Not classified ({e.stopped}): {AGAIN_HINT}")
            self.compare_bars.clear()
            return
        if e.result is None:
            set_text(self.caption, e.name)
            self.bars.clear("classifying…")
            return
        size = e.result.size
        set_text(self.caption, e.name + (f" — {size[0]}×{size[1]}" if size else ""))
        self.bars.show_prediction(e.result.prediction)
        self.compare_bars.show_prediction(e.result.compare if compare else None)

    def _set_preview_text(self, text: str) -> None:
        self._pixmap = None  # a resize must not bring the last picture back
        self.preview.setPixmap(QPixmap())
        self.preview.setText(text)

    def _set_preview(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._pixmap is not None and not self._pixmap.isNull():
            self._set_preview(self._pixmap)
