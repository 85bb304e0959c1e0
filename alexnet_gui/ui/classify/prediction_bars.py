"""Top-k predictions as labelled horizontal bars, highest first."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

ROWS = 5


class BarChart(QWidget):
    """The rows themselves, drawn in one paint: class name, a bar, the percentage.

    One widget instead of a label and a progress bar per row: a new prediction is
    a data change and one repaint of this widget, with no layout work, so the
    window shows it within a millisecond of its arrival (the per-row widgets took
    ~5 ms of GUI time per image to fill, lay out and paint). Its size never
    changes. Screen readers get the rows as the accessible description. A click on a
    row says which class it shows (``row_clicked``: Explain shows why)."""

    row_clicked = Signal(int)  # the class index of the row clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, float, int]] = []  # (label, probability, class index)
        self.message = ""
        self.row_height = max(26, round(self.fontMetrics().height() * 1.9))
        self.setFixedHeight(ROWS * self.row_height)
        self.setMinimumWidth(280)
        self.setToolTip("The five most probable classes; hover a row for its class number, click it to see why")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_rows(self, rows: list[tuple[str, float, int]], message: str = "") -> None:
        self.rows, self.message = rows, message
        texts = [row_text(label, p) for label, p, _ in rows]
        self.setAccessibleDescription("; ".join(texts) if texts else message)
        self.update()

    def _label_width(self) -> int:
        return max(120, min(260, int(self.width() * 0.38)))

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        h = self.row_height
        if not self.rows:
            if self.message:
                p.setPen(pal.color(QPalette.ColorRole.WindowText))
                p.drawText(self.rect().adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                           self.message)
            return
        fm = self.fontMetrics()
        label_w = self._label_width()
        x0, right = label_w + 8, self.width() - 2
        for i, (label, prob, _) in enumerate(self.rows):
            y = i * h
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(0, y, label_w, h, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w))
            track = QRectF(x0, y + h * 0.2, max(0, right - x0), h * 0.6)
            p.setPen(pal.color(QPalette.ColorRole.Midlight))
            p.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
            p.drawRoundedRect(track, 3, 3)
            p.setPen(Qt.PenStyle.NoPen)
            if prob > 0:
                fill = QRectF(track.x(), track.y(), max(2.0, track.width() * min(prob, 1.0)), track.height())
                p.setBrush(pal.color(QPalette.ColorRole.Highlight))
                p.drawRoundedRect(fill, 3, 3)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(track.adjusted(0, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                       f"{prob * 100:.1f} %")

    def row_at(self, y: float) -> int | None:
        row = int(y // self.row_height)
        return row if 0 <= row < len(self.rows) else None

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        row = self.row_at(event.position().y())
        if row is not None and event.button() == Qt.MouseButton.LeftButton:
            self.row_clicked.emit(self.rows[row][2])
        super().mousePressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            row = event.pos().y() // self.row_height  # a QHelpEvent
            if 0 <= row < len(self.rows):
                label, prob, index = self.rows[row]
                QToolTip.showText(event.globalPos(), f"class {index}: {row_text(label, prob)}", self)
            else:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            return True
        return super().event(event)


def row_text(label: str, probability: float) -> str:
    return f"{label} — {probability * 100:.1f} %"


class PredictionBarsWidget(QWidget):
    """Shows a core ``Prediction`` under a title; every row is readable (``texts()``)."""

    def __init__(self, title: str = "Top-5", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        self._error = False  # the rows' place holds an error
        self.chart = BarChart()
        self.chart.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addWidget(self.chart)
        layout.addStretch(1)

    def set_title(self, title: str) -> None:
        self.title.setText(f"<b>{title}</b>")
        self.chart.setAccessibleName(title)

    def set_note(self, text: str | None) -> None:
        """A warning over the rows (e.g. the model is untrained); not shown over an error."""
        self.note.setText(text or "")
        self.note.setAccessibleName(text or "")
        self.note.setVisible(bool(text) and not self._error)

    def clear(self, message: str = "") -> None:
        """No rows; ``message`` (e.g. "classifying…") in their place."""
        self._show_rows([], message)

    def show_prediction(self, prediction) -> None:
        if prediction is None:
            self.clear("")
        elif prediction.error:
            self._show_rows([], f"⚠ {prediction.error}", error=True)
        else:
            self._show_rows([(s.label, s.probability, s.index) for s in prediction.top[:ROWS]])

    def _show_rows(self, rows, message: str = "", error: bool = False) -> None:
        if error != self._error:  # the note is about guesses: an error has none
            self._error = error
            self.note.setVisible(bool(self.note.text()) and not error)
        self.chart.set_rows(rows, message)

    def texts(self) -> list[str]:
        """The rows as "label — 12.3 %" (what a screen reader reads)."""
        return [row_text(label, p) for label, p, _ in self.chart.rows]

    def message(self) -> str:
        """What shows in place of the rows when there are none."""
        return self.chart.message
