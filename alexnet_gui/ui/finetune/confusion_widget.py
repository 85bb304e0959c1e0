"""The confusion matrix as a table: rows are the true class, columns the predicted one.

A table (not a painting) so every cell is focusable, readable by a screen reader
and reachable by keyboard; activating a cell (click, Enter) asks for its images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

NAMED_COLUMNS = 4  # up to this many classes the columns show names, beyond that numbers


class ConfusionMatrixWidget(QTableWidget):
    cell_chosen = Signal(int, int)  # true class index, predicted class index

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 0, parent)
        self.classes: list[str] = []
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setCornerButtonEnabled(False)
        self.setToolTip("Rows: the true class; columns: the predicted class. "
                        "Click a cell to see its validation images.")
        self.cellClicked.connect(self._on_table_cell_clicked)
        self.cellActivated.connect(self._on_table_cell_clicked)
        self.setAccessibleName("Confusion matrix: no results yet")

    def set_matrix(self, classes: list[str], matrix: np.ndarray) -> None:
        """``matrix`` (C, C) counts, rows = true class, columns = predicted."""
        self.classes = list(classes)
        self.matrix = np.asarray(matrix, dtype=np.int64)
        n = len(classes)
        self.clear()
        self.setRowCount(n)
        self.setColumnCount(n)
        # Many classes: numbered columns keep the matrix narrow; each header's tooltip names its class.
        numbered = n > NAMED_COLUMNS
        self.setHorizontalHeaderLabels([str(i + 1) if numbered else f"→ {c}" for i, c in enumerate(classes)])
        self.setVerticalHeaderLabels([f"{i + 1}  {c}" if numbered else c for i, c in enumerate(classes)])
        for i, name in enumerate(classes):
            self.horizontalHeaderItem(i).setToolTip(f"predicted {name}")
            self.verticalHeaderItem(i).setToolTip(f"true class {name}")
        pal = self.palette()
        base, strong = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Highlight)
        light_text, dark_text = pal.color(QPalette.ColorRole.HighlightedText), pal.color(QPalette.ColorRole.Text)
        for r in range(n):
            row_total = max(int(self.matrix[r].sum()), 1)
            for c in range(n):
                count = int(self.matrix[r, c])
                share = count / row_total  # row-normalised: recall on the diagonal
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(_mix(base, strong, share)))
                item.setForeground(QBrush(light_text if share > 0.5 else dark_text))
                text = self.cell_text(r, c)
                item.setToolTip(text)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
                self.setItem(r, c, item)
        self.setMaximumHeight(self.sizeHint().height())  # no empty rows of table below the matrix
        total = int(self.matrix.sum())
        correct = int(np.trace(self.matrix)) if n else 0
        self.setAccessibleName(f"Confusion matrix of {total} validation images, {correct} correct")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Just the table: headers plus cells, so a splitter can give it its natural width."""
        width = self.verticalHeader().sizeHint().width() + self.horizontalHeader().length() + 2 * self.frameWidth()
        height = self.horizontalHeader().sizeHint().height() + self.verticalHeader().length() + 2 * self.frameWidth()
        return QSize(max(width, 160), max(height, 80))

    def cell_text(self, r: int, c: int) -> str:
        count = int(self.matrix[r, c])
        what = "correct" if r == c else f"predicted {self.classes[c]}"
        return f"{count} image{'s' if count != 1 else ''} of {self.classes[r]} {what}"

    def total(self) -> int:
        return int(self.matrix.sum())

    def _on_table_cell_clicked(self, row: int, column: int) -> None:
        self.cell_chosen.emit(row, column)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))
