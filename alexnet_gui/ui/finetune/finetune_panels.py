"""The Fine-tune view's three panels: health report, settings form, results.

Each shows plain data handed to it (a core HealthReport, a settings dict, a
``finetune_job.FinetuneOutcome``) and knows nothing of jobs or the worker.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QListWidget,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..qtutil import make_label, set_text
from .confusion_widget import ConfusionMatrixWidget
from .gallery_widget import GalleryItem, GalleryWidget

MODE_TIPS = {
    "head": "head — only a new last layer (fc8) learns, on cached fc7 features: seconds on a CPU",
    "classifier": "classifier — fc6, fc7 and a new fc8 learn, on cached pool5 features: minutes on a CPU",
    "all": "all — every layer learns on augmented images; no cache; made for a GPU",
}

VAL_SHARE_TIP = "Share of each class held out to measure accuracy (unless the folder has train/ and val/)"
VAL_OWN_TIP = "Not used: this folder has its own train/ and val/, and accuracy is measured on val/"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


class HealthReportWidget(QGroupBox):
    """Images per class, warnings (imbalance), and every skipped file with its cause."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Health report", parent)
        self.summary = make_label("The health report appears here once a folder is chosen.")
        self.counts = QTableWidget(0, 2)
        self.counts.setHorizontalHeaderLabels(["Class", "Images"])
        self.counts.verticalHeader().setVisible(False)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.counts.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.counts.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.counts.setAccessibleName("Images per class")
        self.counts.setToolTip("Usable images per class folder")
        self.warnings = make_label()
        self.skipped = QListWidget()
        self.skipped.setAccessibleName("Skipped files")
        self.skipped.setToolTip("Files that will not be used, with the reason")
        layout = QVBoxLayout(self)
        for w in (self.summary, self.counts, self.warnings, self.skipped):
            layout.addWidget(w)
        self.warnings.hide()
        self.skipped.hide()
        self._fit_counts()

    def show_checking(self) -> None:
        set_text(self.summary, "Checking the folder…")
        self.counts.setRowCount(0)
        self._fit_counts()
        set_text(self.warnings, "")
        self.show_skipped([])

    def show_error(self, message: str) -> None:
        set_text(self.summary, f"Cannot use this folder: {message}")

    def show_report(self, report) -> None:
        counts = report.counts
        lines = [f"{Path(report.root).name}: {_plural(len(report.classes), 'class', 'classes')}, "
                 f"{_plural(sum(counts.values()), 'image')}"]
        lines.append("Validation: the folder's own val/ images." if report.layout == "train/val"
                     else "Validation: a share of each class, drawn with the seed.")
        lines += [f"Cannot train: {p}" for p in report.problems]
        if report.ok:
            lines.append("Ready to train.")
        set_text(self.summary, "\n".join(lines))
        self.counts.setRowCount(len(counts))
        for r, (name, n) in enumerate(counts.items()):
            for c, text in enumerate((name, str(n))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name}: {_plural(n, 'image')}")
                self.counts.setItem(r, c, item)
        self._fit_counts()
        set_text(self.warnings, "\n".join(f"⚠ {w}" for w in report.warnings))
        self.show_skipped(report.skipped)

    def show_skipped(self, skipped) -> None:
        self.skipped.clear()
        for s in skipped:
            self.skipped.addItem(f"{Path(s.path).name} — {s.error}")
            item = self.skipped.item(self.skipped.count() - 1)
            item.setToolTip(s.path)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"skipped {s.path}: {s.error}")
        self.skipped.setAccessibleName(f"Skipped files: {len(skipped)}")
        self.skipped.setVisible(bool(skipped))
        if skipped:  # up to 4 rows tall: the settings below stay in sight
            rows = min(len(skipped), 4)
            self.skipped.setFixedHeight(rows * self.skipped.sizeHintForRow(0) + 2 * self.skipped.frameWidth() + 4)

    def _fit_counts(self) -> None:
        t = self.counts
        rows = min(max(t.rowCount(), 1), 8)
        t.setFixedHeight(t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 4)

    def text(self) -> str:
        """The whole report as a screen reader reads it."""
        rows = [self.counts.item(r, 0).data(Qt.ItemDataRole.AccessibleTextRole) for r in range(self.counts.rowCount())]
        skipped = [self.skipped.item(r).data(Qt.ItemDataRole.AccessibleTextRole) for r in range(self.skipped.count())]
        return "\n".join([self.summary.accessibleName(), *rows, self.warnings.accessibleName(), *skipped])


