"""Classify: the opened images, the selected one large, its top-5 as bars."""

from __future__ import annotations

import os
from functools import partial

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.files import file_stamp
from ...worker.results import PicturesResult
from ...worker.service import PICTURES_AFTER_S
from ..bridge.job import Job
from ..qtutil import scrolled
from .drop_contents import collect, feedback
from .early_classify import EarlyJob, single_image
from .image_detail import ImageDetailWidget
from .image_list_model import ImageListModel
from .predictions_csv import nothing_to_export, write_predictions

EMPTY_TEXT = ("Drop images or a folder here…\n\n"
              "or use File › Open images… (Ctrl+O), File › Open folder… (Ctrl+Shift+O),\n"
              "or paste an image (Ctrl+V)")


class ClassifyView(QWidget):
    current_image_changed = Signal(str)  # path of the selected image ("" when none)
    batch_running_changed = Signal(bool)
    explain_requested = Signal(str, int)  # path, class index: a top-5 bar was clicked
    correction_requested = Signal(str)  # path: the fine-tuned model got it wrong; file it under its right class

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = client = ctx.client
        self.images = ImageListModel(self)
        self._batches: dict[int, int] = {}  # folder job id -> its number of images
        self._compare = False
        self._top_k = 5  # fewer when the model has fewer classes
        self._titles: tuple[str, str | None] = ("", None)  # model description, base description
        self._pending_preview: dict[int, str] = {}  # pictures job id -> path
        self._mine: dict[int, Job] = {}  # this view's classify jobs still running (folder or single image)
        self._pictures: dict[int, Job] = {}  # its pictures jobs still running
        self._early: EarlyJob | None = None  # the image being dragged, classified ahead of its drop
        self.splitter = QSplitter()
        self.splitter.setObjectName("classify-splitter")
        self.splitter.addWidget(self._build_list())
        self.detail = ImageDetailWidget()
        d = self.detail
        self.preview, self.caption, self.bars, self.compare_bars = d.preview, d.caption, d.bars, d.compare_bars
        # In a scroll area: the right panel's size hint changes with every caption and
        # preview, and it must not reach the tab widget (see ``scrolled``).
        self.splitter.addWidget(scrolled(self.detail))
        self.bars.chart.row_clicked.connect(self._on_bar_clicked)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        self.wrong_button = QPushButton("Wrong? Teach the right class…")
        self.wrong_button.setToolTip("Copy this image into its right class of the fine-tune folder, to retrain with")
        self.wrong_button.clicked.connect(self.mark_wrong)
        self.wrong_button.hide()  # shown while a fine-tuned model is in use
        layout.addWidget(self.wrong_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self._build_progress_row())
        client.worker.model_loaded.connect(self._on_worker_model_loaded)

    def mark_wrong(self) -> bool:
        """The fine-tuned model's answer for the selected image is wrong: hand it to Fine-tune."""
        path = self.current_path()
        if not path or self.wrong_button.isHidden():
            return False
        self.correction_requested.emit(path)
        return True

    def _on_bar_clicked(self, index: int) -> None:
        path = self.current_path()
        if path:
            self.explain_requested.emit(path, index)

    # ------------------------------------------------------------ building

    def _build_list(self) -> QStackedWidget:
        """The opened images with their actions, or a hint while there are none."""
        self.list = QListView()
        self.list.setModel(self.images)
        self.list.setIconSize(QSize(64, 64))
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Opened images")
        self.list.setToolTip("Opened images with their top guess; an error is shown in place")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.selectionModel().currentChanged.connect(self._on_list_current_changed)
        self.again_action = QAction("Classify &again", self)
        self.again_action.setToolTip("Classify the selected images again (those cancelled, failed or changed)")
        self.again_action.triggered.connect(self.classify_selected_again)
        self.remove_action = QAction("&Remove selected images", self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        # Only while the list has the focus: Delete in a text field elsewhere stays a text key.
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.setToolTip("Remove the selected images from the list (Del)")
        self.remove_action.triggered.connect(self.remove_selected)
        for act in (self.again_action, self.remove_action):
            act.setStatusTip(act.toolTip())
            self.list.addAction(act)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("No images yet. Drop images or a folder here.")
        self.left = QStackedWidget()
        self.left.addWidget(self.empty)
        self.left.addWidget(self.list)
        self.images.rowsInserted.connect(lambda *_: self.left.setCurrentWidget(self.list))
        self.images.modelReset.connect(self._on_images_reset)
        return self.left

    def _build_progress_row(self) -> QWidget:
        """A folder's progress and its Cancel, shown while one is classified."""
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Folder progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop classifying the folder (Esc)")
        self.cancel_button.clicked.connect(self.cancel_batch)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        return self.progress_row

    # ------------------------------------------------------------ opening

    def open_paths(self, paths) -> int:
        """Open files and folders (folders recursively), one row per file, and say what
        happened in the status bar. Files already open are selected, not classified again
        (unless their classification was cancelled or failed). Returns how many were queued."""
        contents = collect(paths)
        early = self._take_early(contents.files)
        opened, already = [], []
        for f in contents.files:
            e = self.images.entry_for(f)
            waiting_or_done = e is not None and e.status in ("queued", "done")
            (already if waiting_or_done and (early is None or early.path != f) else opened).append(f)
        message = feedback(contents, opened, already)
        if message:  # else a message said already (e.g. a pasted image that could not be saved) stays
            self._status(message)
        if opened:
            self._start(opened, early)
        elif already:
            self.select(already[0])
        return len(opened)

    def _start(self, paths: list[str], early: EarlyJob | None = None, select: bool = True) -> None:
        """Queue ``paths`` (rows made or reused), select the first, ask the worker."""
        self.images.queue(paths, early.job if early is not None else None)
        if early is not None:  # classified while it was dragged: show what is already here
            job = early.job
            # The top-5 now, the thumbnail and preview in a second update, as from the worker.
            self._apply_held(job, early.results[:1])
            if early.results[1:]:
                QTimer.singleShot(round(PICTURES_AFTER_S * 1000), self,  # dropped with the view
                                  partial(self._apply_held, job, early.results[1:]))
        if select:
            self.select(paths[0])
        else:
            self._show_entry(self.current_path() or "")
        if early is None:
            # The worker is asked last: this thread's Python work is done by then, so the worker
            # does not wait for the GIL while it decodes (0.5-1 ms sooner on two cores, measured).
            # Its answers come through the event loop, after the rows know their job.
            job = self._classify(paths)
            self.images.set_job(paths, job)
        if len(paths) > 1:
            self._batches[job] = len(paths)
            self.progress.setRange(0, len(paths))
            self.progress.setValue(0)
            self.progress.setFormat("classifying %v of %m")
            self.progress_row.show()
            self.batch_running_changed.emit(True)

    def _classify(self, paths: list[str]) -> int:
        """Ask for ``paths``' top-5; the rows know the job by its id."""
        job = self.client.classify(paths)
        self._mine[job.id] = job
        job.partial.connect(partial(self._on_job_results, job.id))
        job.progressed.connect(partial(self._on_job_progressed, job.id))
        job.finished.connect(partial(self._on_job_ended, job.id, False))
        job.cancelled.connect(partial(self._on_job_ended, job.id, True))
        job.failed.connect(partial(self._on_job_failed, job.id))
        return job.id

    def _cancel(self, job_id: int) -> None:
        job = self._mine.get(job_id) or self._pictures.get(job_id)
        if job is not None:
            job.cancel()

    # ------------------------------------------------------------ the list's actions

    def selected_paths(self) -> list[str]:
        rows = sorted(i.row() for i in self.list.selectionModel().selectedIndexes())
        return [self.images.entry(r).path for r in rows]

    def classify_selected_again(self) -> int:
        """Classify the selected images again (not those still waiting). Returns how many."""
        paths = [p for p in self.selected_paths() if self.images.entry_for(p).status != "queued"]
        if paths:
            self._start(paths, select=False)  # the selection stays as it was made
        return len(paths)

    def remove_selected(self) -> int:
        """Take the selected images out of the list; a job left with no row to answer stops."""
        removed = self.images.remove(self.selected_paths())
        self._stop_jobs({e.job for e in removed if e.status == "queued"} - self._waited_for())
        if removed:
            self._status(f"Removed {removed[0].name}" if len(removed) == 1 else f"Removed {len(removed)} images")
        return len(removed)

    def _waited_for(self) -> set[int]:
        return {e.job for e in self.images.entries() if e.status == "queued"}

    def _stop_jobs(self, jobs) -> None:
        """Cancel ``jobs`` and forget them now: their rows are gone, nothing is left to report."""
        for job in jobs:
            self._cancel(job)
            self._mine.pop(job, None)
        if any(self._batches.pop(job, None) is not None for job in list(jobs)) and not self._batches:
            self.progress_row.hide()
            self.batch_running_changed.emit(False)

    # ------------------------------------------------------------ classify while dragging

    def prepare(self, paths) -> None:
        """Files are dragged over the window: a single image is classified now, out of
        sight, so its top-5 is ready when it is dropped (see ``early_classify``)."""
        path = single_image(paths)
        if path is None or (self._early is not None and self._early.matches([path])):
            return  # not one image, or already classified (or on its way) for this drag
        listed = self.images.entry_for(path)
        if listed is not None and listed.status in ("queued", "done"):
            return  # already open: the drop selects it
        stamp = file_stamp(path)
        if stamp is None:
            return
        self.forget_prepared()
        self._early = EarlyJob(path, self._classify([path]), stamp)

    def forget_prepared(self) -> None:
        """The drag left without a drop, or the model changed: drop the held answer."""
        early, self._early = self._early, None
        if early is not None and not early.finished:
            self._cancel(early.job)

    def drag_left(self) -> None:
        # A finished answer is kept: dragged back in and dropped, the same file needs no
        # second pass. One still running is stopped.
        if self._early is not None and not self._early.finished:
            self.forget_prepared()

    def _apply_held(self, job: int, batches: list) -> None:
        for results in batches:
            self._on_job_results(job, results)

    def _take_early(self, files: list[str]) -> EarlyJob | None:
        """The held job when ``files`` is the dragged image, unchanged; it is the drop's now."""
        early = self._early
        if early is None:
            return None
        if early.matches(files):
            self._early = None
            return early
        if len(files) == 1:
            self.forget_prepared()  # another file, or this one changed: the answer is stale
        return None

    def _on_images_reset(self) -> None:
        """The list was cleared: every job still working for it stops."""
        batch = bool(self._batches)
        early = self._early.job if self._early is not None else None
        self._stop_jobs(set(self._batches) | (set(self._mine) - {early}))
        for rid in self._pending_preview:
            self._cancel(rid)
        self._pending_preview.clear()
        if batch:
            self._status("Cleared the list and stopped classifying the folder")
        self.left.setCurrentWidget(self.empty)
        self._show_entry("")
        self.current_image_changed.emit("")

    def select(self, path: str) -> None:
        row = self.images.row_of(path)
        if row >= 0:
            self.list.selectionModel().setCurrentIndex(
                self.images.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def current_path(self) -> str | None:
        idx = self.list.currentIndex()
        return self.images.entry(idx.row()).path if idx.isValid() else None

    def cancel_batch(self) -> None:
        for job in list(self._batches):
            self._cancel(job)

    def batch_running(self) -> bool:
        return bool(self._batches)

    # ------------------------------------------------------------ model state

    def set_model_state(self, trained: bool, description: str, base_description: str | None) -> None:
        self.forget_prepared()  # held for the model before this one
        self._titles = (description, base_description)
        self._retitle()
        self.bars.set_note(None if trained else
                           "⚠ Untrained model: these guesses are random. Load or download ImageNet weights.")
        self.compare_bars.set_title(f"Base — {base_description}" if base_description else "Base model")
        self.wrong_button.setVisible(base_description is not None)  # a fine-tuned model is in use
        self._refresh_current()

    def _on_worker_model_loaded(self, info) -> None:
        self._top_k = min(5, len(info.class_names))
        self._retitle()

    def _retitle(self) -> None:
        description, base = self._titles
        top = f"Top-{self._top_k}"
        self.bars.set_title(top if base is None else f"{top} — {description}")

    def set_compare(self, on: bool) -> None:
        self.forget_prepared()
        self._compare = on
        self.compare_bars.setVisible(on)
        self._refresh_current()

    # ------------------------------------------------------------ this view's jobs

    def _on_job_results(self, job_id: int, results) -> None:
        if self._early is not None and job_id == self._early.job:
            self._early.results.append(results)  # not dropped yet: held out of sight
            return
        current = self.current_path()
        for r in results:
            e = self.images.entry_for(r.path)
            if e is None or e.job != job_id:
                continue  # removed, or waiting for a newer job's answer
            self.images.set_result(r)
            if r.path == current:
                self._show_entry(current)

    def _on_pictures_ready(self, request_id: int, result) -> None:
        if self._pending_preview.pop(request_id, None) is None:
            return  # the list was cleared meanwhile
        self.images.set_pictures(result)
        if result.path == self.current_path():
            self._show_entry(result.path)

    def _on_job_progressed(self, job_id: int, done: int, total: int) -> None:
        if job_id in self._batches:
            self.progress.setValue(done)

    def _on_job_ended(self, job_id: int, cancelled: bool, failed: str = "") -> None:
        if self._mine.pop(job_id, None) is None:
            return  # its rows were removed: nothing is left to report
        if self._early is not None and job_id == self._early.job:
            self._early.finished = True
            if cancelled or failed:
                self._early = None  # not dropped yet: the drop will ask again
            return
        stopped = self.images.mark_stopped(job_id, "the job failed" if failed else "cancelled") \
            if cancelled or failed else 0
        if stopped:
            self._show_entry(self.current_path() or "")
        total = self._batches.pop(job_id, None)
        if total is not None:
            if cancelled:
                self._status(f"Cancelled: {total - stopped} of {total} images classified; {stopped} not "
                             "classified (select them and use Edit › Classify again, or right-click them)")
            elif not failed:
                errors = sum(1 for e in self.images.entries() if e.job == job_id and e.status == "error")
                self._status(f"Classified {total} images" + (f", {errors} failed" if errors else ""))
            if not self._batches:
                self.progress_row.hide()
                self.batch_running_changed.emit(False)
        if failed:
            self._status(f"Error: {failed}")

    def _on_job_failed(self, job_id: int, message: str) -> None:
        self._on_job_ended(job_id, cancelled=False, failed=message)

    def _on_pictures_failed(self, job_id: int, message: str) -> None:
        path = self._pending_preview.pop(job_id, None)
        if path is not None:  # the pictures could not be made; say why where they would be
            self.images.set_pictures(PicturesResult(path, error=message))
            if path == self.current_path():
                self._show_entry(path)

    def _status(self, text: str) -> None:
        self.ctx.status(text)

    # ------------------------------------------------------------ selection

    def _on_list_current_changed(self, current, _previous) -> None:
        path = self.images.entry(current.row()).path if current.isValid() else ""
        self._show_entry(path)
        self.current_image_changed.emit(path)

    def _refresh_current(self) -> None:
        path = self.current_path()
        if path:
            # Predictions depend on the model: ask again for the selected image.
            self.images.set_job([path], self._classify([path]))

    def _show_entry(self, path: str) -> None:
        e = self.images.entry_for(path) if path else None
        self.detail.show_entry(e, self._compare)
        if (e is not None and e.preview is None and e.preview_error is None and e.status == "done"
                and not e.result.pictures_pending and path not in self._pending_preview.values()):
            # Folder jobs send thumbnails only: the large preview is made now, without
            # classifying the image again.
            job = self.client.pictures(path)
            self._pictures[job.id] = job
            self._pending_preview[job.id] = path
            job.partial.connect(partial(self._on_pictures_ready, job.id))
            job.failed.connect(partial(self._on_pictures_failed, job.id))
            job.ended.connect(partial(self._pictures.pop, job.id, None))

    # ------------------------------------------------------------ export

    def nothing_to_export(self) -> str | None:
        """Why Export would write no row, else None."""
        return nothing_to_export(self.images.entries())

    def export_csv(self, path: str | os.PathLike) -> int:
        """The classified images' top-5 as CSV (see ``predictions_csv``). Returns rows written."""
        return write_predictions(self.images.entries(), path)
