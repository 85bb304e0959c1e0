"""Teaching AlexNet new classes from a folder of images (no Qt here).

Callers use :func:`run_finetune` (the GUI worker and the CLI) and
:func:`scan_folder` (the health report shown before a run). Cooperation is by
callbacks, not a generator: ``progress(Progress)``, ``cancelled() -> bool``
polled every batch, and ``yield_point()`` called between batches so the thread
running the fine-tune can serve other requests (the GUI worker answers
classify requests there). See ``run`` for the flow and ``cache`` for the
on-disk feature cache.
"""

from .cache import CacheInfo, FeatureCache, cache_dir, cache_info, clear_cache
from .control import Progress
from .dataset import HealthReport, ImageEntry, SkippedFile, scan_folder, split
from .errors import FinetuneCancelled, FinetuneError
from .extract import backbone_features
from .results import FinetuneResult, Mistake, ValPrediction, save_finetuned
from .run import run_finetune
from .samples import SAMPLE_DATASETS, sample_dataset
from .settings import MODES, FinetuneSettings
from .train import EpochStats

__all__ = [
    "MODES",
    "SAMPLE_DATASETS",
    "CacheInfo",
    "EpochStats",
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
    "run_finetune",
    "sample_dataset",
    "save_finetuned",
    "scan_folder",
    "split",
]
