"""One picture of many tiles, fitted to the widget, with hover and click per tile.

The grid is a single uint8 mosaic (``core.render``) turned into one QPixmap: a
layer of 384 channels is one drawPixmap, not 384 widgets. Scaling up is nearest
neighbour (each weight stays a crisp square); scaling down is smoothed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QFileDialog, QMessageBox, QSizePolicy, QToolTip, QWidget

from ...core.render import GridLayout, save_png
from ..qtutil import array_to_qimage


class TileGridWidget(QWidget):
    tile_hovered = Signal(int)  # tile index, -1 when the pointer leaves the tiles
    tile_clicked = Signal(int)  # tile index (click, or Enter/Space on the keyboard focus)

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self._placeholder = placeholder
        self._array: np.ndarray | None = None
        self._pixmap = QPixmap()
        self._layout: GridLayout | None = None
        self._tip = None  # callable(index) -> str
        self.hovered = -1
        self.selected = -1
        self._pressed = -1

    # ------------------------------------------------------------ content

    def set_mosaic(self, rgb: np.ndarray | None, layout: GridLayout | None = None, tip=None) -> None:
        """Show ``rgb`` (H, W, 3) uint8; ``layout`` enables hover/click per tile."""
        self._array = rgb
        self._pixmap = QPixmap.fromImage(array_to_qimage(rgb)) if rgb is not None else QPixmap()
        self._layout = layout
        self._tip = tip
        self.hovered = -1
        if layout is None or self.selected >= layout.count:
            self.selected = -1
        self.update()

    def array(self) -> np.ndarray | None:
        """Exactly the picture shown, at its own pixel size (what "Save as PNG" writes)."""
        return self._array

    def grid_layout(self) -> GridLayout | None:
        return self._layout

    def set_selected(self, index: int) -> None:
        self.selected = index
        self.update()

    # ------------------------------------------------------------ geometry

    def _scale_and_origin(self) -> tuple[float, QPointF]:
        pw, ph = self._pixmap.width(), self._pixmap.height()
        f = min(self.width() / pw, self.height() / ph)
        return f, QPointF((self.width() - pw * f) / 2, (self.height() - ph * f) / 2)

    def _target(self) -> QRectF:
        f, o = self._scale_and_origin()
        return QRectF(o.x(), o.y(), self._pixmap.width() * f, self._pixmap.height() * f)

    def tile_rect(self, i: int) -> QRectF:
        """Tile ``i`` in widget coordinates."""
        f, o = self._scale_and_origin()
        x, y, w, h = self._layout.rect(i)
        return QRectF(o.x() + x * f, o.y() + y * f, w * f, h * f)

    def tile_center(self, i: int) -> QPoint:
        return self.tile_rect(i).center().toPoint()

    def index_at(self, pos) -> int:
        if self._layout is None or self._pixmap.isNull():
            return -1
        f, o = self._scale_and_origin()
        i = self._layout.index_at((pos.x() - o.x()) / f, (pos.y() - o.y()) / f)
        return -1 if i is None else i

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(480, 480)

    # ------------------------------------------------------------ painting

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        pal = self.palette()
        if self._pixmap.isNull():
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(12, 12, -12, -12),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        f, _ = self._scale_and_origin()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, f < 1.0)
        p.drawPixmap(self._target(), self._pixmap, QRectF(self._pixmap.rect()))
        if self._layout is None:
            return
        p.setBrush(Qt.BrushStyle.NoBrush)
        if 0 <= self.hovered < self._layout.count:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DashLine))
            p.drawRect(self.tile_rect(self.hovered).adjusted(-1, -1, 1, 1))
        if 0 <= self.selected < self._layout.count:
            # Highlight ring inside a base-coloured ring: visible on dark and bright tiles alike.
            r = self.tile_rect(self.selected)
            p.setPen(QPen(pal.color(QPalette.ColorRole.Base), 5))
            p.drawRect(r.adjusted(-2, -2, 2, 2))
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            p.drawRect(r.adjusted(-2, -2, 2, 2))
        if self.hasFocus() and self.selected < 0 and self._layout.count:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DotLine))
            p.drawRect(self.tile_rect(0).adjusted(-1, -1, 1, 1))

    # ------------------------------------------------------------ pointer and keys

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        i = self.index_at(event.position())
        if i != self.hovered:
            self.hovered = i
            self.update()
            self.tile_hovered.emit(i)
            if i >= 0 and self._tip is not None:
                QToolTip.showText(event.globalPosition().toPoint(), self._tip(i), self)
            else:
                QToolTip.hideText()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.hovered != -1:
            self.hovered = -1
            self.update()
            self.tile_hovered.emit(-1)
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._pressed = self.index_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else -1
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        i = self.index_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and i >= 0 and i == self._pressed:
            self._activate(i)
        self._pressed = -1
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        lay = self._layout
        if lay is None or not lay.count:
            return super().keyPressEvent(event)
        cur = max(self.selected, 0)
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -lay.cols, Qt.Key.Key_Down: lay.cols}
        key = event.key()
        if key in step:
            self.selected = min(max(cur + step[key], 0), lay.count - 1)
            self.tile_hovered.emit(self.selected)
            self.update()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._activate(cur)
        else:
            super().keyPressEvent(event)

    def _activate(self, i: int) -> None:
        self.selected = i
        self.update()
        self.tile_clicked.emit(i)


def save_grid_dialog(parent: QWidget, rgb: np.ndarray | None, title: str, name: str) -> str | None:
    """Ask where, then write ``rgb`` as PNG (atomically). Returns the path, or None."""
    if rgb is None:
        return None
    window = parent.window()
    settings = getattr(window, "settings", None)
    folder = settings.value("folders/png", str(Path.home()), str) if settings is not None else str(Path.home())
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path(folder) / name), "PNG (*.png)")
    if not path:
        return None
    try:
        save_png(rgb, path)
    except OSError as exc:
        QMessageBox.warning(parent, "Could not save", f"{Path(path).name}: {exc.strerror or exc}")
        return None
    if settings is not None:
        settings.setValue("folders/png", str(Path(path).parent))
    if hasattr(window, "statusBar"):
        window.statusBar().showMessage(f"Saved {path} ({rgb.shape[1]}×{rgb.shape[0]} pixels)", 8000)
    return path
