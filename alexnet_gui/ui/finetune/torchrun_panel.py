"""For a folder too big for this computer: the same fine-tune as a ``torchrun`` command line,
for as many processes as asked, kept in step with the settings form and copyable.

The window itself always trains in its one model process; the line is what to run in a
terminal on a bigger machine (or, with torchrun's ``--nnodes`` and rendezvous options,
on several). The line comes from the command line's own flags (``cli.torchrun_line``).
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QSpinBox, QWidget

from ...cli.torchrun_line import finetune_line
from ..qtutil import make_label
from .finetune_panels import SettingsWidget

NOTE = ("The same fine-tune on several processes, for a folder too big for this computer: each process "
        "computes the features of its share of the images, and the same seed gives the same split and the "
        "same features. On several machines add --nnodes N --rdzv-backend c10d --rdzv-endpoint HOST:PORT.")


class TorchrunPanel(QGroupBox):
    """A read-only line with the ``torchrun`` command for the folder and settings, and Copy."""

    def __init__(self, settings_box: SettingsWidget, parent: QWidget | None = None) -> None:
        super().__init__("Bigger than this computer", parent)
        self.settings_box = settings_box
        self.folder: str | None = None
        self.processes = QSpinBox()
        self.processes.setRange(1, 1024)
        self.processes.setValue(2)
        self.processes.setAccessibleName("Processes per machine")
        self.processes.setToolTip("torchrun --nproc-per-node: one per GPU, or a few CPU cores each")
        self.line = QLineEdit()
        self.line.setReadOnly(True)
        self.line.setAccessibleName("torchrun command")
        self.line.setPlaceholderText("Choose a folder to see the command")
        self.line.setToolTip("The same fine-tune for torchrun, to run in a terminal on a bigger machine")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the command to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        row = QHBoxLayout()
        row.addWidget(self.line, 1)
        row.addWidget(self.copy_button)
        form = QFormLayout(self)
        form.addRow(make_label(NOTE))
        form.addRow("Processes per machine", self.processes)
        form.addRow(row)
        self._follow_settings()
        self.refresh()

    def _follow_settings(self) -> None:
        s = self.settings_box
        s.mode.currentIndexChanged.connect(self.refresh)
        for spin in (s.epochs, s.lr, s.batch_size, s.weight_decay, s.seed, s.val_fraction, self.processes):
            spin.valueChanged.connect(self.refresh)
        s.flip_view.toggled.connect(self.refresh)

    def set_folder(self, folder: str | None) -> None:
        self.folder = folder
        self.refresh()

    def refresh(self, *_) -> None:
        defaults = self.settings_box.defaults
        ready = bool(self.folder) and defaults is not None
        text = finetune_line(self.folder, self.settings_box.values(), defaults["settings"],
                             self.processes.value()) if ready else ""
        self.line.setText(text)
        self.line.setCursorPosition(0)
        self.copy_button.setEnabled(ready)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.line.text())
