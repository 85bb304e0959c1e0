"""Classify: the opened images, the selected one large, its top-5 as bars."""

from __future__ import annotations

import csv
import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListView, QProgressBar, QPushButton, QSizePolicy, QSplitter,
    QStackedWidget, QVBoxLayout, QWidget,
)

from .early_classify import EarlyJob, file_stamp, single_image
from .image_list_model import ImageListModel
from .labels import set_text
from .prediction_bars import PredictionBarsWidget
from .results import PicturesResult
from .scrolling import scrolled
from .workers import PICTURES_AFTER_S

EMPTY_TEXT = ("Drop images or a folder here…\n\n"
              "or use File › Open images… (Ctrl+O), File › Open folder… (Ctrl+Shift+O),\n"
              "or paste an image (Ctrl+V)")


class ClassifyView(QWidget):
    current_image_changed = Signal(str)  # path of the selected image ("" when none)
    batch_running_changed = Signal(bool)

    def __init__(self, client, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.images = ImageListModel(self)
        self._jobs: dict[int, int] = {}  # folder job id -> total
        self._done: dict[int, int] = {}
        self._trained = True
        self._compare = False
        self._pending_preview: dict[int, str] = {}  # pictures request id -> path
        self._pixmap: QPixmap | None = None  # the preview at full size, rescaled on resize
        self._mine: set[int] = set()  # every job this view asked for (folder or single image)
        self._early: EarlyJob | None = None  # the image being dragged, classified ahead of its drop

        self.list = QListView()
        self.list.setModel(self.images)
        self.list.setIconSize(QSize(64, 64))
        self.list.setUniformItemSizes(True)
        self.list.setWordWrap(True)
        self.list.setAccessibleName("Opened images")
        self.list.setToolTip("Opened images with their top guess; an error is shown in place")
        self.list.selectionModel().currentChanged.connect(self._on_list_current_changed)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("No images yet. Drop images or a folder here.")
        self.left = QStackedWidget()
        self.left.addWidget(self.empty)
        self.left.addWidget(self.list)
        self.images.rowsInserted.connect(lambda *_: self.left.setCurrentWidget(self.list))
        self.images.modelReset.connect(self._on_images_reset)

        self.preview = QLabel("No image selected")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(240, 200)
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setAccessibleName("Selected image")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.bars = PredictionBarsWidget("Top-5")
        self.compare_bars = PredictionBarsWidget("Base model (ImageNet)")
        self.compare_bars.hide()
        bars_row = QHBoxLayout()
        bars_row.addWidget(self.bars)
        bars_row.addWidget(self.compare_bars)

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

        right = QWidget()
        rlayout = QVBoxLayout(right)
        rlayout.addWidget(self.preview, 3)
        rlayout.addWidget(self.caption)
        rlayout.addLayout(bars_row, 2)
        self.splitter = QSplitter()
        self.splitter.setObjectName("classify-splitter")
        self.splitter.addWidget(self.left)
        # In a scroll area: the right panel's size hint changes with every caption and
        # preview, and it must not reach the tab widget (see ``scrolled``).
        self.splitter.addWidget(scrolled(right))
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.progress_row)

        w = client.worker
        w.predictions_ready.connect(self._on_worker_predictions_ready)
        w.pictures_ready.connect(self._on_worker_pictures_ready)
        w.job_progressed.connect(self._on_worker_job_progressed)
        w.job_finished.connect(self._on_worker_job_finished)
        w.job_failed.connect(self._on_worker_job_failed)

    # ------------------------------------------------------------ opening

    def open_paths(self, paths) -> int:
        """Open files and folders (folders recursively). Returns how many images were queued."""
        from ..core.images import ImageLoadError, find_images  # Pillow only, no torch

        files: list[str] = []
        problems: list[ImageLoadError] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                try:
                    files.extend(str(f) for f in find_images(p, problems))
                except ImageLoadError as exc:
                    problems.append(exc)
            else:
                files.append(str(p))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self._status(f"{problems[0]}{more}")
        if not files:
            return 0
        early = self._take_early(files)
        queued = self.images.add_paths(files)
        if early is not None:  # classified while it was dragged: show what is already here
            job = early.job
            # The top-5 now, the thumbnail and preview in a second update, as from the worker.
            self._apply_held(job, early.results[:1])
            if early.results[1:]:
                QTimer.singleShot(round(PICTURES_AFTER_S * 1000), self,  # dropped with the view
                                  partial(self._apply_held, job, early.results[1:]))
        self.select(queued[0])
        if early is None:
            # The worker is asked last: this thread's Python work is done by then, so the worker
            # does not wait for the GIL while it decodes (0.5-1 ms sooner on two cores, measured).
            job = self._classify(files)
        if len(queued) > 1:
            self._jobs[job] = len(queued)
            self._done[job] = 0
            self.progress.setRange(0, len(queued))
            self.progress.setValue(0)
            self.progress.setFormat("classifying %v of %m")
            self.progress_row.show()
            self.batch_running_changed.emit(True)
        return len(queued)

    def _classify(self, paths: list[str]) -> int:
        job = self.client.classify(paths)
        self._mine.add(job)
        return job

    # ------------------------------------------------------------ classify while dragging

    def prepare(self, paths) -> None:
        """Files are dragged over the window: a single image is classified now, out of
        sight, so its top-5 is ready when it is dropped (see ``early_classify``)."""
        path = single_image(paths)
        if path is None or (self._early is not None and self._early.matches([path])):
            return  # not one image, or already classified (or on its way) for this drag
        stamp = file_stamp(path)
        if stamp is None:
            return
        self.forget_prepared()
        self._early = EarlyJob(path, self._classify([path]), stamp)

    def forget_prepared(self) -> None:
        """The drag left without a drop, or the model changed: drop the held answer."""
        early, self._early = self._early, None
        if early is not None and not early.finished:
            self.client.cancel(early.job)

    def drag_left(self) -> None:
        # A finished answer is kept: dragged back in and dropped, the same file needs no
        # second pass. One still running is stopped.
        if self._early is not None and not self._early.finished:
            self.forget_prepared()

    def _apply_held(self, job: int, batches: list) -> None:
        for results in batches:
            self._on_worker_predictions_ready(job, results)

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
        for job in list(self._jobs):
            self.client.cancel(job)

    def batch_running(self) -> bool:
        return bool(self._jobs)

    # ------------------------------------------------------------ model state

    def set_model_state(self, trained: bool, description: str, base_description: str | None) -> None:
        self.forget_prepared()  # held for the model before this one
        self._trained = trained
        self.bars.set_title("Top-5" if base_description is None else f"Top-5 — {description}")
        self.bars.set_note(None if trained else
                           "⚠ Untrained model: these guesses are random. Load or download ImageNet weights.")
        self.compare_bars.set_title(f"Base — {base_description}" if base_description else "Base model")
        self._refresh_current()

    def set_compare(self, on: bool) -> None:
        self.forget_prepared()
        self._compare = on
        self.compare_bars.setVisible(on)
        self._refresh_current()

    # ------------------------------------------------------------ worker events

    def _on_worker_predictions_ready(self, job_id: int, results) -> None:
        if self._early is not None and job_id == self._early.job:
            self._early.results.append(results)  # not dropped yet: held out of sight
            return
        current = self.current_path()
        for r in results:
            self.images.set_result(r)
            if r.path == current:
                self._show_entry(current)

    def _on_worker_pictures_ready(self, request_id: int, result) -> None:
        if self._pending_preview.pop(request_id, None) is None:
            return
        self.images.set_pictures(result)
        if result.path == self.current_path():
            self._show_entry(result.path)

    def _on_worker_job_progressed(self, job_id: int, done: int, total: int) -> None:
        if job_id in self._jobs:
            self.progress.setValue(done)

    def _on_worker_job_finished(self, job_id: int, cancelled: bool) -> None:
        self._mine.discard(job_id)
        if self._early is not None and job_id == self._early.job:
            self._early.finished = True
            if cancelled:
                self._early = None
            return
        if job_id in self._jobs:
            del self._jobs[job_id]
            if cancelled:
                self.images.mark_cancelled()
                self._status(f"Cancelled after {self.progress.value()} of {self.progress.maximum()} images")
            else:
                errors = sum(1 for e in self.images.entries() if e.status == "error")
                self._status(f"Classified {self.progress.maximum()} images" + (f", {errors} failed" if errors else ""))
            if not self._jobs:
                self.progress_row.hide()
                self.batch_running_changed.emit(False)

    def _on_worker_job_failed(self, job_id: int, message: str) -> None:
        path = self._pending_preview.pop(job_id, None)
        if path is not None:  # the pictures could not be made; say why where they would be
            self.images.set_pictures(PicturesResult(path, error=message))
            if path == self.current_path():
                self._show_entry(path)
            return
        if job_id not in self._mine:
            return  # another view's job
        if self._early is not None and job_id == self._early.job:
            self._early = None  # not dropped yet: the drop will ask again and show the error
            self._mine.discard(job_id)
            return
        self._on_worker_job_finished(job_id, cancelled=False)
        self._status(f"Error: {message}")

    def _status(self, text: str) -> None:
        win = self.window()
        if hasattr(win, "statusBar"):
            win.statusBar().showMessage(text, 8000)

    # ------------------------------------------------------------ selection

    def _on_list_current_changed(self, current, _previous) -> None:
        path = self.images.entry(current.row()).path if current.isValid() else ""
        self._show_entry(path)
        self.current_image_changed.emit(path)

    def _refresh_current(self) -> None:
        path = self.current_path()
        if path:
            # Predictions depend on the model: ask again for the selected image.
            self._classify([path])

    def _show_entry(self, path: str) -> None:
        e = self.images.entry_for(path) if path else None
        if e is None:
            self._set_preview_text("No image selected")
            self.caption.clear()
            self.bars.clear()
            self.compare_bars.clear()
            return
        if e.preview is not None:
            self._set_preview(QPixmap.fromImage(e.preview))
        elif e.preview_error is not None:
            self._set_preview_text(f"No preview: {e.preview_error.split(': ', 1)[-1]}")
        elif e.icon is not None:
            self._set_preview(e.icon.pixmap(64, 64))
        else:
            self._set_preview_text("…")
        if e.result is None:
            set_text(self.caption, e.name)
            self.bars.clear("classifying…")
            return
        size = e.result.size
        set_text(self.caption, e.name + (f" — {size[0]}×{size[1]}" if size else ""))
        self.bars.show_prediction(e.result.prediction)
        self.compare_bars.show_prediction(e.result.compare if self._compare else None)
        if (e.preview is None and e.preview_error is None and e.status == "done"
                and not e.result.pictures_pending and path not in self._pending_preview.values()):
            # Folder jobs send thumbnails only: the large preview is made now, without
            # classifying the image again.
            self._pending_preview[self.client.pictures(path)] = path

    def _set_preview_text(self, text: str) -> None:
        self._pixmap = None  # a resize must not bring the last picture back
        self.preview.setPixmap(QPixmap())
        self.preview.setText(text)

    def _set_preview(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self.preview.setPixmap(pixmap.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._pixmap is not None and not self._pixmap.isNull():
            self._set_preview(self._pixmap)

    # ------------------------------------------------------------ export

    def export_csv(self, path: str | os.PathLike) -> int:
        """Write path, then label and probability for each of the top-5. Returns rows written.

        Written to a temp name and renamed, so a failure never leaves a half file."""
        from ..core.files import write_atomically  # no torch: plain file handling

        rows = 0

        def write(f) -> None:
            nonlocal rows
            w = csv.writer(f)
            w.writerow(["path"] + [c for i in range(1, 6) for c in (f"label{i}", f"probability{i}")] + ["error"])
            for e in self.images.entries():
                if e.result is None:
                    continue
                p = e.result.prediction
                cells = [e.path]
                for i in range(5):
                    if i < len(p.top):
                        cells += [p.top[i].label, f"{p.top[i].probability:.6f}"]
                    else:
                        cells += ["", ""]
                w.writerow(cells + [p.error or ""])
                rows += 1

        write_atomically(path, write, text=True)
        return rows
