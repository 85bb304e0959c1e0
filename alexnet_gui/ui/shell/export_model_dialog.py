"""File › Export model…: the model in use written as ONNX (with a standalone predict.py
beside it) or TorchScript, by a job in the worker, with its progress, the check's
result, or the reason it failed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..qtutil import set_text

FORMATS = (("ONNX (runs with ONNX Runtime; predict.py written beside it)", "onnx"),
           ("TorchScript (runs with torch)", "torchscript"))
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt"}
FOLDER_KEY = "folders/model_export"


class ExportModelDialog(QDialog):
    export_finished = Signal(dict)  # the report, when the export was written and checked

    def __init__(self, client, settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.client, self.settings = client, settings
        self.job = None
        self.report: dict | None = None
        self._build()
        self._connect()
        self._on_format_changed()

    def _build(self) -> None:
        self.format_box = QComboBox()
        for text, fmt in FORMATS:
            self.format_box.addItem(text, fmt)
        self.format_box.setAccessibleName("Format")
        self.int8_box = QCheckBox("Int8: quantise the fully connected layers (about a quarter of the size; "
                                  "its agreement with float is measured on the sample images)")
        self.path_edit = QLineEdit()
        self.path_edit.setAccessibleName("Destination")
        start = Path(self.settings.value(FOLDER_KEY, str(Path.home()), str))
        self.path_edit.setText(str(start / "alexnet.onnx"))
        self.browse_button = QPushButton("Browse…")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format", self.format_box)
        form.addRow("", self.int8_box)
        form.addRow("Save as", path_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        for w, tip in ((self.format_box, "ONNX runs anywhere with ONNX Runtime; TorchScript needs torch"),
                       (self.int8_box, "Smaller and faster on some CPUs, but its answers can differ from float's"),
                       (self.path_edit, "The model file to write; predict.py goes in the same folder (ONNX)"),
                       (self.browse_button, "Choose where to save the model"),
                       (self.export_button, "Export, then check the file against the model before reporting it"),
                       (self.close_button, "Close this dialog (an export under way goes on)")):
            w.setToolTip(tip)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.format_box.currentIndexChanged.connect(self._on_format_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.close)

    def fmt(self) -> str:
        return self.format_box.currentData()

    def _on_format_changed(self, *_args) -> None:
        onnx = self.fmt() == "onnx"
        self.int8_box.setEnabled(onnx)
        if not onnx:
            self.int8_box.setChecked(False)
        path = Path(self.path_edit.text() or "alexnet")
        self.path_edit.setText(str(path.with_suffix(SUFFIX[self.fmt()])))

    def _on_browse_clicked(self) -> None:
        suffix = SUFFIX[self.fmt()]
        path, _ = QFileDialog.getSaveFileName(self, "Export model", self.path_edit.text(), f"Model (*{suffix})")
        if path:
            self.path_edit.setText(path)

    def start_export(self) -> None:
        path = Path(self.path_edit.text().strip()).expanduser()
        if not self.path_edit.text().strip():
            set_text(self.result_label, "Choose where to save the model.")
            return
        self.settings.setValue(FOLDER_KEY, str(path.parent))
        self.report = None
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        set_text(self.result_label, f"Exporting to {path}…")
        self.job = self.client.export_model(self.fmt(), path, self.int8_box.isChecked())
        self.job.progressed.connect(self._on_job_progressed)
        self.job.partial.connect(self._on_job_partial)
        self.job.failed.connect(self._on_job_failed)
        self.job.ended.connect(self._on_job_ended)

    def _on_job_progressed(self, done: int, total: int) -> None:
        self.progress.setValue(int(100 * done / max(total, 1)))

    def _on_job_partial(self, report: dict) -> None:
        self.report = report
        set_text(self.result_label, report["summary"])
        self.export_finished.emit(report)

    def _on_job_failed(self, message: str) -> None:
        set_text(self.result_label, f"Export failed: {message}")

    def _on_job_ended(self) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.job = None
