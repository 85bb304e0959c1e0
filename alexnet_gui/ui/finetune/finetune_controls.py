"""The Fine-tune view's left column: the folder, its health report, the settings, the
same run as a torchrun command, and Start / Cancel (kept in sight below the scrolled part)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QMenu, QPushButton, QVBoxLayout, QWidget

from ...core.finetune.samples import SAMPLE_TITLES
from ..qtutil import make_label, scrolled
from .finetune_panels import HealthReportWidget, SettingsWidget
from .torchrun_panel import TorchrunPanel


class FinetuneControls(QWidget):
    """Widgets only; the view connects the buttons and fills the parts."""

    sample_requested = Signal(str)  # a name of core.finetune.samples.SAMPLE_TITLES

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder_label = make_label("No folder chosen. Drop a folder with one subfolder per class here.")
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("Pick a folder holding one subfolder of images per class")
        self.samples_button = QPushButton("Sample data")
        self.samples_button.setToolTip("Make a small sample data set (30 images per class) and use it")
        menu = QMenu(self.samples_button)
        menu.setToolTipsVisible(True)
        for name, title in SAMPLE_TITLES.items():
            act = menu.addAction(f"{title} (10 classes)")
            act.setToolTip(f"Write 30 images per class of {title} into the cache and train on them")
            act.triggered.connect(lambda _=False, n=name: self.sample_requested.emit(n))
        self.samples_button.setMenu(menu)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.samples_button)
        row.addStretch(1)
        folder_box = QGroupBox("Folder")
        v = QVBoxLayout(folder_box)
        v.addWidget(self.folder_label)
        v.addLayout(row)

        self.health = HealthReportWidget()
        self.settings_box = SettingsWidget()
        self.torchrun = TorchrunPanel(self.settings_box)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train on the chosen folder with these settings")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the fine-tune; nothing is saved")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.cancel_button)

        inner = QWidget()
        lv = QVBoxLayout(inner)
        lv.setContentsMargins(4, 0, 4, 0)
        for w in (folder_box, self.health, self.settings_box, self.torchrun):
            lv.addWidget(w)
        lv.addStretch(1)
        self.setMinimumWidth(360)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 4)
        outer.addWidget(scrolled(inner), 1)
        outer.addLayout(buttons)
