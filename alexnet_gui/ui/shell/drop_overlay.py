"""Drop support: the highlight shown while dragging, and paths from mime data."""

from __future__ import annotations

import os
from urllib.parse import unquote_to_bytes

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import QLabel, QWidget


def paths_from_mime(mime) -> list[str]:
    """Local file paths from dragged/pasted URLs (non-local URLs are ignored)."""
    if mime is None or not mime.hasUrls():
        return []
    return [local_path(u) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def local_path(url: QUrl) -> str:
    """The file a ``file:`` URL names, also when its name is not UTF-8.

    ``toLocalFile()`` decodes the URL's %-escapes as UTF-8 and turns other bytes
    (a Latin-1 name: ``caf%E9.png``) into U+FFFD, naming a file that does not
    exist. The escaped bytes themselves are the name: decoded the way Python
    decodes file names, they open the file."""
    path = url.toLocalFile()
    if "\ufffd" in path and os.name == "posix" and not url.host():
        raw = unquote_to_bytes(url.path(QUrl.ComponentFormattingOption.FullyEncoded))
        path = os.fsdecode(raw)
    return path


class DropOverlayWidget(QWidget):
    """While files are dragged over the window: a dashed frame round it and a "Drop to open"
    badge in the middle, the window still visible between them.

    Only the frame and the badge are part of the widget (a mask), so hiding it at the drop
    repaints those strips, not the whole window under a full panel: 0.9 ms instead of 3 ms
    on two cores, while the worker is decoding the dropped image."""

    FRAME = 6  # px of the frame kept by the mask: the 3 px dashed border and a margin

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("drop-overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)  # draws the style sheet's border
        # Palette roles, not colours: follows the light/dark scheme.
        self.setStyleSheet("#drop-overlay { border: 3px dashed palette(highlight); border-radius: 12px; }")
        self.badge = QLabel("Drop to open", self)
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setStyleSheet(
            "QLabel { background: palette(base); color: palette(highlight); border: 2px solid palette(highlight);"
            " border-radius: 10px; padding: 12px 28px; font-size: 22pt; }"
        )
        self.setAccessibleName("Drop to open")
        self.hide()

    def text(self) -> str:
        return self.badge.text()

    def show_over(self, widget: QWidget) -> None:
        self.setGeometry(widget.rect().adjusted(8, 8, -8, -8))
        self.badge.adjustSize()
        self.badge.move(self.rect().center() - self.badge.rect().center())
        r = self.rect()
        frame = QRegion(r).subtracted(QRegion(r.adjusted(self.FRAME, self.FRAME, -self.FRAME, -self.FRAME)))
        self.setMask(frame.united(QRegion(self.badge.geometry())))
        self.raise_()
        self.show()
