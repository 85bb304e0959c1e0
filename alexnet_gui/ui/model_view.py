"""The per-layer table (shapes, parameters, multiply-adds) for 224 or 227 input."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "Multiply-adds", "Trainable")


class ModelView(QWidget):
    """Needs no torch: the table is computed analytically from the layer list.

    It is filled on first show (the core layer module imports torch), so the
    window appears without waiting for it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_box = QComboBox()
        self.size_box.addItems(["224", "227"])
        self.size_box.setToolTip("Input size in pixels (square). torchvision uses 224; the 2012 paper quotes 227.")
        self.size_box.setAccessibleName("Input size")
        self.size_box.currentTextChanged.connect(self._on_size_box_changed)
        top = QHBoxLayout()
        top.addWidget(QLabel("Input size:"))
        top.addWidget(self.size_box)
        top.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Layer table")
        self.totals = QLabel()
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(
            "Multiply-adds count convolutions and fully connected layers (one multiply plus one add); "
            "ReLU, pooling and dropout are not counted. The 2012 blog's fc6 figure 37,352,832 is a typo "
            "for 37,752,832 (9216 × 4096 + 4096)."
        )
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addWidget(self.note)
        self._filled_for: int | None = None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.fill(int(self.size_box.currentText()))

    def _on_size_box_changed(self, text: str) -> None:
        if self.isVisible():
            self.fill(int(text))

    def fill(self, input_size: int) -> None:
        if self._filled_for == input_size:
            return
        from ..core.layers import format_shape, layer_table, totals

        rows = layer_table(input_size)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (row.name, row.kind, format_shape(row.output_shape), f"{row.params:,}",
                     f"{row.macs:,}", "yes" if row.trainable else "—")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        t = totals(rows)
        text = (
            f"Total {t.params:,} parameters ({t.trainable_params:,} trainable); {t.macs / 1e9:.3f} G multiply-adds "
            f"at {input_size}×{input_size}. Convolutions {t.conv_params:,} vs fully connected {t.fc_params:,}: "
            f"the fully connected layers hold {t.fc_to_conv_ratio:.1f}× the parameters of the convolutions."
        )
        self.totals.setText(text)
        self.totals.setAccessibleName(text)
        self._filled_for = input_size
