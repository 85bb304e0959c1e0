"""The Explain view: for Classify's selected image and a class (a click on one of its
top-5 bars, or any class typed by name), a heat map of the pixels that drove it.

The map is asked of the worker as an explain job (``WorkerClient.explain``); the view
connects to its own job's signals. A new request cancels the one before. Occlusion and
Integrated Gradients show their progress and can be cancelled. With a fine-tuned head
in use, Compare shows the base model's map for its own top class beside it. Save as
PNG writes the picture shown (the core draws it, so ``alexnet-cli explain`` writes the
same pixels for the same settings).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..qtutil import make_label, set_text
from .explain_controls import ExplainControls
from .explain_pane import ExplainPane

DEFAULT_OPACITY = 50  # percent
PNG_FILTER = "PNG image (*.png)"


class ExplainView(QWidget):
    shown = Signal(object)  # an Explanation is on screen (the main pane's)
    failed = Signal(str)  # a request failed: the message shown

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = ctx.client
        self._status = ctx.status
        self._show_view = ctx.show_view
        self.path = ""  # the image explained
        self.model = "current"  # "current", or "run:<token>" for a fine-tune's result not in use
        self._jobs: dict[str, object] = {}  # pane key ("main", "base") -> its running Job
        self._stale = True  # the inputs changed since the last request
        self._has_base = False
        self._build()
        self._connect()
        self._show_idle()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        self.controls = ExplainControls()
        self.image_label = make_label("No image: select one in Classify")
        self.explain_button = QPushButton("Explain")
        self.explain_button.setToolTip("Compute the map again with these settings")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(DEFAULT_OPACITY)
        self.opacity.setAccessibleName("Heat map opacity")
        self.opacity.setToolTip("How strongly the heat map covers the image")
        self.compare_box = QCheckBox("Compare with the base model")
        self.compare_box.setToolTip("Beside this model's map: the base model's map for its own top class")
        self.compare_box.setEnabled(False)
        self.save_button = QPushButton("Save as PNG…")
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Write the picture shown (image, heat map, colour scale) as a PNG file")
        left = QVBoxLayout()
        left.addWidget(self.image_label)
        left.addWidget(self.controls)
        left.addWidget(self.explain_button)
        left.addWidget(QLabel("Opacity"))
        left.addWidget(self.opacity)
        left.addWidget(self.compare_box)
        left.addWidget(self.save_button)
        left.addStretch(1)
        left_panel = QWidget()
        left_panel.setLayout(left)
        left_panel.setMaximumWidth(340)
        self.main_pane = ExplainPane("This model")
        self.base_pane = ExplainPane("Base model")
        self.base_pane.hide()
        panes = QHBoxLayout()
        panes.addWidget(self.main_pane, 1)
        panes.addWidget(self.base_pane, 1)
        right = QVBoxLayout()
        right.addLayout(panes, 1)
        right.addWidget(self._build_progress_row())
        layout = QHBoxLayout(self)
        layout.addWidget(left_panel)
        layout.addLayout(right, 1)

    def _build_progress_row(self) -> QWidget:
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Explanation progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop computing this map")
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.hide()
        return self.progress_row

    def _connect(self) -> None:
        self.controls.changed.connect(self._inputs_changed)
        self.explain_button.clicked.connect(self.run)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.compare_box.toggled.connect(self._on_compare_toggled)
        self.save_button.clicked.connect(self.save_dialog)
        self.cancel_button.clicked.connect(self.cancel)
        self.client.events.model_loaded.connect(self._on_model_loaded)

    # ------------------------------------------------------------ what to explain

    def set_image(self, path: str) -> None:
        """Classify's selected image ("" when none): explained when this view is shown."""
        if path == self.path and self.model == "current":
            return
        self.path, self.model = path, "current"
        self.controls.set_target(None)
        self._inputs_changed()

    def explain_class(self, path: str, index: int | None) -> None:
        """Explain class ``index`` (None: top-1) of the current model for ``path``, now."""
        self.path, self.model = path, "current"
        self.controls.set_target(index)
        self._stale = False  # shown now: the request below is the one
        self._show_view(self)
        self.run()

    def explain_run_image(self, path: str, label: str, run_token: int) -> None:
        """A fine-tune's validation image: why that run's model said ``label``."""
        self.path, self.model = path, f"run:{run_token}"
        self.controls.set_target_text(label)  # the run's class names are not the model's in use
        self._stale = False  # shown now: the request below is the one
        self._show_view(self)
        self.run()

    def set_compare(self, on: bool) -> None:
        self.compare_box.setChecked(on and self._has_base)

    def _inputs_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.run()
        else:
            self._show_idle()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.run()

    # ------------------------------------------------------------ jobs

    def run(self) -> None:
        """Ask the worker for the map(s) of the current settings; the jobs before are cancelled."""
        self.cancel(quiet=True)
        self._stale = False
        if not self.path:
            self._show_idle()
            return
        set_text(self.image_label, Path(self.path).name)
        values = self.controls.values(by_name=self.model != "current")
        self._start("main", values, self.model)
        if self.compare_box.isChecked() and self._has_base and self.model == "current":
            self._start("base", {**values, "target": None}, "base")
        self.progress.setRange(0, 0)  # busy until the first batch says how many
        self.progress_row.setVisible(values["method"] in ("occlusion", "integrated-gradients"))

    def _start(self, key: str, values: dict, which: str) -> None:
        pane = self._pane(key)
        pane.show_message("explaining…")
        job = self.client.explain(self.path, values, which)
        self._jobs[key] = job
        job.partial.connect(partial(self._on_result, key, job))
        job.progressed.connect(partial(self._on_progress, key, job))
        job.failed.connect(partial(self._on_failed, key, job))
        job.cancelled.connect(partial(self._on_cancelled, key, job))
        job.ended.connect(partial(self._on_ended, key, job))

    def cancel(self, quiet: bool = False) -> None:
        for job in list(self._jobs.values()):
            job.cancel()
        if not quiet and self._jobs:
            self._status("Explanation cancelled")

    def is_running(self) -> bool:
        return bool(self._jobs)

    def _pane(self, key: str) -> ExplainPane:
        return self.main_pane if key == "main" else self.base_pane

    def _mine(self, key: str, job) -> bool:
        return self._jobs.get(key) is job

    def _on_result(self, key: str, job, e) -> None:
        if not self._mine(key, job):
            return
        self._pane(key).show_explanation(e, self.opacity.value() / 100)
        self.save_button.setEnabled(self.main_pane.rgb is not None)
        if key == "main":
            self.shown.emit(e)

    def _on_progress(self, key: str, job, done: int, total: int) -> None:
        if self._mine(key, job) and key == "main":
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat("%v of %m")

    def _on_failed(self, key: str, job, message: str) -> None:
        if self._mine(key, job):
            self._pane(key).show_message(f"⚠ {message}")  # nothing drawn: the reason in its place
            self.save_button.setEnabled(self.main_pane.rgb is not None)
            self.failed.emit(message)

    def _on_cancelled(self, key: str, job) -> None:
        if self._mine(key, job):
            self._pane(key).show_message("Cancelled: press Explain to compute it")
            self.save_button.setEnabled(self.main_pane.rgb is not None)

    def _on_ended(self, key: str, job) -> None:
        if self._mine(key, job):
            del self._jobs[key]
        if not self._jobs:
            self.progress_row.hide()

    # ------------------------------------------------------------ model, opacity, compare

    def _on_model_loaded(self, info) -> None:
        self.controls.set_class_names(list(info.class_names))
        self._has_base = info.base_description is not None
        self.compare_box.setEnabled(self._has_base)
        if not self._has_base:
            self.compare_box.setChecked(False)
        self.main_pane.set_title(f"This model: {info.description}")
        self.base_pane.set_title(f"Base model: {info.base_description}" if self._has_base else "Base model")
        self.model = "current"
        self._inputs_changed()

    def _on_opacity(self, value: int) -> None:
        for pane in (self.main_pane, self.base_pane):
            pane.set_opacity(value / 100)

    def _on_compare_toggled(self, on: bool) -> None:
        self.base_pane.setVisible(on)
        self._inputs_changed()

    def _show_idle(self) -> None:
        if not self.path:
            set_text(self.image_label, "No image: select one in Classify")
            self.main_pane.show_message("Select an image in Classify, or click one of its top-5 bars")
            self.save_button.setEnabled(False)

    # ------------------------------------------------------------ saving

    def picture(self) -> np.ndarray | None:
        """What is shown, as the core drew it: the main map, and the base's beside it when comparing."""
        if self.main_pane.rgb is None:
            return None
        if self.base_pane.isVisible() and self.base_pane.rgb is not None:
            a, b = self.main_pane.rgb, self.base_pane.rgb
            gap = np.zeros((a.shape[0], 8, 3), np.uint8)
            return np.concatenate([a, gap, b], axis=1)
        return self.main_pane.rgb

    def save_dialog(self) -> None:
        if self.picture() is None:
            return
        e = self.main_pane.explanation
        suggested = f"{Path(self.path).stem}-{e.method}-{e.target.label.replace(' ', '_')}.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save the explanation as PNG", suggested, PNG_FILTER)
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> bool:
        from ...core.render import save_png

        rgb = self.picture()
        if rgb is None:
            return False
        try:
            written = save_png(rgb, path)
        except OSError as exc:
            self._status(f"Could not save {Path(path).name}: {exc.strerror or exc}")
            return False
        self._status(f"Saved {written}")
        return True
