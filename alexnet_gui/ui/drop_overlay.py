"""Drop support: the highlight shown while dragging, and paths from mime data."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def paths_from_mime(mime) -> list[str]:
    """Local file paths from dragged/pasted URLs (non-local URLs are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class DropOverlayWidget(QLabel):
    """A translucent, outlined panel over the window while files are dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Drop to open", parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        # Palette roles, not colours: follows the light/dark scheme.
        self.setStyleSheet(
            "QLabel { border: 3px dashed palette(highlight); border-radius: 12px;"
            " background: palette(base); color: palette(highlight); font-size: 22pt; }"
        )
        self.setAccessibleName("Drop to open")
        self.hide()

    def show_over(self, widget: QWidget) -> None:
        self.setGeometry(widget.rect().adjusted(8, 8, -8, -8))
        self.raise_()
        self.show()
