"""Drop support: the highlight shown while dragging, and paths from mime data."""

from __future__ import annotations

import os
from urllib.parse import unquote_to_bytes

from PySide6.QtCore import Qt, QUrl
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
