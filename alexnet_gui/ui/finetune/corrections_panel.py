"""Teach by correcting: copy an image into its right class of the fine-tune folder, then retrain.

The panel shows the class to file an image under (an existing class, or a new
name typed in), the images added this session (each can be undone: the copy is
deleted, the user's own file was never touched) and Retrain, which runs the
fine-tune again on the folder: the feature cache makes only the added images go
through the network. After a retrain the previous accuracy and confusion
matrix stay here, beside the new ones shown in the results. Copies are plain
file work (``core.audit.corrections``, no torch).

With "Retrain automatically" on (a setting kept between sessions), a retrain
starts by itself ``AUTO_RETRAIN_DELAY_MS`` after the last image was added (a
burst of camera captures is one retrain), once there is a trained result to
improve; while a fine-tune runs it waits for it to end.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.audit.corrections import AddedImage, CorrectionError, copy_into_class, undo
from ..qtutil import make_label, refill_keeping_text, set_text
from .confusion_widget import ConfusionMatrixWidget

AUTO_RETRAIN_KEY = "finetune/auto_retrain"
AUTO_RETRAIN_DELAY_MS = 1500
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


class CorrectionsPanel(QGroupBox):
    retrain_requested = Signal()
    audit_requested = Signal()  # the dataset map and audit of the folder
    added_changed = Signal(int)  # how many images are in the added list
    dataset_changed = Signal(object, list)  # the folder copies go to (None: none), its classes

    def __init__(self, settings=None, parent: QWidget | None = None) -> None:
        super().__init__("Correct and retrain", parent)
        self.settings = settings  # QSettings: "Retrain automatically" is remembered there
        self.can_retrain = lambda: True  # the view says whether a retrain may start now
        self._auto_pending = False  # images were added while a retrain could not start
        self.dataset: str | None = None  # where copies go: the folder holding the class subfolders
        self.added: list[AddedImage] = []
        self.pending: str | None = None  # an image chosen to be filed (from a gallery card)
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.setToolTip("The image's right class: pick one, or type a new class name")
        self.class_box.setAccessibleName("Right class")
        self.add_button = QPushButton("Add image…")
        self.add_button.setToolTip("Copy an image into the chosen class's folder (your file is not changed)")
        self.file_button = QPushButton("Copy into class")
        self.file_button.setToolTip("Copy the image chosen on a card into the chosen class's folder")
        self.added_list = QListWidget()
        self.added_list.setAccessibleName("Added images")
        self.added_list.setMaximumHeight(110)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Delete the selected copy from the folder (the original stays)")
        self.retrain_button = QPushButton("Retrain")
        self.retrain_button.setToolTip("Train the head again; only the added images go through the network")
        self.audit_button = QPushButton("Map and audit…")
        self.audit_button.setToolTip("The folder as a map of its images, with its likely mislabelled images, "
                                     "duplicates and train/val leaks")
        self.auto_box = QCheckBox("Retrain automatically")
        self.auto_box.setToolTip("Retrain by itself shortly after images are added (once a model has been trained)")
        self.auto_box.setChecked(bool(settings is not None and settings.value(AUTO_RETRAIN_KEY, False, bool)))
        self._auto_timer = QTimer(self, singleShot=True, interval=AUTO_RETRAIN_DELAY_MS)
        self._auto_timer.timeout.connect(self._auto_retrain)
        self.pending_label = make_label()
        self.message = make_label()
        self.compare_label = make_label()
        self.previous_confusion = ConfusionMatrixWidget()
        self.previous_confusion.hide()
        row = QHBoxLayout()
        for w in (self.class_box, self.file_button, self.add_button):
            row.addWidget(w)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.auto_box)
        buttons.addWidget(self.audit_button)
        buttons.addWidget(self.retrain_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pending_label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.added_list)
        layout.addLayout(buttons)
        layout.addWidget(self.compare_label)
        layout.addWidget(self.previous_confusion)
        self.add_button.clicked.connect(self.add_dialog)
        self.file_button.clicked.connect(self.file_pending)
        self.undo_button.clicked.connect(self.undo_selected)
        self.retrain_button.clicked.connect(self.retrain_requested)
        self.audit_button.clicked.connect(self.audit_requested)
        self.added_list.currentRowChanged.connect(lambda _: self._update_buttons())
        self.auto_box.toggled.connect(self._on_auto_toggled)
        self.set_dataset(None, [])

    def set_dataset(self, folder: str | None, classes: list[str]) -> None:
        """Where copies go, and the classes offered; a new folder starts a new added list."""
        if folder != self.dataset:
            self.added.clear()
            self.added_list.clear()
            self.compare_label.clear()
            self.previous_confusion.hide()
        self.dataset = folder
        refill_keeping_text(self.class_box, classes)
        self._update_buttons()
        self.dataset_changed.emit(folder, list(classes))

    def choose(self, path: str, class_name: str | None = None) -> None:
        """An image to file (a gallery card's): shown, with its likely right class preselected."""
        self.pending = path
        set_text(self.pending_label, f"To copy: {Path(path).name}")
        if class_name:
            self.class_box.setEditText(class_name)
        self._update_buttons()

    def file_pending(self) -> bool:
        if self.pending is None:
            return False
        if self.add(self.pending, self.class_box.currentText()):
            self.pending = None
            set_text(self.pending_label, "")
            self._update_buttons()
            return True
        return False

    def add_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Images to add", "", IMAGE_FILTER)
        for path in paths:
            if not self.add(path, self.class_box.currentText()):
                break

    def add(self, path: str, class_name: str) -> bool:
        """Copy ``path`` into ``class_name``'s folder; False (with a message) when it cannot."""
        if self.dataset is None:
            set_text(self.message, "Choose a fine-tune folder first.")
            return False
        try:
            added = copy_into_class(self.dataset, path, class_name)
        except CorrectionError as exc:
            set_text(self.message, str(exc))
            return False
        self.note_added(added)
        set_text(self.message, f"Copied into {added.class_name}/; "
                               f"{'it is learned from shortly' if self.auto_box.isChecked() else 'Retrain to learn from it'}.")
        return True

    def note_added(self, added: AddedImage) -> None:
        """An image now in the folder (copied here, or captured by the camera): listed to undo,
        and learned from at the next retrain (soon, when retraining automatically)."""
        self.added.append(added)
        self.added_list.addItem(f"{Path(added.source).name} → {added.class_name}/{Path(added.copy).name}")
        if self.class_box.findText(added.class_name) < 0:
            self.class_box.addItem(added.class_name)
        self._update_buttons()
        self.added_changed.emit(len(self.added))
        if self.auto_box.isChecked():
            self._auto_pending = True
            self._auto_timer.start()  # again: a burst of additions is one retrain

    def run_started(self) -> None:
        """A fine-tune starts: it learns from every image added until now."""
        self._auto_pending = False
        self._auto_timer.stop()

    def run_ended(self, done: bool) -> None:
        """A fine-tune ended: images added while it ran are learned from now (when it finished;
        after a cancel or a failure nothing starts by itself)."""
        if not done:
            self._auto_pending = False
        elif self._auto_pending and self.auto_box.isChecked() and not self._auto_timer.isActive():
            self._auto_retrain()

    def _auto_retrain(self) -> None:
        if not self._auto_pending or not self.auto_box.isChecked() or not self.can_retrain():
            return  # run_ended() tries again when the running fine-tune ends
        self._auto_pending = False
        self.retrain_requested.emit()

    def _on_auto_toggled(self, on: bool) -> None:
        if self.settings is not None:
            self.settings.setValue(AUTO_RETRAIN_KEY, on)
        if on and self.added:
            self._auto_pending = True
            self._auto_timer.start()

    def undo_selected(self) -> bool:
        row = self.added_list.currentRow()
        if row < 0:
            row = len(self.added) - 1
        if row < 0:
            return False
        added = self.added[row]
        if not undo(added):
            set_text(self.message, f"{Path(added.copy).name} was changed or is gone; left as it is.")
        else:
            set_text(self.message, f"Removed the copy {added.class_name}/{Path(added.copy).name}.")
        del self.added[row]
        self.added_list.takeItem(row)
        self._update_buttons()
        self.added_changed.emit(len(self.added))
        return True

    def show_before_after(self, before, after) -> None:
        """The previous run's accuracy and confusion matrix beside the new run's (results below)."""
        if before is None:
            return
        set_text(self.compare_label, f"Validation accuracy before {before.val_accuracy * 100:.1f} %, "
                                     f"now {after.val_accuracy * 100:.1f} %. Previous confusion matrix:")
        self.previous_confusion.set_matrix(before.classes, before.confusion_matrix)
        self.previous_confusion.show()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = getattr(self, "_busy", False)
        self.add_button.setEnabled(self.dataset is not None)
        self.file_button.setEnabled(self.dataset is not None and self.pending is not None)
        self.undo_button.setEnabled(bool(self.added))
        self.retrain_button.setEnabled(self.dataset is not None and not busy)
        self.audit_button.setEnabled(self.dataset is not None and not busy)