class LogSpinBox(QDoubleSpinBox):
    """A small positive number shown as typed (0.001, 1e-05); the arrows double or halve it."""

    def __init__(self, lo: float, hi: float) -> None:
        super().__init__()
        self.setDecimals(10)
        self.setRange(lo, hi)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            ok = self.minimum() <= float(text) <= self.maximum()
        except ValueError:
            ok = False
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self.setValue((self.value() or 1e-6) * 2.0**steps)


class SettingsWidget(QGroupBox):
    """The core's FinetuneSettings as a form; disabled until the core's defaults arrive."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self.defaults: dict | None = None  # {"settings": FinetuneSettings().as_dict(), "modes": [...]}
        self.mode = QComboBox()
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.lr = LogSpinBox(1e-7, 10.0)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 4096)
        self.weight_decay = LogSpinBox(0.0, 1.0)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.val_fraction = QDoubleSpinBox()
        self.val_fraction.setRange(0.05, 0.9)
        self.val_fraction.setSingleStep(0.05)
        self.val_fraction.setDecimals(2)
        self.flip_view = QCheckBox("Also train on mirrored images")
        self.mode_note = make_label()
        self.mode.currentIndexChanged.connect(
            lambda _: set_text(self.mode_note, MODE_TIPS.get(self.mode.currentData(), "")))
        form = QFormLayout(self)
        for name, w, tip in (
            ("Mode", self.mode, "What learns: see each mode's description"),
            ("Epochs", self.epochs, "Passes over the training images"),
            ("Learning rate", self.lr, "Step size of the new layer (pretrained layers use a tenth)"),
            ("Batch size", self.batch_size, "Training images per step"),
            ("Weight decay", self.weight_decay, "L2 penalty on the weights; 0 turns it off"),
            ("Seed", self.seed, "Drives the split, the new layer's start and the shuffling: same seed, same result"),
            ("Validation share", self.val_fraction, VAL_SHARE_TIP),
            ("Flip", self.flip_view, "Horizontally flipped copies of the training images as extra examples"),
        ):
            w.setToolTip(tip)
            w.setAccessibleName(name)
            form.addRow(name, w)
            if w is self.mode:
                form.addRow(self.mode_note)
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setToolTip("Put every setting back to its default")
        self.reset_button.clicked.connect(self.reset)
        form.addRow(self.reset_button)
        self.setEnabled(False)

    def set_own_split(self, own: bool) -> None:
        """A folder with its own train/ and val/ is validated on val/: no share is drawn."""
        self.val_fraction.setEnabled(not own)
        self.val_fraction.setToolTip(VAL_OWN_TIP if own else VAL_SHARE_TIP)

    def set_defaults(self, defaults: dict) -> None:
        self.defaults = defaults
        self.mode.clear()
        for i, mode in enumerate(defaults["modes"]):
            self.mode.addItem(mode, mode)
            self.mode.setItemData(i, MODE_TIPS.get(mode, mode), Qt.ItemDataRole.ToolTipRole)
        self.reset()

    def reset(self) -> None:
        if self.defaults is not None:
            self.set_values(**self.defaults["settings"])

    def set_values(self, **values) -> None:
        """Set fields by the core's names (epochs=2, lr=0.01, mode="head", …); others are ignored."""
        for name, value in values.items():
            w = getattr(self, name, None)
            if name == "mode":
                self.mode.setCurrentIndex(max(0, self.mode.findData(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(value)

    def values(self) -> dict:
        """FinetuneSettings fields as plain data: the core's defaults overlaid with the form."""
        values = dict(self.defaults["settings"]) if self.defaults else {}
        values.update(mode=self.mode.currentData(), epochs=self.epochs.value(), lr=self.lr.value(),
                      batch_size=self.batch_size.value(), weight_decay=self.weight_decay.value(),
                      seed=self.seed.value(), val_fraction=round(self.val_fraction.value(), 4),
                      flip_view=self.flip_view.isChecked())
        return values


class ResultsWidget(QWidget):
    """Accuracy summary, confusion matrix, and the images of a cell or all mistakes."""

    image_opened = Signal(str)  # a thumbnail was double-clicked
    explain_requested = Signal(str, str)  # path, predicted label: "why?" on a thumbnail
    correction_requested = Signal(str, str)  # path, true label: a card to copy into its right class

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outcome = None
        self._summary = ""  # the shown outcome's summary, without the note of a run going on
        self._superseded = False
        self.summary = make_label("Results appear here after a run.")
        self.confusion = ConfusionMatrixWidget()
        self.mistakes_button = QPushButton("Show all mistakes")
        self.mistakes_button.setToolTip("Show every misclassified validation image")
        self.gallery_title = make_label()
        self.gallery = GalleryWidget()
        matrix = QWidget()
        mv = QVBoxLayout(matrix)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.addWidget(make_label("Confusion matrix (rows: true class)"))
        mv.addWidget(self.confusion)
        mv.addWidget(self.mistakes_button)
        mv.addStretch(1)
        images = QWidget()
        gv = QVBoxLayout(images)
        gv.setContentsMargins(0, 0, 0, 0)
        gv.addWidget(self.gallery_title)
        gv.addWidget(self.gallery, 1)
        self.splitter = QSplitter()
        self.splitter.setObjectName("finetune-results-splitter")
        self.splitter.addWidget(matrix)
        self.splitter.addWidget(images)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.splitter, 1)
        self.confusion.cell_chosen.connect(self.show_cell)
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.gallery.itemDoubleClicked.connect(lambda item: self.image_opened.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.gallery.explain_requested.connect(self.explain_requested)
        self.gallery.correction_requested.connect(self.correction_requested)
        self.show_outcome(None)

    def show_outcome(self, outcome) -> None:
        self.outcome = outcome
        self._superseded = False
        if outcome is None:
            set_text(self.summary, "Results appear here after a run.")
            self.confusion.set_matrix([], [])
            self.gallery.set_items([], "Mistakes")
            set_text(self.gallery_title, "")
            self.splitter.hide()  # the curves above take the room until there is something to show
            return
        r = outcome.result
        per_class = ", ".join(f"{c} {a * 100:.0f} %" for c, a in zip(r.classes, r.per_class_accuracy))
        correct = int(r.confusion_matrix.trace())
        cache = f"{r.computed} images through the network" if r.computed else "all features from the cache"
        self._summary = (f"Validation accuracy {r.val_accuracy * 100:.1f} % ({correct} of {r.val_count} correct; "
                         f"{r.train_count} training images, {len(r.classes)} classes, {r.seconds:.1f} s, {cache}).\n"
                         f"Per class: {per_class}." + "".join(f"\n⚠ {w}" for w in r.warnings))
        set_text(self.summary, self._summary)
        self.confusion.set_matrix(r.classes, r.confusion_matrix)
        self.splitter.show()
        width = min(self.confusion.sizeHint().width(), self.width() * 2 // 3)
        self.splitter.setSizes([width, max(self.width() - width, 1)])
        self.show_mistakes()

    def set_superseded(self, on: bool) -> None:
        """A new run is going: the result shown is the last finished one, kept until the new one completes."""
        if self.outcome is None or on == self._superseded:
            return
        self._superseded = on
        note = f"Last finished run ({Path(self.outcome.folder).name}), kept until the new run completes:\n"
        set_text(self.summary, (note if on else "") + self._summary)

    def show_mistakes(self) -> None:
        r = self.outcome.result if self.outcome else None
        items = [GalleryItem(m.path, m.true_label, m.predicted_label, m.confidence) for m in (r.mistakes if r else [])]
        self.gallery.set_items(items, "Mistakes")
        title = f"Mistakes: {len(items)} of {r.val_count} misclassified{self._capped()}" if r else ""
        set_text(self.gallery_title, title)
        self.confusion.clearSelection()

    def show_cell(self, true_index: int, predicted_index: int) -> None:
        """The validation images of one confusion-matrix cell, as thumbnails."""
        if self.outcome is None:
            return
        classes = self.outcome.result.classes
        items = [GalleryItem(v.path, classes[v.true_index], classes[v.predicted_index], v.confidence)
                 for v in self.outcome.cell(true_index, predicted_index)]
        what = "correct" if true_index == predicted_index else f"predicted {classes[predicted_index]}"
        title = f"{classes[true_index]}, {what}"
        self.gallery.set_items(items, title)
        set_text(self.gallery_title, f"{title}: {_plural(len(items), 'image')}{self._capped()}")

    def _capped(self) -> str:
        shown = len(self.gallery.items())
        return f" (first {shown} shown)" if shown < self.gallery.count_given else ""
