"""The dataset map and audit: the folder's fc7 features as dots on a 2-D map (PCA + t-SNE,
computed by the worker's "audit" job), coloured by class, with the three audit lists beside it.

Hover a dot: its path, class and out-of-fold prediction. Click a dot, or double-click a
list entry: the image opens in Classify. "Correct…" hands the selected entry to the
corrections panel (a copy into its right class, never a move). Mouse wheel zooms the map.
Plain data only (``core.audit.results``); no torch here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..qtutil import make_label, set_text

SCALE = 120.0  # map units (about unit spread) to scene pixels
DOT = 7.0
PATH_ROLE = Qt.ItemDataRole.UserRole
CLASS_ROLE = Qt.ItemDataRole.UserRole + 1  # the class an entry is likely to belong to


def class_colour(index: int, count: int) -> QColor:
    return QColor.fromHsvF((index / max(count, 1)) % 1.0, 0.75, 0.9)


class _Dot(QGraphicsEllipseItem):
    def __init__(self, point, colour: QColor, on_click) -> None:
        super().__init__(QRectF(-DOT / 2, -DOT / 2, DOT, DOT))
        self.point = point
        self.on_click = on_click
        self.setPos(point.x * SCALE, point.y * SCALE)
        self.setBrush(QBrush(colour))
        self.setPen(QPen(colour.darker(160) if point.label == point.predicted else QColor("black"), 1.2))
        self.setToolTip(f"{point.path}\nclass: {point.label}\nprediction: {point.predicted}")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.on_click(self.point.path)


class MapView(QGraphicsView):
    point_clicked = Signal(str)  # path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setAccessibleName("Dataset map: no images")
        self.dots: list[_Dot] = []

    def show_points(self, points, classes: list[str]) -> None:
        self.scene().clear()
        self.dots = []
        for p in points:
            dot = _Dot(p, class_colour(classes.index(p.label), len(classes)), self.point_clicked.emit)
            self.scene().addItem(dot)
            self.dots.append(dot)
        self.scene().setSceneRect(self.scene().itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.setAccessibleName(f"Dataset map: {len(points)} images, {len(classes)} classes")

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.scale(factor, factor)


class DatasetMapWindow(QWidget):
    """A window of its own (Qt.Window): the map, a legend, and the three lists."""

    image_opened = Signal(str)  # path: open it in Classify
    correction_requested = Signal(str, str)  # path, its likely right class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Dataset map and audit")
        self.result = None
        self.summary = make_label("Auditing…")
        self.legend = make_label()
        self.map = MapView()
        self.mislabelled = QListWidget()
        self.mislabelled.setAccessibleName("Likely mislabelled")
        self.duplicates = QListWidget()
        self.duplicates.setAccessibleName("Near-duplicates")
        self.leaks = QListWidget()
        self.leaks.setAccessibleName("Train/val leaks")
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setToolTip("Copy the selected image into its likely right class (the original stays)")
        lists = QWidget()
        lv = QVBoxLayout(lists)
        lv.setContentsMargins(0, 0, 0, 0)
        for title, widget in (("Likely mislabelled (out-of-fold prediction disagrees)", self.mislabelled),
                              ("Near-duplicates (exact, pHash, fc7)", self.duplicates),
                              ("Leaks (a duplicate in train and in val)", self.leaks)):
            lv.addWidget(make_label(title))
            lv.addWidget(widget, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.correct_button)
        lv.addLayout(row)
        left = QWidget()
        mv = QVBoxLayout(left)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.addWidget(self.map, 1)
        mv.addWidget(self.legend)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(lists)
        splitter.setSizes([620, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self.resize(1000, 640)
        self.map.point_clicked.connect(self.image_opened)
        self._selected: QListWidgetItem | None = None
        for widget in (self.mislabelled, self.duplicates, self.leaks):
            widget.itemDoubleClicked.connect(lambda item: self.image_opened.emit(item.data(PATH_ROLE)))
            widget.currentItemChanged.connect(self._on_list_current_changed)
        self.correct_button.clicked.connect(self.correct_selected)

    def show_waiting(self, folder: str) -> None:
        set_text(self.summary, f"Auditing {folder}…")

    def show_message(self, text: str) -> None:
        set_text(self.summary, f"⚠ {text}")

    def show_result(self, result) -> None:
        self.result = result
        set_text(self.summary, f"{result.image_count} images, {len(result.classes)} classes: "
                               f"{len(result.mislabelled)} likely mislabelled, {len(result.duplicates)} duplicate "
                               f"pairs, {len(result.leaks)} leaks ({result.seconds:.1f} s, "
                               f"{result.computed} images through the network)")
        self.map.show_points(result.points, result.classes)
        legend = "  ".join(f'<span style="color:{class_colour(i, len(result.classes)).name()}">●</span> {c}'
                           for i, c in enumerate(result.classes))
        self.legend.setText(legend + "  (black ring: the prediction disagrees)")
        self._fill(self.mislabelled, [(m.path, f"{Path(m.path).name}: in {m.folder_label}, looks like "
                                               f"{m.predicted} ({m.confidence * 100:.0f} %)", m.predicted)
                                      for m in result.mislabelled])
        for widget, pairs in ((self.duplicates, result.duplicates), (self.leaks, result.leaks)):
            self._fill(widget, [(p.b, f"{Path(p.a).name} ~ {Path(p.b).name} ({p.kind}, {p.similarity:.3f})", None)
                                for p in pairs])

    def _fill(self, widget: QListWidget, rows) -> None:
        self._selected = None
        widget.clear()
        for path, text, right in rows:
            item = QListWidgetItem(text)
            item.setData(PATH_ROLE, path)
            item.setData(CLASS_ROLE, right)
            item.setToolTip(path)
            widget.addItem(item)

    def correct_selected(self) -> bool:
        """Hand the entry selected last (in any list) to the corrections panel."""
        item = self._selected
        if item is None:
            return False
        self.correction_requested.emit(item.data(PATH_ROLE), item.data(CLASS_ROLE) or "")
        return True

    def _on_list_current_changed(self, current, _previous) -> None:
        if current is not None:
            self._selected = current
