"""The fine-tune's steps shared by the ranks of a ``core.distributed.Team``.

- The scan and the seeded split run once, on rank 0, and are broadcast, so every
  rank agrees on the classes, the files and the split (a refusal too: every rank
  raises the same FinetuneError).
- Feature extraction: each rank takes its contiguous share of the entries
  (``Team.bounds``), extracts it through the shared on-disk cache, and rank 0
  gathers the rows in rank order, which is the entries' order. Progress on rank 0
  counts the images of every rank (a counter in the process group's store).
- The head and classifier modes then train on rank 0 alone: the training is
  seconds on features already computed, and on a node whose cores all extracted,
  the other ranks training the same head again would only take cores from it.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING

import torch

from ..model import AlexNet
from .cache import FeatureCache
from .control import Progress, RunControl
from .dataset import HealthReport, ImageEntry, scan_with, split
from .errors import FinetuneError
from .extract import Extracted, extract_steps
from .settings import FinetuneSettings

if TYPE_CHECKING:  # the worker's fine-tunes never load torch.distributed
    from ..distributed import Team


def scan_and_split(folder: str | os.PathLike, val_folder: str | os.PathLike | None, settings: FinetuneSettings,
                   control: RunControl, report: HealthReport | None,
                   team: Team | None) -> tuple[HealthReport, list[ImageEntry], list[ImageEntry]]:
    """The folder's report and (train, val) split: computed here, or on rank 0 and broadcast."""
    outcome = None
    if team is None or team.is_root:
        try:
            report = report if report is not None else scan_with(folder, val_folder, control)
            train, val = split(report, settings.val_fraction, settings.seed) if report.ok else ([], [])
            outcome = (report, train, val)
        except FinetuneError as exc:
            if team is None:
                raise
            outcome = (str(exc), exc.skipped)  # every rank raises it (the exception itself does not pickle whole)
    if team is not None:
        outcome = team.broadcast(outcome)
    if len(outcome) == 2:
        raise FinetuneError(*outcome)
    report, train, val = outcome
    report.raise_if_refused()
    return report, train, val


class TeamProgress(RunControl):
    """A rank's RunControl: cancel as given; extraction progress counted over every rank,
    shown by rank 0 (the others' ``progress`` is None)."""

    def __init__(self, control: RunControl, team: Team, total: int, key: str) -> None:
        super().__init__(control._progress, control._cancelled)
        self.team, self.total, self.key = team, total, key
        self._mine = 0

    def emit(self, event: Progress) -> None:
        if event.phase != "extract":
            return super().emit(event)
        done = self.team.count(self.key, event.step - self._mine)  # add this rank's new images
        self._mine = event.step
        super().emit(Progress("extract", min(done, self.total), self.total, event.eta_seconds))


def extract_shared(model: AlexNet, entries: Sequence[ImageEntry], layer: str, views: dict[str, int],
                   base_sha256: str, device: torch.device, control: RunControl, cache: FeatureCache, team: Team,
                   engine=None) -> Generator[None, None, Extracted | None]:
    """This rank's share extracted, then gathered: the whole Extracted on rank 0, None elsewhere."""
    lo, hi = team.bounds(len(entries))
    mine = {v: max(0, min(m, hi) - lo) for v, m in views.items()}  # views cover leading entries
    key = f"extract/{base_sha256[:16]}/{layer}/{len(entries)}"
    shared = TeamProgress(control, team, len(entries), key)
    ex = yield from extract_steps(model, list(entries[lo:hi]), layer, mine, base_sha256, device, shared, cache,
                                  engine=engine)
    features = {v: team.gather_rows(ex.features[v]) for v in views}
    failed = team.gather_objects({lo + i: why for i, why in ex.failed.items()})
    computed = team.gather_objects(ex.computed)
    if not team.is_root:
        return None
    merged = {i: why for part in failed for i, why in part.items()}
    return Extracted(features, merged, sum(computed))
