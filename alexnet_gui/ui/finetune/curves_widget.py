"""Live training curves: loss and accuracy per epoch, train and validation, painted with QPainter."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.finetune.results import EpochStats

# Data colours (tab10 blue and orange), not chrome: they read on light and dark palettes.
TRAIN_COLOUR = QColor(31, 119, 180)
VAL_COLOUR = QColor(255, 127, 14)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 22, 28
GAP = 16  # between the two plots


class CurvesWidget(QWidget):
    """Two plots side by side: loss (left) and accuracy in % (right); x is the epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[EpochStats] = []
        self.epochs = 0  # the x axis runs to the planned number of epochs
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Loss and accuracy after each epoch: training (solid) and validation (dashed)")
        self._update_text()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(520, 200)

    # ------------------------------------------------------------ data

    def reset(self, epochs: int = 0) -> None:
        self.points = []
        self.epochs = epochs
        self._update_text()
        self.update()

    def add_point(self, point: EpochStats) -> None:
        self.points = [p for p in self.points if p.epoch != point.epoch] + [point]
        self.epochs = max(self.epochs, point.epoch)
        self._update_text()
        self.update()

    def text(self) -> str:
        return self.accessibleName()

    def _update_text(self) -> None:
        if not self.points:
            text = "Training curves: no epochs yet"
        else:
            p = self.points[-1]
            text = (f"Training curves after epoch {p.epoch} of {self.epochs}: "
                    f"loss train {p.train_loss:.3f}, val {p.val_loss:.3f}; "
                    f"accuracy train {p.train_accuracy * 100:.1f} %, val {p.val_accuracy * 100:.1f} %")
        self.setAccessibleName(text)

    # ------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = (self.width() - GAP) / 2
        h = self.height()
        losses = [(p.train_loss, p.val_loss) for p in self.points]
        accs = [(p.train_accuracy * 100, p.val_accuracy * 100) for p in self.points]
        loss_top = max([v for pair in losses for v in pair if math.isfinite(v)], default=1.0)
        self._plot(painter, QRectF(0, 0, w, h), "Loss", losses, 0.0, _nice_ceiling(loss_top), "{:.2g}")
        self._plot(painter, QRectF(w + GAP, 0, w, h), "Accuracy %", accs, 0.0, 100.0, "{:.0f}")
        painter.end()

    def _plot(self, painter: QPainter, box: QRectF, title: str, series, y_min: float, y_max: float, fmt: str) -> None:
        pal = self.palette()
        text_pen = QPen(pal.color(QPalette.ColorRole.WindowText))
        grid_pen = QPen(pal.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine)
        area = box.adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)
        if area.width() < 20 or area.height() < 20:
            return
        fm = painter.fontMetrics()
        painter.setPen(text_pen)
        painter.drawText(QRectF(area.left(), box.top(), area.width(), MARGIN_TOP), Qt.AlignmentFlag.AlignLeft |
                         Qt.AlignmentFlag.AlignVCenter, title)
        self._legend(painter, QRectF(area.left(), box.top(), area.width(), MARGIN_TOP))

        x_max = max(self.epochs, 1)
        for i in range(5):  # horizontal grid with y labels
            v = y_min + (y_max - y_min) * i / 4
            y = area.bottom() - area.height() * i / 4
            painter.setPen(grid_pen)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text_pen)
            painter.drawText(QRectF(box.left(), y - fm.height() / 2, MARGIN_LEFT - 4, fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, fmt.format(v))
        for e in _epoch_ticks(x_max):  # x labels
            x = area.left() + area.width() * e / x_max
            painter.drawText(QRectF(x - 20, area.bottom() + 2, 40, fm.height()), Qt.AlignmentFlag.AlignCenter, str(e))
        painter.drawText(QRectF(area.left(), area.bottom() + fm.height(), area.width(), fm.height()),
                         Qt.AlignmentFlag.AlignCenter, "epoch")
        painter.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())

        def to_xy(epoch: int, v: float) -> QPointF:
            v = min(max(v, y_min), y_max) if math.isfinite(v) else y_max
            return QPointF(area.left() + area.width() * epoch / x_max,
                           area.bottom() - area.height() * (v - y_min) / max(y_max - y_min, 1e-12))

        for k, (colour, style) in enumerate(((TRAIN_COLOUR, Qt.PenStyle.SolidLine),
                                              (VAL_COLOUR, Qt.PenStyle.DashLine))):
            pts = [to_xy(p.epoch, s[k]) for p, s in zip(self.points, series)]
            if not pts:
                continue
            painter.setPen(QPen(colour, 2, style))
            path = QPainterPath(pts[0])
            for pt in pts[1:]:
                path.lineTo(pt)
            painter.drawPath(path)
            painter.setBrush(colour)
            for pt in pts:
                painter.drawEllipse(pt, 2.5, 2.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)

    def _legend(self, painter: QPainter, row: QRectF) -> None:
        fm = painter.fontMetrics()
        x = row.right()
        for label, colour, style in (("val", VAL_COLOUR, Qt.PenStyle.DashLine),
                                     ("train", TRAIN_COLOUR, Qt.PenStyle.SolidLine)):
            tw = fm.horizontalAdvance(label)
            x -= tw
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.WindowText)))
            painter.drawText(QRectF(x, row.top(), tw, row.height()), Qt.AlignmentFlag.AlignVCenter, label)
            painter.setPen(QPen(colour, 2, style))
            y = row.center().y()
            painter.drawLine(QPointF(x - 22, y), QPointF(x - 4, y))
            x -= 34


def _nice_ceiling(v: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``v`` (loss axes start at 0)."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _epoch_ticks(n: int) -> list[int]:
    step = max(1, math.ceil(n / 8))
    ticks = list(range(0, n + 1, step))
    if ticks[-1] != n:  # end on the last epoch; drop a tick that would crowd it
        ticks = ticks[:-1] if n - ticks[-1] < step / 2 else ticks
        ticks.append(n)
    return ticks
