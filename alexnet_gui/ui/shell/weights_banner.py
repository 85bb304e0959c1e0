"""A non-modal banner shown while no trained weights are loaded."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton

from ...core.untrained import UNTRAINED_WARNING

MESSAGE = f"{UNTRAINED_WARNING} Download the weights once (233 MB) or open a weights file."


class WeightsBannerWidget(QFrame):
    download_clicked = Signal()
    open_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.palette().ColorRole.AlternateBase)
        self.label = QLabel(MESSAGE)
        self.label.setWordWrap(True)
        self.label.setAccessibleName(MESSAGE)
        self.download_button = QPushButton("Download ImageNet weights (233 MB)")
        self.download_button.setToolTip("Fetch alexnet-owt-7be5be79.pth into the torch hub cache, checking its hash")
        self.open_button = QPushButton("Open weights file…")
        self.open_button.setToolTip("Use a .pth file you already have (ImageNet or fine-tuned)")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the download; nothing half-written is kept")
        self.cancel_button.hide()
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        for w in (self.progress, self.cancel_button, self.download_button, self.open_button):
            layout.addWidget(w)
        self.download_button.clicked.connect(self.download_clicked)
        self.open_button.clicked.connect(self.open_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)

    def set_message(self, text: str) -> None:
        self.label.setText(text)
        self.label.setAccessibleName(text)

    def set_downloading(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.download_button.setEnabled(not on)
        self.open_button.setEnabled(not on)
        if on:
            self.progress.setRange(0, 0)
            self.set_message("Downloading ImageNet weights…")

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(done * 1000 / total))
            self.progress.setFormat(f"{done / 1e6:.0f} of {total / 1e6:.0f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:.0f} MB")
