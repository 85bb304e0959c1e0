"""The Fine-tune view's right column: message, progress with phase and time left,
live curves, the results, and what to do with the model."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..qtutil import make_label, set_text
from .curves_widget import CurvesWidget
from .finetune_panels import ResultsWidget

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
    eta = ev.eta_seconds
    left = f" — {format_seconds(eta)} left" if eta is not None and eta >= 0.5 else ""
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


class FinetuneResultsColumn(QWidget):
    """Widgets only; the view connects the buttons and fills the parts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = make_label()
        self.message_label.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.set_progress_text("idle")
        self.progress.setToolTip("What the fine-tune is doing and how long is left")
        self.curves = CurvesWidget()
        self.results = ResultsWidget()

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
        self.model_label = make_label("Classifying with: —")

        rv = QVBoxLayout(self)
        rv.addWidget(self.message_label)
        rv.addWidget(self.progress)
        rv.addWidget(self.curves, 2)
        rv.addWidget(self.results, 3)
        rv.addLayout(model_row)
        rv.addWidget(self.model_label)

    def set_progress_text(self, text: str) -> None:
        self.progress.setFormat(text)  # no %p/%v/%m in these texts, so Qt shows it as is
        self.progress.setAccessibleName(f"Fine-tune progress: {text}")

    def progress_text(self) -> str:
        return self.progress.accessibleName().removeprefix("Fine-tune progress: ")

    def show_model(self, description: str, base_description: str | None) -> None:
        """The model Classify uses now, and the base kept beside it, if any."""
        text = f"Classifying with: {description}"
        if base_description:
            text += f"; base kept for comparison: {base_description}"
        set_text(self.model_label, text)

    def enable_model_buttons(self, has_outcome: bool, finetuned_active: bool) -> None:
        self.use_button.setEnabled(has_outcome)
        self.save_button.setEnabled(has_outcome)
        self.compare_box.setEnabled(finetuned_active)
        self.base_button.setEnabled(finetuned_active)
