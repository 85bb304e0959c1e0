"""Fine-tune: teach AlexNet the classes of a folder, watch it learn, use or save the result.

Left: the folder (dialog, drop, or a sample data set), its health report and
the settings. Right: progress with phase and time left, live curves, then the
confusion matrix, the images behind a cell, and what to do with the model.
Every piece of work (scan, run, save, samples) is a job of the worker process
(``worker.finetune_jobs``), asked for as a plain tuple ``(kind, token, *args)``;
this module only shows plain data and never imports torch.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QVBoxLayout, QWidget

from ...core.finetune.results import EpochStats
from ...core.finetune.samples import SAMPLE_TITLES
from ..qtutil import set_text
from .corrections_panel import CorrectionsPanel
from .finetune_controls import FinetuneControls
from .finetune_results import FinetuneResultsColumn, describe_progress

WEIGHTS_FILTER = "Fine-tuned model (*.pth *.pt);;All files (*)"


def finetune_defaults() -> dict:
    """The form's defaults and modes, read from the core's settings (plain data, no torch)."""
    from ...core.finetune import MODES, FinetuneSettings

    return {"settings": FinetuneSettings().as_dict(), "modes": list(MODES)}


class FinetuneView(QWidget):
    health_report_shown = Signal()
    run_started = Signal()
    run_ended = Signal(str)  # "done" | "cancelled" | "failed"
    model_saved = Signal(str)  # path
    message_shown = Signal(str)
    progress_shown = Signal(object)  # a core Progress event, once the bar shows it
    cache_cleared = Signal(int)  # bytes freed
    result_changed = Signal(bool)  # a finished run is there to use or save
    compare_changed = Signal(bool)  # show the base model's top-5 beside the fine-tuned one
    explain_requested = Signal(str, str, int)  # path, predicted label, run token: "why?" on a gallery card
    audited = Signal(object)  # core.audit AuditResult shown in the map window

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = client = ctx.client
        self.signals = client.finetune  # the fine-tune jobs' events, with our tokens
        self.defaults: dict | None = None
        self.folder: str | None = None
        self.report = None  # core HealthReport of self.folder
        self.outcome = None  # worker.results.FinetuneOutcome of the last finished run, without its weights
        self._tokens = itertools.count(1)
        self._jobs: dict[str, object] = {}  # kind -> the running Job of that kind (one at a time each)
        self._scan_token = self._run_token = self._audit_token = 0
        self.map_window = None  # the dataset map and audit window, made when first asked for
        self._run_status = ""
        self._finetuned_active = False
        self._retrain_from = None  # the result a retrain started from (shown beside the new one)
        self._use_after_run = False  # a retrain of the model in use puts the new head in use
        self._build()
        self._connect()
        self._update_buttons()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        splitter = QSplitter()
        splitter.setObjectName("finetune-splitter")
        splitter.addWidget(self._build_left())
        splitter.addWidget(self._build_right())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 740])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _build_left(self) -> QWidget:
        """Folder, health report and settings (scrolled), with Start and Cancel below."""
        self.controls = FinetuneControls()
        c = self.controls
        self.folder_label, self.choose_button, self.samples_button = c.folder_label, c.choose_button, c.samples_button
        self.health, self.settings_box = c.health, c.settings_box
        self.start_button, self.cancel_button = c.start_button, c.cancel_button
        c.sample_requested.connect(self.create_sample)
        return c

    def _build_right(self) -> QWidget:
        """Message, progress, curves, results, and what to do with the model."""
        self.results_column = FinetuneResultsColumn()
        r = self.results_column
        self.message_label, self.progress, self.curves, self.results = r.message_label, r.progress, r.curves, r.results
        # Short names for what tests and screen-reader checks read.
        self.summary_label, self.confusion, self.gallery = r.results.summary, r.results.confusion, r.results.gallery
        self.use_button, self.compare_box, self.base_button = r.use_button, r.compare_box, r.base_button
        self.save_button, self.model_label = r.save_button, r.model_label
        self.corrections = CorrectionsPanel(self.ctx.settings)
        # An automatic retrain improves a trained result, and waits for a running fine-tune.
        self.corrections.can_retrain = lambda: (self.outcome is not None and self.is_ready()
                                                and not self.is_running())
        r.layout().addWidget(self.corrections)
        return r

    def _connect(self) -> None:
        s = self.signals
        s.scanned.connect(self._on_job_scanned)
        s.progressed.connect(self._on_job_progressed)
        s.finished.connect(self._on_job_finished)
        s.refused.connect(self._on_job_refused)
        s.installed.connect(self._on_job_installed)
        s.saved.connect(self._on_job_saved)
        s.sample_ready.connect(self._on_job_sample_ready)
        s.cache_cleared.connect(self._on_job_cache_cleared)
        w = self.client.worker
        w.model_loaded.connect(self._on_worker_model_loaded)
        self.choose_button.clicked.connect(self.choose_folder_dialog)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.results.image_opened.connect(self._on_results_image_opened)
        self.results.explain_requested.connect(self._on_results_explain_requested)
        self.results.correction_requested.connect(self.corrections.choose)
        self.corrections.retrain_requested.connect(self.retrain)
        self.corrections.audit_requested.connect(self.audit)
        s.audited.connect(self._on_job_audited)
        self.use_button.clicked.connect(self.use_model)
        self.compare_box.toggled.connect(self.set_compare)
        self.base_button.clicked.connect(self.back_to_base)
        self.save_button.clicked.connect(self.save_dialog)

    # ------------------------------------------------------------ jobs

    def _start(self, kind: str, make) -> int:
        """Ask the worker for the job ``make(token)`` (a request tuple) of ``kind``; returns the token."""
        token = next(self._tokens)
        job = self.client.run_finetune(make(token))
        self._jobs[kind] = job
        job.failed.connect(lambda message: self._on_job_failed(kind, job, message))
        job.finished.connect(lambda: self._on_job_ended(kind, job, cancelled=False))
        job.cancelled.connect(lambda: self._on_job_ended(kind, job, cancelled=True))
        return token

    def _job_of(self, kind: str):
        return self._jobs.get(kind)

    def is_running(self) -> bool:
        return self._job_of("run") is not None

    def is_ready(self) -> bool:
        """The settings' defaults have arrived (the worker has loaded the model and the core)."""
        return self.defaults is not None

    # ------------------------------------------------------------ folder and report

    def choose_folder_dialog(self) -> None:
        settings = self.ctx.settings
        start = settings.value("folders/finetune", str(Path.home()), str)
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder with one subfolder per class", start)
        if folder:
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
            scan.cancel()
        self.folder = str(folder)
        self.report = None
        self.settings_box.set_own_split(False)
        set_text(self.folder_label, f"Folder: {self.folder}")
        self.controls.torchrun.set_folder(self.folder)
        self.health.show_checking()
        self._message("")
        self._scan_token = self._start("scan", lambda t: ("scan", t, self.folder))
        self._update_buttons()

    def rescan(self) -> None:
        """Check the folder again (images were added to it), unless a fine-tune is running."""
        if self.folder and not self.is_running():
            self.set_folder(self.folder)

    def _on_job_scanned(self, token: int, report) -> None:
        if token != self._scan_token:
            return
        self.report = report
        self.health.show_report(report)
        self.corrections.set_dataset(train_root(report), report.classes)
        self.settings_box.set_own_split(report.layout == "train/val")
        self._set_progress("idle", 0)
        self._update_buttons()
        self.health_report_shown.emit()

    def report_text(self) -> str:
        """The health report as a screen reader reads it."""
        return self.health.text()

    # ------------------------------------------------------------ settings

    def _on_job_defaults_ready(self, defaults: dict) -> None:
        self.defaults = defaults
        self.settings_box.set_defaults(defaults)
        self.controls.torchrun.refresh()
        self._update_buttons()

    def settings_values(self) -> dict:
        return self.settings_box.values()

    def set_settings(self, **values) -> None:
        """Set form fields by the core's names (epochs=2, lr=0.01, mode="head", …)."""
        self.settings_box.set_values(**values)

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
        # The last finished result stays usable and savable until this run completes.
        self.results.set_superseded(self.outcome is not None)
        self.curves.reset(self.settings_box.epochs.value())
        self._set_progress("starting…", 0)
        self._run_status = ""
        values = self.settings_values()
        self.corrections.run_started()  # this run learns from every image added so far
        self._run_token = self._start("run", lambda t: ("run", t, self.folder, values))
        self._update_buttons()
        self.run_started.emit()
        return True

    def retrain(self) -> bool:
        """Run the fine-tune again on the folder (with its added images); the previous result is
        shown beside the new one, and a fine-tuned model in use is replaced by the new one."""
        self._retrain_from = self.outcome.result if self.outcome is not None else None
        self._use_after_run = self._finetuned_active
        if not self.start():
            self._retrain_from, self._use_after_run = None, False
            return False
        return True

    def audit(self) -> bool:
        """Open the dataset map and audit window and ask the worker for the folder's map and lists."""
        if not self.folder or not self.is_ready():
            return False
        from .dataset_map import DatasetMapWindow

        if self.map_window is None:
            self.map_window = DatasetMapWindow(self)
            self.map_window.image_opened.connect(lambda path: self.ctx.open_paths([path]))
            self.map_window.correction_requested.connect(self.corrections.choose)
        old = self._job_of("audit")
        if old is not None:
            old.cancel()
        self.map_window.show_waiting(self.folder)
        self.map_window.show()
        values = self.settings_values()
        self._audit_token = self._start("audit", lambda t: ("audit", t, self.folder, values))
        return True

    def _on_job_audited(self, token: int, result) -> None:
        if token == self._audit_token and self.map_window is not None:
            self.map_window.show_result(result)
            self.audited.emit(result)

    def cancel(self) -> None:
        job = self._job_of("run")
        if job is not None:
            job.cancel()
            self._set_progress("cancelling…")

    def _on_job_progressed(self, token: int, ev) -> None:
        if token not in (self._run_token, self._scan_token) or (token == self._scan_token and self.report):
            return
        self._set_progress(describe_progress(ev), round(ev.fraction * 1000))
        if ev.phase == "train" and not ev.batches and ev.step > 0 and ev.val_accuracy is not None:
            self.curves.add_point(EpochStats(ev.step, ev.loss, ev.accuracy, ev.val_loss, ev.val_accuracy))
        elif ev.phase == "train" and ev.step == 0 and not ev.batches:
            self.curves.reset(ev.total)
        self.progress_shown.emit(ev)

    def _on_job_finished(self, token: int, outcome) -> None:
        if token != self._run_token:
            return
        self._run_status = "done"
        self._set_outcome(outcome)
        self._set_progress(f"done — val acc {outcome.result.val_accuracy * 100:.1f} %", 1000)
        if self.corrections.dataset is not None:
            self.corrections.set_dataset(self.corrections.dataset, outcome.result.classes)  # new classes too
        if self._retrain_from is not None:
            self.corrections.show_before_after(self._retrain_from, outcome.result)
        if self._use_after_run:
            self.use_model()  # Classify answers with the new head
        self._retrain_from, self._use_after_run = None, False

    def _set_outcome(self, outcome) -> None:
        self.outcome = outcome
        self.results.show_outcome(outcome)
        if outcome is not None and outcome.result.skipped:
            self.health.show_skipped(outcome.result.skipped)  # the scan's, and images that failed to decode
        self._update_buttons()
        self.result_changed.emit(outcome is not None)

    def show_cell(self, true_index: int, predicted_index: int) -> None:
        self.results.show_cell(true_index, predicted_index)

    def _on_results_explain_requested(self, path: str, label: str) -> None:
        if self.outcome is not None:
            self.explain_requested.emit(path, label, self.outcome.token)

    def correct_image(self, path: str) -> None:
        """An image Classify got wrong: chosen in the corrections panel, this tab brought forward."""
        self.corrections.choose(path)
        self.ctx.show_view(self)

    def _on_results_image_opened(self, path: str) -> None:
        self.ctx.open_paths([path])

    # ------------------------------------------------------------ the model

    def use_model(self) -> None:
        if self.outcome is not None:
            outcome = self.outcome
            self._start("use", lambda t: ("use", t, outcome.token))

    def set_compare(self, on: bool) -> None:
        """Show the base model's top-5 beside the fine-tuned one in Classify."""
        if self.compare_box.isChecked() != on:
            self.compare_box.setChecked(on)  # comes back here through toggled
            return
        self.client.compare_requested.emit(on)  # before Classify asks again for its image
        self.compare_changed.emit(on)

    def back_to_base(self) -> None:
        self.set_compare(False)
        self.client.restore_base_requested.emit()

    def _on_job_installed(self, token: int) -> None:
        classes = self.outcome.result.classes if self.outcome else []
        self._status(f"Fine-tuned model in use ({len(classes)} classes)")

    def _on_worker_model_loaded(self, info) -> None:
        if self.defaults is None:
            self._on_job_defaults_ready(finetune_defaults())
        self._finetuned_active = info.base_description is not None
        self.results_column.show_model(info.description, info.base_description)
        if not self._finetuned_active and self.compare_box.isChecked():
            self.set_compare(False)
        self._update_buttons()

    def save_dialog(self) -> None:
        if self.outcome is None:
            self._message("Nothing to save yet: run a fine-tune first.")
            return
        settings = self.ctx.settings
        folder = settings.value("folders/finetuned", str(Path.home()), str)
        name = f"{Path(self.outcome.folder).name}-alexnet.pth"
        path, _ = QFileDialog.getSaveFileName(self, "Save fine-tuned model", str(Path(folder) / name), WEIGHTS_FILTER)
        if path:
            if not Path(path).suffix:
                path += ".pth"
            settings.setValue("folders/finetuned", str(Path(path).parent))
            self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Write the fine-tuned model to ``path`` in the worker; ``model_saved`` follows."""
        if self.outcome is None:
            return False
        outcome = self.outcome
        self._start("save", lambda t: ("save", t, outcome.token, str(path)))
        self._status(f"Saving {path}…")
        return True

    def _on_job_saved(self, token: int, path: str) -> None:
        self._status(f"Saved the fine-tuned model to {path}")
        self.model_saved.emit(path)

    # ------------------------------------------------------------ samples and cache

    def create_sample(self, name: str) -> None:
        title = SAMPLE_TITLES.get(name, name)
        self._message(f"Preparing the {title} sample…", warning=False)
        self._start("sample", lambda t: ("sample", t, name))

    def _on_job_sample_ready(self, token: int, folder: str) -> None:
        self._message("")
        self.set_folder(folder)

    def clear_feature_cache(self) -> None:
        if self.is_running():
            self._message("A fine-tune is using the feature cache: cancel it first.")
            return
        self._start("cache", lambda t: ("clear_cache", t))

    def _on_job_cache_cleared(self, token: int, freed: int) -> None:
        self._status(f"Cleared the feature cache ({freed / 1e6:.1f} MB freed)")
        self.cache_cleared.emit(freed)

    # ------------------------------------------------------------ endings

    def _on_job_refused(self, token: int, message: str) -> None:
        if token == self._run_token:
            self._run_status = "failed"
            self._set_progress("not started: see the message above", 0)
        if token == self._scan_token and self.report is None:
            self.health.show_error(message)
        if token == self._audit_token and self.map_window is not None:
            self.map_window.show_message(message)
        self._message(message)

    def _on_job_ended(self, kind: str, job, cancelled: bool) -> None:
        if self._jobs.get(kind) is job:
            del self._jobs[kind]
        if kind == "run":
            status = "cancelled" if cancelled else (self._run_status or "failed")
            if status == "cancelled":
                kept = "; the last finished result is kept" if self.outcome is not None else ""
                self._set_progress(f"cancelled — nothing was saved{kept}", 0)
            if status != "done":
                self.results.set_superseded(False)
                self._retrain_from, self._use_after_run = None, False
            self._update_buttons()
            self.run_ended.emit(status)
            self.corrections.run_ended(status == "done")
        else:
            self._update_buttons()

    def _on_job_failed(self, kind: str, job, message: str) -> None:
        if kind == "run":
            self._run_status = "failed"
            self._set_progress("failed")
        self._message(message)
        self._on_job_ended(kind, job, cancelled=False)

    def on_window_closing(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    # ------------------------------------------------------------ state and text

    def _update_buttons(self) -> None:
        running = self.is_running()
        ready = self.is_ready() and self.report is not None and self.report.ok
        self.start_button.setEnabled(ready and not running)
        self.cancel_button.setEnabled(running)
        self.choose_button.setEnabled(not running)
        self.samples_button.setEnabled(not running)
        self.settings_box.setEnabled(self.is_ready() and not running)
        self.results_column.enable_model_buttons(self.outcome is not None, self._finetuned_active)
        self.corrections.set_busy(running or not ready)

    def _set_progress(self, text: str, value: int | None = None) -> None:
        """The progress bar's words and, when given, its position (0-1000)."""
        if value is not None:
            self.progress.setValue(value)
        self.results_column.set_progress_text(text)

    def progress_text(self) -> str:
        return self.results_column.progress_text()

    def _message(self, text: str, warning: bool = True) -> None:
        set_text(self.message_label, f"⚠ {text}" if text and warning else text)
        if text:
            self.message_shown.emit(text)

    def _status(self, text: str) -> None:
        self.ctx.status(text)


def train_root(report) -> str:
    """The folder holding the training class subfolders: the folder itself, or its train/."""
    if report.layout == "train/val" and report.images:
        return str(Path(report.root) / Path(report.images[0].path).relative_to(report.root).parts[0])
    return report.root
