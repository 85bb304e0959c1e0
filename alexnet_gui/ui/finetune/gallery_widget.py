"""Thumbnails of images with their true and predicted labels (mistakes, a confusion cell).

Thumbnails are decoded off the GUI thread: a private QThreadPool reads each
file with QImageReader at the thumbnail size (JPEGs decode at reduced scale),
and the finished QImage reaches the GUI thread through a queued signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

THUMB = 96
MAX_ITEMS = 300  # a cell of thousands would cost the GUI thread seconds of items; the first 300 tell the story
PATH_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class GalleryItem:
    path: str
    true_label: str
    predicted_label: str
    confidence: float | None = None  # of the predicted class, when known

    def caption(self) -> str:
        if self.true_label == self.predicted_label:
            return f"{self.true_label} ✓"
        conf = f"\n{self.confidence * 100:.0f}\u00a0% sure" if self.confidence is not None else ""
        return f"true: {self.true_label}\npred: {self.predicted_label}{conf}"

    def text(self) -> str:
        """What a screen reader says: file, true and predicted label."""
        conf = f" ({self.confidence * 100:.0f} %)" if self.confidence is not None else ""
        return f"{Path(self.path).name}: true {self.true_label}, predicted {self.predicted_label}{conf}"


class _ThumbnailLoader(QObject):
    loaded = Signal(str, QImage)  # path, thumbnail (null when unreadable)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one core: the other belongs to the model

    def request(self, path: str) -> None:
        self.pool.start(lambda: self.loaded.emit(path, read_thumbnail(path, THUMB)))


def read_thumbnail(path: str, side: int) -> QImage:
    """The image scaled to fit ``side`` (EXIF orientation applied); null QImage when unreadable."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > side or size.height() > side):
        reader.setScaledSize(size.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    if not img.isNull() and max(img.width(), img.height()) != side:
        # Larger: the reader could not scale while decoding. Smaller (28 px Fashion-MNIST): shown at full size.
        img = img.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return img


class GalleryWidget(QListWidget):
    explain_requested = Signal(str, str)  # path, predicted label: "why?" on a card
    correction_requested = Signal(str, str)  # path, its true label: copy it into its right class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 64, THUMB + 64))  # room for three lines of caption
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setToolTip("Validation images with their true and predicted class; double-click opens one in Classify, "
                        "right-click asks why the model said what it said")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self._cache: dict[str, QPixmap] = {}
        self._loader = _ThumbnailLoader(self)
        self._loader.loaded.connect(self._on_loader_loaded)
        self._items: list[GalleryItem] = []
        self.count_given = 0  # items asked for; at most MAX_ITEMS are shown
        self.setAccessibleName("Images: none")

    def set_items(self, items: list[GalleryItem], title: str = "Images") -> None:
        self.clear()
        total = self.count_given = len(items)
        items = self._items = list(items[:MAX_ITEMS])
        placeholder = QPixmap(THUMB, THUMB)
        placeholder.fill(self.palette().color(self.palette().ColorRole.Window))
        for it in items:
            item = QListWidgetItem(it.caption())
            item.setData(PATH_ROLE, it.path)
            item.setToolTip(f"{it.path}\n{it.text()}")
            item.setData(Qt.ItemDataRole.AccessibleTextRole, it.text())
            pixmap = self._cache.get(it.path)
            item.setIcon(QIcon(pixmap if pixmap is not None else placeholder))
            self.addItem(item)
            if pixmap is None:
                self._loader.request(it.path)
        shown = f"{total} image{'s' if total != 1 else ''}"
        if total > len(items):
            shown += f", the first {len(items)} shown"
        self.setAccessibleName(f"{title}: {shown}")

    def explain_row(self, row: int) -> None:
        """Why? The model's heat map for what it predicted on card ``row``."""
        if 0 <= row < len(self._items):
            it = self._items[row]
            self.explain_requested.emit(it.path, it.predicted_label)

    def correct_row(self, row: int) -> None:
        """Card ``row`` chosen to be copied into its right class (the true one preselected)."""
        if 0 <= row < len(self._items):
            it = self._items[row]
            self.correction_requested.emit(it.path, it.true_label)

    def _on_context_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        item = self.itemAt(pos)
        if item is None:
            return
        row = self.row(item)
        menu = QMenu(self)
        menu.addAction(f"Why “{self._items[row].predicted_label}”? Show the heat map",
                       lambda: self.explain_row(row))
        menu.addAction("Copy into its right class for a retrain…", lambda: self.correct_row(row))
        menu.exec(self.viewport().mapToGlobal(pos))

    def items(self) -> list[GalleryItem]:
        return list(self._items)

    def texts(self) -> list[str]:
        return [it.text() for it in self._items]

    def thumbnails_loaded(self) -> int:
        """How many shown items have their thumbnail (tests wait on it)."""
        return sum(1 for it in self._items if it.path in self._cache)

    def _on_loader_loaded(self, path: str, image: QImage) -> None:
        if image.isNull():
            pixmap = QPixmap(THUMB, THUMB)
            pixmap.fill(self.palette().color(self.palette().ColorRole.Mid))
        else:
            pixmap = QPixmap.fromImage(image)
        self._cache[path] = pixmap
        for row in range(self.count()):
            item = self.item(row)
            if item.data(PATH_ROLE) == path:
                item.setIcon(QIcon(pixmap))
