"""Fine-tune: teach AlexNet the classes of a folder, watch it learn, use or save the result.

Left: the folder (dialog, drop, or a sample data set), its health report and
the settings. Right: progress with phase and time left, live curves, then the
confusion matrix, the images behind a cell, and what to do with the model.
Every piece of work (scan, run, save, samples) is a worker job (``finetune_job``);
this module only shows plain data and never imports torch.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QListWidget, QMenu, QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from . import finetune_job as jobs
from .confusion_widget import ConfusionMatrixWidget
from .curves_widget import CurvesWidget, EpochPoint
from .gallery_widget import GalleryItem, GalleryWidget

SAMPLES = (("fashion-mnist", "Fashion-MNIST"), ("cifar10", "CIFAR-10"))
MODE_TIPS = {
    "head": "head — only a new last layer (fc8) learns, on cached fc7 features: seconds on a CPU",
    "classifier": "classifier — fc6, fc7 and a new fc8 learn, on cached pool5 features: minutes on a CPU",
    "all": "all — every layer learns on augmented images; no cache; made for a GPU",
}
WEIGHTS_FILTER = "Fine-tuned model (*.pth *.pt);;All files (*)"
PHASE_WORDS = {"scan": "checking files", "extract": "extracting features"}


def format_seconds(s: float) -> str:
    s = max(0, round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def describe_progress(ev) -> str:
    """One line for a core ``Progress`` event: phase, counts, metrics, time left."""
    left = f" — {format_seconds(ev.eta_seconds)} left" if ev.eta_seconds is not None else ""
    if ev.phase in PHASE_WORDS:
        return f"{PHASE_WORDS[ev.phase]} {ev.step}/{ev.total}{left}"
    if ev.phase == "train" and ev.batches:
        return f"epoch {ev.step + 1}/{ev.total}, batch {ev.batch}/{ev.batches} — loss {ev.loss:.2f}{left}"
    if ev.phase == "train" and ev.step > 0 and ev.val_accuracy is not None:
        return f"epoch {ev.step}/{ev.total} — loss {ev.loss:.2f} — val acc {ev.val_accuracy * 100:.1f} %{left}"
    if ev.phase == "train":
        return f"training {ev.step}/{ev.total} epochs{left}"
    if ev.phase == "done":
        acc = f" — val acc {ev.val_accuracy * 100:.1f} %" if ev.val_accuracy is not None else ""
        return f"done{acc}"
    return ev.message or ev.phase


class LogSpinBox(QDoubleSpinBox):
    """A positive number shown as typed (0.001, 1e-05); arrows double or halve it."""

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
        v = self.value() or 1e-6
        self.setValue(v * 2.0 ** steps)


def _label(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(text)
    return label


def _set_text(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


class FinetuneView(QWidget):
    health_report_shown = Signal()
    run_started = Signal()
    run_ended = Signal(str)  # "done" | "cancelled" | "failed"
    model_saved = Signal(str)  # path
    message_shown = Signal(str)
    progress_shown = Signal(object)  # a core Progress event, once the bar shows it
    cache_cleared = Signal(int)  # bytes freed
    result_changed = Signal(bool)  # a finished run is there to use or save

    def __init__(self, client, classify_view=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.classify_view = classify_view
        self.signals = jobs.FinetuneSignals()  # parentless: lives as long as a job holds it
        self.defaults: dict | None = None
        self.folder: str | None = None
        self.report = None  # core HealthReport of self.folder
        self.outcome: jobs.FinetuneOutcome | None = None
        self._tokens = itertools.count(1)
        self._jobs: dict[int, tuple[str, int]] = {}  # worker job id -> (kind, token)
        self._scan_token = self._run_token = 0
        self._run_status = ""
        self._finetuned_active = False
        self._build()
        self._connect()
        self._update_buttons()
        self._run(jobs.defaults_job(self.signals), "defaults")

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        self.folder_label = _label("No folder chosen. Drop a folder with one subfolder per class here.")
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("Pick a folder holding one subfolder of images per class")
        self.samples_button = QPushButton("Sample data")
        self.samples_button.setToolTip("Make a small sample data set (30 images per class) and use it")
        menu = QMenu(self.samples_button)
        for name, title in SAMPLES:
            act = menu.addAction(f"{title} (10 classes)")
            act.setToolTip(f"Write 30 images per class of {title} into the cache and train on them")
            act.triggered.connect(lambda _=False, n=name: self.create_sample(n))
        self.samples_button.setMenu(menu)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.samples_button)
        row.addStretch(1)
        folder_box = QGroupBox("Folder")
        v = QVBoxLayout(folder_box)
        v.addWidget(self.folder_label)
        v.addLayout(row)

        self.report_label = _label("The health report appears here once a folder is chosen.")
        self.counts_table = QTableWidget(0, 2)
        self.counts_table.setHorizontalHeaderLabels(["Class", "Images"])
        self.counts_table.verticalHeader().setVisible(False)
        self.counts_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts_table.setAccessibleName("Images per class")
        self.counts_table.setToolTip("Usable images per class folder")
        self.warnings_label = _label()
        self.skipped_list = QListWidget()
        self.skipped_list.setAccessibleName("Skipped files")
        self.skipped_list.setToolTip("Files that will not be used, with the reason")
        self.skipped_list.setMaximumHeight(80)
        report_box = QGroupBox("Health report")
        v = QVBoxLayout(report_box)
        for w in (self.report_label, self.counts_table, self.warnings_label, self.skipped_list):
            v.addWidget(w)
        self.warnings_label.hide()
        self.skipped_list.hide()
        self._fit_counts_table()

        self.mode_box = QComboBox()
        self.mode_box.setAccessibleName("Mode")
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 1000)
        self.lr_box = LogSpinBox(1e-7, 10.0)
        self.batch_box = QSpinBox()
        self.batch_box.setRange(1, 4096)
        self.decay_box = LogSpinBox(0.0, 1.0)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.val_box = QDoubleSpinBox()
        self.val_box.setRange(0.05, 0.9)
        self.val_box.setSingleStep(0.05)
        self.val_box.setDecimals(2)
        self.flip_box = QCheckBox("Also train on mirrored images")
        self.mode_note = _label()
        self.mode_box.currentIndexChanged.connect(
            lambda _: _set_text(self.mode_note, MODE_TIPS.get(self.mode_box.currentData(), "")))
        settings_box = QGroupBox("Settings")
        self.form = QFormLayout(settings_box)
        for name, w, tip in (
            ("Mode", self.mode_box, "What learns: see each mode's description"),
            ("Epochs", self.epochs_box, "Passes over the training images"),
            ("Learning rate", self.lr_box, "Step size of the new layer (pretrained layers use a tenth)"),
            ("Batch size", self.batch_box, "Training images per step"),
            ("Weight decay", self.decay_box, "L2 penalty on the weights; 0 turns it off"),
            ("Seed", self.seed_box, "Drives the split, the new layer's start and the shuffling: same seed, same result"),
            ("Validation share", self.val_box,
             "Share of each class held out to measure accuracy (unless the folder has train/ and val/)"),
            ("Flip", self.flip_box, "Horizontally flipped copies of the training images as extra examples"),
        ):
            w.setToolTip(tip)
            w.setAccessibleName(name)
            self.form.addRow(name, w)
            if w is self.mode_box:
                self.form.addRow(self.mode_note)
        self.defaults_button = QPushButton("Reset to defaults")
        self.defaults_button.setToolTip("Put every setting back to its default")
        self.defaults_button.clicked.connect(self._apply_defaults)
        self.form.addRow(self.defaults_button)
        settings_box.setEnabled(False)
        self.settings_box = settings_box

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
        for w in (folder_box, report_box, settings_box):
            lv.addWidget(w)
        lv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left = QWidget()  # Start and Cancel stay in sight below the scrolled part
        left.setMinimumWidth(330)
        outer = QVBoxLayout(left)
        outer.setContentsMargins(0, 0, 0, 4)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)

        self.message_label = _label()
        self.message_label.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Idle")
        self.progress.setAccessibleName("Fine-tune progress: idle")
        self.progress.setToolTip("What the fine-tune is doing and how long is left")
        self.curves = CurvesWidget()
        self.summary_label = _label("Results appear here after a run.")
        self.confusion = ConfusionMatrixWidget()
        self.gallery_title = _label()
        self.mistakes_button = QPushButton("Show all mistakes")
        self.mistakes_button.setToolTip("Show every misclassified validation image")
        self.gallery = GalleryWidget()
        matrix = QWidget()
        mv = QVBoxLayout(matrix)
        mv.setContentsMargins(0, 0, 0, 0)
        mv.addWidget(_label("Confusion matrix (rows: true class)"))
        mv.addWidget(self.confusion)
        mv.addWidget(self.mistakes_button)
        mv.addStretch(1)
        gal = QWidget()
        gv = QVBoxLayout(gal)
        gv.setContentsMargins(0, 0, 0, 0)
        gv.addWidget(self.gallery_title)
        gv.addWidget(self.gallery, 1)
        self.results_splitter = results = QSplitter()
        results.addWidget(matrix)
        results.addWidget(gal)
        results.setStretchFactor(1, 1)
        results.setSizes([260, 500])

        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Classify with the new classes (the folder names); the ImageNet model is kept")
        self.compare_box = QCheckBox("Compare with base model")
        self.compare_box.setToolTip("In Classify, show the base (ImageNet) top-5 beside the fine-tuned top-5")
        self.base_button = QPushButton("Back to base model")
        self.base_button.setToolTip("Classify with the base (ImageNet) model again")
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the fine-tuned model as one file (File › Load weights… opens it)")
        model_row = QHBoxLayout()
        for w in (self.use_button, self.compare_box, self.base_button, self.save_button):
            model_row.addWidget(w)
        model_row.addStretch(1)
        self.model_label = _label("Classifying with: —")

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(self.message_label)
        rv.addWidget(self.progress)
        rv.addWidget(self.curves, 2)
        rv.addWidget(self.summary_label)
        rv.addWidget(results, 3)
        rv.addLayout(model_row)
        rv.addWidget(self.model_label)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _connect(self) -> None:
        s = self.signals
        s.defaults_ready.connect(self._on_job_defaults_ready)
        s.scanned.connect(self._on_job_scanned)
        s.progressed.connect(self._on_job_progressed)
        s.finished.connect(self._on_job_finished)
        s.refused.connect(self._on_job_refused)
        s.installed.connect(self._on_job_installed)
        s.saved.connect(self._on_job_saved)
        s.sample_ready.connect(self._on_job_sample_ready)
        s.cache_cleared.connect(self._on_job_cache_cleared)
        w = self.client.worker
        w.job_finished.connect(self._on_worker_job_finished)
        w.job_failed.connect(self._on_worker_job_failed)
        w.model_loaded.connect(self._on_worker_model_loaded)
        self.choose_button.clicked.connect(self.choose_folder_dialog)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.confusion.cell_chosen.connect(self.show_cell)
        self.mistakes_button.clicked.connect(self.show_mistakes)
        self.gallery.itemDoubleClicked.connect(self._on_gallery_item_double_clicked)
        self.use_button.clicked.connect(self.use_model)
        self.compare_box.toggled.connect(self.set_compare)
        self.base_button.clicked.connect(self.back_to_base)
        self.save_button.clicked.connect(self.save_dialog)

    # ------------------------------------------------------------ jobs

    def _run(self, factory, kind: str) -> int:
        job_id = self.client.run_job(factory)
        self._jobs[job_id] = (kind, 0)
        return job_id

    def _start(self, kind: str, make) -> int:
        """Start ``make(token)``'s factory as a job of ``kind``; returns the token."""
        token = next(self._tokens)
        job_id = self.client.run_job(make(token))
        self._jobs[job_id] = (kind, token)
        return token

    def _job_of(self, kind: str) -> int | None:
        return next((jid for jid, (k, _) in self._jobs.items() if k == kind), None)

    def is_running(self) -> bool:
        return self._job_of("run") is not None

    def is_ready(self) -> bool:
        """The settings' defaults have arrived (the worker has loaded the model and the core)."""
        return self.defaults is not None

    # ------------------------------------------------------------ folder and report

    def choose_folder_dialog(self) -> None:
        settings = getattr(self.window(), "settings", None)
        start = settings.value("folders/finetune", str(Path.home()), str) if settings else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder with one subfolder per class", start)
        if folder:
            if settings:
                settings.setValue("folders/finetune", str(Path(folder).parent))
            self.set_folder(folder)

    def handle_drop(self, paths) -> bool:
        """A dropped folder becomes the training folder; files go to Classify."""
        folders = [p for p in paths if Path(p).is_dir()]
        if not folders:
            return False
        self.set_folder(folders[0])
        return True

    def set_folder(self, folder: str) -> None:
        if self.is_running():
            self._message("A fine-tune is running: cancel it before choosing another folder.")
            return
        scan = self._job_of("scan")
        if scan is not None:
            self.client.cancel(scan)
        self.folder = str(folder)
        self.report = None
        _set_text(self.folder_label, f"Folder: {self.folder}")
        self.folder_label.setVisible(True)
        _set_text(self.report_label, "Checking the folder…")
        self.report_label.setVisible(True)
        self.counts_table.setRowCount(0)
        self._fit_counts_table()
        _set_text(self.warnings_label, "")
        self.skipped_list.clear()
        self.skipped_list.hide()
        self._message("")
        self._scan_token = self._start("scan", lambda t: jobs.scan_job(self.signals, self.folder, t))
        self._update_buttons()

    def _on_job_scanned(self, token: int, report) -> None:
        if token != self._scan_token:
            return
        self.report = report
        counts = report.counts
        n_images = sum(counts.values())
        lines = [f"{Path(report.root).name}: {len(report.classes)} classes, {n_images} images"]
        if report.layout == "train/val":
            lines.append("Validation: the folder's own val/ images.")
        else:
            lines.append("Validation: a share of each class, drawn with the seed.")
        lines += [f"Cannot train: {p}" for p in report.problems]
        if report.ok:
            lines.append("Ready to train.")
        _set_text(self.report_label, "\n".join(lines))
        self.counts_table.setRowCount(len(counts))
        for r, (name, n) in enumerate(counts.items()):
            for c, text in enumerate((name, str(n))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{name}: {n} images")
                self.counts_table.setItem(r, c, item)
        self._fit_counts_table()
        _set_text(self.warnings_label, "\n".join(f"⚠ {w}" for w in report.warnings))
        self._show_skipped(report.skipped)
        self.progress.setValue(0)
        self._set_progress_text("Idle")
        self._update_buttons()
        self.health_report_shown.emit()

    def _fit_counts_table(self) -> None:
        # Tall enough for up to 8 classes, no taller: the settings below stay in sight.
        t = self.counts_table
        rows = min(max(t.rowCount(), 1), 8)
        t.setFixedHeight(t.horizontalHeader().height() + rows * t.verticalHeader().defaultSectionSize() + 4)

    def _show_skipped(self, skipped) -> None:
        self.skipped_list.clear()
        for s in skipped:
            self.skipped_list.addItem(f"{Path(s.path).name} — {s.error}")
            item = self.skipped_list.item(self.skipped_list.count() - 1)
            item.setToolTip(s.path)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"skipped {s.path}: {s.error}")
        self.skipped_list.setAccessibleName(f"Skipped files: {len(skipped)}")
        self.skipped_list.setVisible(bool(skipped))

    def report_text(self) -> str:
        """The health report as a screen reader reads it."""
        rows = [self.counts_table.item(r, 0).data(Qt.ItemDataRole.AccessibleTextRole)
                for r in range(self.counts_table.rowCount())]
        skipped = [self.skipped_list.item(r).data(Qt.ItemDataRole.AccessibleTextRole)
                   for r in range(self.skipped_list.count())]
        return "\n".join([self.report_label.accessibleName(), *rows, self.warnings_label.accessibleName(), *skipped])

    # ------------------------------------------------------------ settings

    def _on_job_defaults_ready(self, defaults: dict) -> None:
        self.defaults = defaults
        self.mode_box.clear()
        for i, mode in enumerate(defaults["modes"]):
            self.mode_box.addItem(mode, mode)
            self.mode_box.setItemData(i, MODE_TIPS.get(mode, mode), Qt.ItemDataRole.ToolTipRole)
        self._apply_defaults()
        self.settings_box.setEnabled(True)
        self._update_buttons()

    def _apply_defaults(self) -> None:
        d = self.defaults["settings"]
        self.mode_box.setCurrentIndex(max(0, self.mode_box.findData(d["mode"])))
        self.epochs_box.setValue(d["epochs"])
        self.lr_box.setValue(d["lr"])
        self.batch_box.setValue(d["batch_size"])
        self.decay_box.setValue(d["weight_decay"])
        self.seed_box.setValue(d["seed"])
        self.val_box.setValue(d["val_fraction"])
        self.flip_box.setChecked(d["flip_view"])

    def settings_values(self) -> dict:
        """The core's FinetuneSettings fields as plain data: defaults overlaid with the form."""
        values = dict(self.defaults["settings"]) if self.defaults else {}
        values.update(mode=self.mode_box.currentData(), epochs=self.epochs_box.value(), lr=self.lr_box.value(),
                      batch_size=self.batch_box.value(), weight_decay=self.decay_box.value(),
                      seed=self.seed_box.value(), val_fraction=round(self.val_box.value(), 4),
                      flip_view=self.flip_box.isChecked())
        return values

    def set_settings(self, **values) -> None:
        """Set form fields by the core's names (epochs=2, lr=0.01, mode="head", …)."""
        boxes = {"epochs": self.epochs_box, "lr": self.lr_box, "batch_size": self.batch_box,
                 "weight_decay": self.decay_box, "seed": self.seed_box, "val_fraction": self.val_box}
        for name, value in values.items():
            if name == "mode":
                self.mode_box.setCurrentIndex(self.mode_box.findData(value))
            elif name == "flip_view":
                self.flip_box.setChecked(bool(value))
            else:
                boxes[name].setValue(value)

    # ------------------------------------------------------------ running

    def start(self) -> bool:
        """Start a fine-tune on the chosen folder; False (with a message) when it cannot start."""
        if self.is_running():
            return False
        if not self.is_ready():
            self._message("The model is still loading; try again in a moment.")
            return False
        if not self.folder:
            self._message("Choose a folder first (or drop one here).")
            return False
        self._message("")
        self._set_outcome(None)
        self.curves.reset(self.epochs_box.value())
        self.progress.setValue(0)
        self._set_progress_text("starting…")
        self._run_status = ""
        values, report = self.settings_values(), self.report
        self._run_token = self._start("run", lambda t: jobs.finetune_job(self.signals, self.folder, values, report, t))
        self._update_buttons()
        self.run_started.emit()
        return True

    def cancel(self) -> None:
        job = self._job_of("run")
        if job is not None:
            self.client.cancel(job)
            self._set_progress_text("cancelling…")

    def _on_job_progressed(self, token: int, ev) -> None:
        if token not in (self._run_token, self._scan_token) or (token == self._scan_token and self.report):
            return
        self.progress.setValue(round(ev.fraction * 1000))
        self._set_progress_text(describe_progress(ev))
        if ev.phase == "train" and not ev.batches and ev.step > 0 and ev.val_accuracy is not None:
            self.curves.add_point(EpochPoint(ev.step, ev.loss, ev.accuracy, ev.val_loss, ev.val_accuracy))
        elif ev.phase == "train" and ev.step == 0 and not ev.batches:
            self.curves.reset(ev.total)
        self.progress_shown.emit(ev)

    def _on_job_finished(self, token: int, outcome) -> None:
        if token != self._run_token:
            return
        self._run_status = "done"
        self._set_outcome(outcome)
        self.progress.setValue(1000)
        self._set_progress_text(f"done — val acc {outcome.result.val_accuracy * 100:.1f} %")

    def _set_outcome(self, outcome) -> None:
        self.outcome = outcome
        if outcome is None:
            _set_text(self.summary_label, "Results appear here after a run.")
            self.summary_label.show()
            self.confusion.set_matrix([], [])
            self.confusion.setAccessibleName("Confusion matrix: no results yet")
            self.gallery.set_items([], "Mistakes")
            _set_text(self.gallery_title, "")
        else:
            r = outcome.result
            per_class = ", ".join(f"{c} {a * 100:.0f} %" for c, a in zip(r.classes, r.per_class_accuracy))
            correct = int(r.confusion_matrix.trace())
            cache = f"{r.computed} images through the network" if r.computed else "all features from the cache"
            _set_text(self.summary_label,
                      f"Validation accuracy {r.val_accuracy * 100:.1f} % ({correct} of {r.val_count} correct; "
                      f"{r.train_count} training images, {len(r.classes)} classes, {r.seconds:.1f} s, {cache}).\n"
                      f"Per class: {per_class}.")
            self.confusion.set_matrix(r.classes, r.confusion_matrix)
            total = sum(self.results_splitter.sizes())
            width = min(self.confusion.sizeHint().width(), total * 2 // 3)
            self.results_splitter.setSizes([width, total - width])
            self.show_mistakes()
            if r.skipped:
                self._show_skipped(r.skipped)
        self._update_buttons()
        self.result_changed.emit(outcome is not None)

    def show_mistakes(self) -> None:
        r = self.outcome.result if self.outcome else None
        items = [GalleryItem(m.path, m.true_label, m.predicted_label, m.confidence) for m in (r.mistakes if r else [])]
        self.gallery.set_items(items, "Mistakes")
        title = f"Mistakes: {len(items)} of {r.val_count if r else 0} validation images misclassified"
        _set_text(self.gallery_title, title if r else "")
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
        _set_text(self.gallery_title, f"{title}: {len(items)} image{'s' if len(items) != 1 else ''}")

    def _on_gallery_item_double_clicked(self, item) -> None:
        window = self.window()
        if hasattr(window, "open_paths"):
            window.open_paths([item.data(Qt.ItemDataRole.UserRole)])

    # ------------------------------------------------------------ the model

    def use_model(self) -> None:
        if self.outcome is not None:
            outcome = self.outcome
            self._start("use", lambda t: jobs.use_model_job(self.signals, outcome, t))

    def set_compare(self, on: bool) -> None:
        """Show the base model's top-5 beside the fine-tuned one in Classify."""
        if self.compare_box.isChecked() != on:
            self.compare_box.setChecked(on)  # comes back here through toggled
            return
        self.client.compare_requested.emit(on)  # before Classify asks again for its image
        if self.classify_view is not None:
            self.classify_view.set_compare(on)

    def back_to_base(self) -> None:
        self.set_compare(False)
        self.client.restore_base_requested.emit()

    def _on_job_installed(self, token: int) -> None:
        classes = self.outcome.result.classes if self.outcome else []
        self._status(f"Classifying with the fine-tuned model: {', '.join(classes)}")

    def _on_worker_model_loaded(self, info) -> None:
        self._finetuned_active = info.base_description is not None
        text = f"Classifying with: {info.description}"
        if info.base_description:
            text += f"; base kept for comparison: {info.base_description}"
        _set_text(self.model_label, text)
        if not self._finetuned_active and self.compare_box.isChecked():
            self.set_compare(False)
        self._update_buttons()

    def save_dialog(self) -> None:
        if self.outcome is None:
            self._message("Nothing to save yet: run a fine-tune first.")
            return
        settings = getattr(self.window(), "settings", None)
        folder = settings.value("folders/finetuned", str(Path.home()), str) if settings else str(Path.home())
        name = f"{Path(self.outcome.folder).name}-alexnet.pth"
        path, _ = QFileDialog.getSaveFileName(self, "Save fine-tuned model", str(Path(folder) / name), WEIGHTS_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".pth"
            if settings:
                settings.setValue("folders/finetuned", str(Path(path).parent))
            self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Write the fine-tuned model to ``path`` in the worker; ``model_saved`` follows."""
        if self.outcome is None:
            return False
        outcome = self.outcome
        self._start("save", lambda t: jobs.save_job(self.signals, outcome, str(path), t))
        self._status(f"Saving {path}…")
        return True

    def _on_job_saved(self, token: int, path: str) -> None:
        self._status(f"Saved the fine-tuned model to {path}")
        self.model_saved.emit(path)

    # ------------------------------------------------------------ samples and cache

    def create_sample(self, name: str) -> None:
        title = dict(SAMPLES).get(name, name)
        self._message(f"Preparing the {title} sample…")
        self._start("sample", lambda t: jobs.sample_job(self.signals, name, t))

    def _on_job_sample_ready(self, token: int, folder: str) -> None:
        self._message("")
        self.set_folder(folder)

    def clear_feature_cache(self) -> None:
        if self.is_running():
            self._message("A fine-tune is using the feature cache: cancel it first.")
            return
        self._start("cache", lambda t: jobs.clear_cache_job(self.signals, t))

    def _on_job_cache_cleared(self, token: int, freed: int) -> None:
        self._status(f"Cleared the feature cache ({freed / 1e6:.1f} MB freed)")
        self.cache_cleared.emit(freed)

    # ------------------------------------------------------------ endings

    def _on_job_refused(self, token: int, message: str) -> None:
        if token == self._run_token:
            self._run_status = "failed"
            self._set_progress_text("stopped")
        if token == self._scan_token and self.report is None:
            _set_text(self.report_label, f"Cannot use this folder: {message}")
        self._message(message)

    def _on_worker_job_finished(self, job_id: int, cancelled: bool) -> None:
        kind, token = self._jobs.pop(job_id, ("", 0))
        if kind == "run":
            status = "cancelled" if cancelled else (self._run_status or "failed")
            if status == "cancelled":
                self.progress.setValue(0)
                self._set_progress_text("cancelled — nothing was saved")
            self._update_buttons()
            self.run_ended.emit(status)
        elif kind:
            self._update_buttons()

    def _on_worker_job_failed(self, job_id: int, message: str) -> None:
        if job_id in self._jobs:
            kind = self._jobs[job_id][0]
            if kind == "run":
                self._run_status = "failed"
                self._set_progress_text("failed")
            self._message(message)
            self._on_worker_job_finished(job_id, cancelled=False)

    def on_window_closing(self) -> None:
        for job_id in list(self._jobs):
            self.client.cancel(job_id)
        jobs.abort_all(self.signals)

    # ------------------------------------------------------------ state and text

    def _update_buttons(self) -> None:
        running = self.is_running()
        ready = self.is_ready() and self.report is not None and self.report.ok
        self.start_button.setEnabled(ready and not running)
        self.cancel_button.setEnabled(running)
        self.choose_button.setEnabled(not running)
        self.samples_button.setEnabled(not running)
        self.settings_box.setEnabled(self.is_ready() and not running)
        has = self.outcome is not None
        self.use_button.setEnabled(has)
        self.save_button.setEnabled(has)
        self.mistakes_button.setEnabled(has)
        self.compare_box.setEnabled(self._finetuned_active)
        self.base_button.setEnabled(self._finetuned_active)

    def _set_progress_text(self, text: str) -> None:
        self.progress.setFormat(text)  # no %p/%v/%m in these texts, so Qt shows it as is
        self.progress.setAccessibleName(f"Fine-tune progress: {text}")

    def progress_text(self) -> str:
        return self.progress.accessibleName().removeprefix("Fine-tune progress: ")

    def _message(self, text: str) -> None:
        _set_text(self.message_label, f"⚠ {text}" if text and not text.startswith("Preparing") else text)
        if text:
            self.message_shown.emit(text)

    def _status(self, text: str) -> None:
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 8000)
