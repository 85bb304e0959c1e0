"""Synthesised user events for window tests."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication


def file_urls(paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter(window, paths) -> None:
    """``file:`` URLs dragged into the middle of ``window`` (not dropped yet)."""
    pos = QPointF(window.width() / 2, window.height() / 2)
    mime = file_urls(paths)  # kept alive while the event is handled: the event does not own it
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()


def drag_leave(window) -> None:
    QApplication.sendEvent(window, QDragLeaveEvent())


def drop_only(window, paths) -> None:
    """The drop that ends a drag already over the window (see ``drag_enter``)."""
    pos = QPointF(window.width() / 2, window.height() / 2)
    mime = file_urls(paths)
    ev = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, ev)


def drop(window, paths) -> None:
    """A drag-enter then a drop of ``file:`` URLs in the middle of ``window``, as a file manager sends them."""
    drag_enter(window, paths)
    drop_only(window, paths)
