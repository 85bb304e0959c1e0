"""Teaching AlexNet new classes from a folder of images (no Qt here).

Callers use :func:`finetune_steps` (the model's worker: a generator that yields
between batches, so the worker's one thread serves other requests between two
of them), :func:`run_finetune` (the same run to its end: the CLI) and
:func:`scan_folder` (the health report shown before a run). Both runs take
``progress(Progress)`` and ``cancelled() -> bool``, polled every batch. See
``run`` for the flow and ``cache`` for the on-disk feature cache.

Importing this package does not import torch: the settings, modes, sample sets
and every result type are plain data the window reads directly. The names that
need torch (``run_finetune``, ``finetune_steps``, ``backbone_features``) load it on first use.
"""

from __future__ import annotations

import importlib

from .cache import CacheInfo, FeatureCache, cache_dir, cache_info, clear_cache
from .control import Eta, Progress
from .dataset import HealthReport, ImageEntry, SkippedFile, scan_folder, split
from .errors import FinetuneCancelled, FinetuneError
from .results import EpochStats, FinetuneResult, Mistake, ValPrediction, save_finetuned
from .samples import SAMPLE_DATASETS, SAMPLE_TITLES, sample_dataset
from .settings import MODES, OPTIMIZERS, FinetuneSettings

_NEEDS_TORCH = {"run_finetune": ".run", "finetune_steps": ".run", "backbone_features": ".extract"}


def __getattr__(name: str):
    if name in _NEEDS_TORCH:
        return getattr(importlib.import_module(_NEEDS_TORCH[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODES",
    "OPTIMIZERS",
    "SAMPLE_DATASETS",
    "SAMPLE_TITLES",
    "CacheInfo",
    "EpochStats",
    "Eta",
    "FeatureCache",
    "FinetuneCancelled",
    "FinetuneError",
    "FinetuneResult",
    "FinetuneSettings",
    "HealthReport",
    "ImageEntry",
    "Mistake",
    "Progress",
    "SkippedFile",
    "ValPrediction",
    "backbone_features",
    "cache_dir",
    "cache_info",
    "clear_cache",
    "finetune_steps",
    "run_finetune",
    "sample_dataset",
    "save_finetuned",
    "scan_folder",
    "split",
]
