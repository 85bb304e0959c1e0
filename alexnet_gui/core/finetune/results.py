"""What a fine-tune hands back, and saving it as a self-contained checkpoint.

Plain data, no torch at import: the model's process sends these to the window's
(with ``state_dict=None``), and unpickling imports the module a class is defined in.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ... import __version__
from ..preprocess import PREPROCESS_ID
from .dataset import SkippedFile
from .settings import FinetuneSettings

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class EpochStats:
    epoch: int  # 1-based
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float

    def as_dict(self) -> dict:
        return {
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy,
        }


@dataclass(frozen=True)
class ValPrediction:
    """One validation image after the last epoch."""

    path: str
    true_label: str
    predicted_label: str
    confidence: float  # softmax probability of the predicted class

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label


Mistake = ValPrediction  # a ValPrediction whose labels differ


@dataclass
class FinetuneResult:
    classes: list[str]
    epochs: list[EpochStats]
    val_accuracy: float  # after the last epoch
    per_class_accuracy: list[float]  # in class order
    confusion_matrix: np.ndarray  # (C, C) int64, rows = true class, columns = predicted
    mistakes: list[ValPrediction]  # misclassified validation images, most confident first
    skipped: list[SkippedFile]
    seconds: float  # wall time of scan + extraction + training
    state_dict: dict[str, torch.Tensor] | None  # the whole AlexNet with the new head, on the CPU (None once sent)
    settings: FinetuneSettings
    train_count: int
    val_count: int
    layout: str  # "folders" (split drawn) or "train/val" (as given)
    computed: int = 0  # images that went through the network for features (0: all cached)
    warnings: list[str] = field(default_factory=list)
    val_predictions: list[ValPrediction] = field(default_factory=list)  # every val image, sorted by path

    def metrics(self) -> dict:
        """Plain data (JSON- and checkpoint-safe)."""
        return {
            "val_accuracy": float(self.val_accuracy),
            "per_class_accuracy": {c: float(a) for c, a in zip(self.classes, self.per_class_accuracy)},
            "epochs": [e.as_dict() for e in self.epochs],
            "confusion_matrix": self.confusion_matrix.tolist(),
            "train_images": self.train_count,
            "val_images": self.val_count,
            "layout": self.layout,
        }

    def as_json(self) -> dict:
        """The CLI's ``--json`` object."""
        return {
            "classes": list(self.classes),
            "val_accuracy": float(self.val_accuracy),
            "epochs": [e.as_dict() for e in self.epochs],
            "confusion_matrix": self.confusion_matrix.tolist(),
            "seconds": float(self.seconds),
            "skipped": [{"path": s.path, "error": s.error} for s in self.skipped],
        }


def save_finetuned(path: str | os.PathLike, result: FinetuneResult, base_sha: str) -> Path:
    """Atomically write the fine-tuned AlexNet (raises WeightsError); loadable with load_weights."""
    from ..weights import save_checkpoint  # torch: only the model's side saves

    meta = {
        "base_weights_sha256": base_sha,
        "metrics": result.metrics(),
        "settings": result.settings.as_dict(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "app_version": __version__,
        "preprocess": PREPROCESS_ID,
    }
    return save_checkpoint(path, result.state_dict, result.classes, meta)
