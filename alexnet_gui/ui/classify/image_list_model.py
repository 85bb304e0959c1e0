"""The list of opened images: path, thumbnail, status, top-1 — a Qt item model."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap

from ..qtutil import array_to_qimage


@dataclass
class ImageEntry:
    path: str
    # "queued" | "done" | "error" | "cancelled" (its job ended before it; ``stopped`` says why)
    status: str = "queued"
    result: Any = None  # ui.results.ImageResult
    icon: QIcon | None = None
    preview: QImage | None = None
    preview_error: str | None = None  # why no preview could be made (the file went away)
    job: int | None = None  # the job whose answer this row waits for; any other is stale
    stopped: str = "cancelled"  # why a "cancelled" row was not classified

    @property
    def error(self) -> str | None:
        return self.result.prediction.error if self.result is not None else None

    @cached_property
    def name(self) -> str:
        return Path(self.path).name

    def summary(self) -> str:  # called for every paint of the list: no path parsing here
        name = self.name
        if self.status == "error":
            reason = self.error or "failed"
            return f"{name}\n⚠ {reason.split(': ', 1)[-1]}"
        if self.status == "done" and self.result is not None:
            top = self.result.prediction.top[0]
            return f"{name}\n{top.label} — {top.probability * 100:.1f} %"
        if self.status == "cancelled":
            return f"{name}\nnot classified ({self.stopped})"
        return f"{name}\nwaiting…"


class ImageListModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._entries: list[ImageEntry] = []
        self._rows: dict[str, int] = {}

    # -- Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt override
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
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(200, 72)
        return None

    # -- our API
    def queue(self, paths: list[str], job: int) -> None:
        """Rows for ``paths`` (one per path: listed ones are reused), waiting for ``job``."""
        new = list(dict.fromkeys(p for p in paths if p not in self._rows))
        for p in paths:
            if p in self._rows:
                e = self._entries[self._rows[p]]
                e.status, e.job = "queued", job
                self._changed(self._rows[p])
        if new:
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for p in new:
                self._rows[p] = len(self._entries)
                self._entries.append(ImageEntry(p, job=job))
            self.endInsertRows()

    def remove(self, paths) -> list[ImageEntry]:
        """Take the rows of ``paths`` out of the list; returns their entries."""
        rows = sorted({self._rows[p] for p in paths if p in self._rows})
        runs: list[list[int]] = []  # consecutive rows go in one removal
        for row in rows:
            if runs and runs[-1][1] == row - 1:
                runs[-1][1] = row
            else:
                runs.append([row, row])
        removed = [self._entries[r] for r in rows]
        for first, last in reversed(runs):  # from the bottom, so the rows above keep their numbers
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._entries[first:last + 1]
            self._rows = {e.path: i for i, e in enumerate(self._entries)}
            self.endRemoveRows()
        return removed

    def set_result(self, result) -> None:
        row = self._rows.get(result.path)
        if row is None:
            return
        e = self._entries[row]
        e.result = result
        e.status = "done" if result.prediction.ok else "error"
        e.stopped = "cancelled"
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
        self._changed(row)

    def _changed(self, row: int) -> None:
        idx = self.index(row)
        self.dataChanged.emit(idx, idx)

    def set_job(self, paths: list[str], job: int) -> None:
        for p in paths:
            self._entries[self._rows[p]].job = job

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

    def mark_stopped(self, job: int, why: str = "cancelled") -> int:
        """The rows still waiting for ``job`` will not get its answer. Returns how many."""
        rows = [i for i, e in enumerate(self._entries) if e.job == job and e.status == "queued"]
        stopped = 0
        for i in rows:
            e = self._entries[i]
            if e.result is not None:  # asked again and stopped: the answer it had stays
                e.status = "done" if e.result.prediction.ok else "error"
            else:
                e.status, e.stopped = "cancelled", why
                stopped += 1
        if rows:
            self.dataChanged.emit(self.index(rows[0]), self.index(rows[-1]))
        return stopped
