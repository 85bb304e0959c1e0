"""The list of opened images: path, thumbnail, status, top-1 — a Qt item model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap

from .imaging import array_to_qimage

PathRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2
ErrorRole = Qt.ItemDataRole.UserRole + 3


@dataclass
class ImageEntry:
    path: str
    status: str = "queued"  # "queued" | "done" | "error"
    result: Any = None  # ui.results.ImageResult
    icon: QIcon | None = None
    preview: QImage | None = None
    preview_error: str | None = None  # why no preview could be made (the file went away)

    @property
    def error(self) -> str | None:
        return self.result.prediction.error if self.result is not None else None

    @cached_property
    def name(self) -> str:
        return Path(self.path).name

    def summary(self) -> str:  # called for every paint of the list: no path parsing here
        name = self.name
        if self.status == "queued":
            return f"{name}\nwaiting…"
        if self.status == "error":
            reason = self.error or "failed"
            return f"{name}\n⚠ {reason.split(': ', 1)[-1]}"
        top = self.result.prediction.top[0]
        return f"{name}\n{top.label} — {top.probability * 100:.1f} %"


class ImageListModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[ImageEntry] = []
        self._rows: dict[str, int] = {}

    # -- Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return e.summary()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return e.summary().replace("\n", ": ")
        if role == Qt.ItemDataRole.ToolTipRole:
            return e.error if e.status == "error" else e.path
        if role == Qt.ItemDataRole.DecorationRole:
            return e.icon
        if role == PathRole:
            return e.path
        if role == StatusRole:
            return e.status
        if role == ErrorRole:
            return e.error
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(200, 72)
        return None

    # -- our API
    def add_paths(self, paths: list[str]) -> list[str]:
        """Append paths not already listed (re-dropping one re-queues it); returns those to classify."""
        new = [p for p in paths if p not in self._rows]
        for p in paths:
            if p in self._rows:
                self.update_status(p, "queued")
        if new:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for p in new:
                self._rows[p] = len(self._entries)
                self._entries.append(ImageEntry(p))
            self.endInsertRows()
        return list(paths)

    def update_status(self, path: str, status: str) -> None:
        row = self._rows.get(path)
        if row is not None:
            self._entries[row].status = status
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)

    def set_result(self, result) -> None:
        row = self._rows.get(result.path)
        if row is None:
            return
        e = self._entries[row]
        e.result = result
        e.status = "done" if result.prediction.ok else "error"
        self._set_pictures(row, result.thumbnail, result.preview)

    def set_pictures(self, result) -> None:
        """A ``PicturesResult``: the thumbnail and preview made without a forward pass."""
        row = self._rows.get(result.path)
        if row is not None:
            self._entries[row].preview_error = result.error
            self._set_pictures(row, result.thumbnail, result.preview)

    def _set_pictures(self, row: int, thumbnail, preview) -> None:
        e = self._entries[row]
        if thumbnail is not None:
            e.icon = QIcon(QPixmap.fromImage(array_to_qimage(thumbnail)))
        if preview is not None:
            e.preview = array_to_qimage(preview)
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def entry(self, row: int) -> ImageEntry:
        return self._entries[row]

    def entry_for(self, path: str) -> ImageEntry | None:
        row = self._rows.get(path)
        return None if row is None else self._entries[row]

    def row_of(self, path: str) -> int:
        return self._rows.get(path, -1)

    def entries(self) -> list[ImageEntry]:
        return list(self._entries)

    def clear(self) -> None:
        self.beginResetModel()
        self._entries.clear()
        self._rows.clear()
        self.endResetModel()

    def mark_cancelled(self) -> None:
        for e in self._entries:
            if e.status == "queued":
                e.status = "cancelled"
        if self._entries:
            self.dataChanged.emit(self.index(0), self.index(len(self._entries) - 1))
