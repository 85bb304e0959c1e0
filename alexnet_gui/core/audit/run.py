"""``audit_steps``: a fine-tune folder in, its likely mislabels, duplicates and leaks out.

scan -> split (the fine-tune's seed and validation share, so "train" and "val"
mean what the next fine-tune will use) -> fc7 features of every image (from the
feature cache: a second audit computes nothing) -> the three lists. A generator
that yields between batches, like the fine-tune, so the model's worker serves
other requests meanwhile; ``audit_folder`` runs it to its end (the CLI).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator

import numpy as np
import torch

from ..finetune.cache import FeatureCache
from ..finetune.control import Progress, RunControl, run_to_end
from ..finetune.dataset import HealthReport
from ..finetune.extract import extract_steps
from ..finetune.settings import FinetuneSettings
from ..finetune.sharded import extract_shared, scan_and_split
from ..model import AlexNet
from . import duplicates
from .mislabels import find_mislabels
from .phash import phash_files
from .results import AuditResult


def audit_folder(folder: str | os.PathLike, model: AlexNet, base_sha256: str, trained: bool,
                 device: torch.device | str = "cpu", settings: FinetuneSettings | None = None,
                 progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] | None = None,
                 cache: FeatureCache | None = None, team=None) -> AuditResult | None:
    """``audit_steps`` run to its end. Raises FinetuneError (folder refused) or FinetuneCancelled."""
    return run_to_end(audit_steps(folder, model, base_sha256, trained, device, settings, progress, cancelled, cache,
                                  team=team))


def audit_steps(folder: str | os.PathLike, model: AlexNet, base_sha256: str, trained: bool,
                device: torch.device | str = "cpu", settings: FinetuneSettings | None = None,
                progress: Callable[[Progress], None] | None = None, cancelled: Callable[[], bool] | None = None,
                cache: FeatureCache | None = None, report: HealthReport | None = None, team=None,
                keep_features: bool = False) -> Generator[None, None, AuditResult | None]:
    """The audit as steps. ``trained``: the weights are real (the fc7 duplicate test needs them);
    ``report``: the folder's scan when the caller has one. ``team``: a ``core.distributed.Team``
    under torchrun: rank 0 scans and splits, every rank computes its share of the features, rank 0
    gathers them and makes the lists (the other ranks get None). ``keep_features``: the result keeps
    the fc7 rows for a map (``datamap.map_coordinates``, then ``AuditResult.with_map``)."""
    t0 = time.perf_counter()
    settings = (settings or FinetuneSettings()).validate()
    control = RunControl(progress, cancelled)
    report, train, val = scan_and_split(folder, None, settings, control, report, team)
    entries = train + val
    args = (model.eval(), entries, "fc7", {"plain": len(entries)}, base_sha256, torch.device(device), control,
            cache or FeatureCache())
    ex = yield from (extract_steps(*args) if team is None else extract_shared(*args, team))
    if ex is None:  # a rank other than 0: its share is with rank 0
        return None
    yield from control.pause()
    ok = [i for i in range(len(entries)) if i not in ex.failed]
    paths = [entries[i].path for i in ok]
    features = ex.features["plain"][ok]  # (N, 4096)
    labels = np.array([entries[i].label for i in ok], dtype=np.int64)
    mislabelled, predicted = find_mislabels(paths, features, labels, report.classes, settings.seed)
    yield from control.pause()
    warnings = list(report.warnings) + [f"{entries[i].path}: {why}" for i, why in sorted(ex.failed.items())]
    pairs = _duplicate_pairs(paths, [entries[i].sha256 for i in ok], features if trained else None, warnings)
    control.emit(Progress("done", 1, 1, 0.0))
    classes = list(report.classes)
    return AuditResult(report.root, classes, mislabelled, pairs, duplicates.leaks(pairs, {e.path for e in val}),
                       len(ok), ex.computed, warnings, time.perf_counter() - t0,
                       features=features if keep_features else None, predicted=[classes[j] for j in predicted],
                       paths=paths, labels=[classes[j] for j in labels])


def _duplicate_pairs(paths: list[str], digests: list[str], features: np.ndarray | None, warnings: list[str]):
    pairs = duplicates.exact_pairs(paths, digests)
    pairs += duplicates.phash_pairs(paths, phash_files(paths), digests)
    if features is not None:
        # identical bytes anywhere in a group count as known, not only the pairs listed
        same = {}
        for path, digest in zip(paths, digests):
            same.setdefault(digest, []).append(path)
        known = {frozenset((a, b)) for group in same.values() for a in group for b in group if a != b}
        known |= {frozenset((p.a, p.b)) for p in pairs}
        close = duplicates.fc7_pairs(paths, features, known)
        if close is None:
            warnings.append("these weights' fc7 features hardly differ between images: "
                            "no fc7 duplicates listed (pHash and exact ones are)")
        pairs += close or []
    return pairs
