"""The per-layer table (shapes, parameters, multiply-adds) for 224 or 227 input,
of the model in use: its head's size, and which layers its fine-tune trained."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ..qtutil import make_label, set_text

COLUMNS = ("Layer", "Type", "Output shape", "Parameters", "Multiply-adds", "Trainable")
TRAINED_COLUMN = "Trained by the fine-tune"


class ModelView(QWidget):
    """Shows the layer table the worker computed for the model in use (``ModelInfo.layer_tables``):
    no torch here. It is filled when shown."""

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
        self.model_label = make_label("Model in use: loading…")
        top.addWidget(self.model_label)
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
        self._tables: dict[int, list] = {}  # input size -> LayerRow list, from the worker
        self.num_classes = 1000
        self.mode: str | None = None  # the fine-tune mode of the model in use; None: not fine-tuned

    def set_model(self, info) -> None:
        """Follow the model in use (a ``ModelInfo``): its number of classes and fine-tune mode."""
        settings = info.meta.get("settings")
        mode = settings.get("mode") if isinstance(settings, dict) else None
        if info.source != "finetuned":
            mode = None
        elif not isinstance(mode, str):
            mode = "unknown"  # a checkpoint that does not say how it was trained
        set_text(self.model_label, f"Model in use: {info.description}")
        if (len(info.class_names), mode) != (self.num_classes, self.mode) or not self._tables:
            self.num_classes, self.mode = len(info.class_names), mode
            self._tables = dict(info.layer_tables)
            self._filled_for = None
            if self.isVisible():
                self.fill(int(self.size_box.currentText()))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.fill(int(self.size_box.currentText()))

    def _on_size_box_changed(self, text: str) -> None:
        if self.isVisible():
            self.fill(int(text))

    def fill(self, input_size: int) -> None:
        if self._filled_for == input_size or input_size not in self._tables:
            return  # drawn already, or the model has not loaded yet
        from ...core.layer_rows import format_shape, totals

        rows = self._tables[input_size]
        trained = self._trained_prefixes()
        self.table.setHorizontalHeaderLabels([*COLUMNS[:-1], TRAINED_COLUMN if self.mode else COLUMNS[-1]])
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (row.name, row.kind, format_shape(row.output_shape), f"{row.params:,}",
                     f"{row.macs:,}", self._trains_text(row, trained))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        t = totals(rows)
        if trained is not None:
            n = sum(r.params for r in rows if _in(r.name, trained))
            which = f"{n:,} trained by the fine-tune ({self.mode} mode), the rest kept from the base"
        elif self.mode:
            which = "how it was fine-tuned is not recorded in the file"
        else:
            which = f"{t.trainable_params:,} trainable"
        text = (
            f"Total {t.params:,} parameters ({which}); {t.macs / 1e9:.3f} G multiply-adds "
            f"at {input_size}×{input_size}. Convolutions {t.conv_params:,} vs fully connected {t.fc_params:,}: "
            f"the fully connected layers hold {t.fc_to_conv_ratio:.1f}× the parameters of the convolutions."
        )
        self.totals.setText(text)
        self.totals.setAccessibleName(text)
        self._filled_for = input_size

    def _trained_prefixes(self) -> tuple[str, ...] | None:
        if not self.mode:
            return None
        from ...core.finetune.settings import TRAINED_LAYERS

        return TRAINED_LAYERS.get(self.mode)

    def _trains_text(self, row, trained: tuple[str, ...] | None) -> str:
        if not row.params:
            return "—"
        if not self.mode:
            return "yes" if row.trainable else "—"
        if trained is None:
            return "?"
        return "yes" if _in(row.name, trained) else "kept"


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)
