"""One explanation on screen: the core's picture (crop, heat map at an opacity, colour
scale), scaled to fit, and a line saying what it shows."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..qtutil import array_to_qimage, make_label, set_text


class ExplainPane(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explanation = None  # core.explain.Explanation shown, or None
        self.rgb: np.ndarray | None = None  # the picture shown, as the core drew it
        self._pixmap: QPixmap | None = None
        self.title = QLabel(f"<b>{title}</b>")
        self.picture = QLabel("No explanation yet")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(270, 240)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setAccessibleName(f"{title}: heat map")
        self.caption = make_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)

    def set_title(self, title: str) -> None:
        self.title.setText(f"<b>{title}</b>")

    def show_explanation(self, e, opacity: float) -> None:
        from ...core.explain.picture import explanation_picture

        self.explanation = e
        self.rgb = explanation_picture(e, opacity)
        self._set_pixmap(QPixmap.fromImage(array_to_qimage(self.rgb)))
        peak_y, peak_x = e.peak_in_image
        set_text(self.caption, f"{e.target.label} ({e.target.probability * 100:.1f} %), {e.title}; "
                               f"strongest at x={peak_x}, y={peak_y} of the image; {e.model}")
        self.picture.setAccessibleDescription(self.caption.text())

    def set_opacity(self, opacity: float) -> None:
        if self.explanation is not None:
            self.show_explanation(self.explanation, opacity)

    def show_message(self, text: str) -> None:
        """No picture, ``text`` in its place (working, failed, nothing selected)."""
        self.explanation, self.rgb, self._pixmap = None, None, None
        self.picture.setPixmap(QPixmap())
        self.picture.setText(text)
        set_text(self.caption, "")

    def message(self) -> str:
        return self.picture.text() if self.rgb is None else ""

    def _set_pixmap(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self.picture.setText("")
        size = self.picture.size()
        if pixmap.width() > size.width() or pixmap.height() > size.height():
            pixmap = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.picture.setPixmap(pixmap)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._pixmap is not None:
            self._set_pixmap(self._pixmap)
