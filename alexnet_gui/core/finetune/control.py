"""Progress events, cancel checks and pauses, shared by every phase.

A fine-tune is a generator of steps (``run.finetune_steps``): it yields between
batches, so whoever drives it decides what happens there (the model's worker
answers queued classify requests; ``run_to_end`` just goes on). The caller
passes two optional callables:

* ``progress(event: Progress)`` - plain dataclass events, at least once per batch;
* ``cancelled() -> bool`` - polled every batch (and between layers of a batch);
  True raises FinetuneCancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import TypeVar

from .errors import FinetuneCancelled

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    """``step`` of ``total`` within ``phase``: files scanned, images extracted, epochs done.

    Train events carry the finished epoch's metrics; mid-epoch events (``all``
    mode, where an epoch is long) have ``batch``/``batches`` set and only the running loss.
    ``eta_seconds`` is the time left in this phase (None until it can be estimated).
    """

    phase: str
    step: int
    total: int
    eta_seconds: float | None = None
    loss: float | None = None  # training loss
    accuracy: float | None = None  # training accuracy
    val_loss: float | None = None
    val_accuracy: float | None = None
    batch: int = 0
    batches: int = 0
    message: str = ""

    @property
    def fraction(self) -> float:
        if self.total <= 0:
            return 1.0
        within = self.batch / self.batches if self.batches else 0.0
        return min(1.0, (self.step + within) / self.total)


class RunControl:
    def __init__(
        self,
        progress: Callable[[Progress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self._progress = progress
        self._cancelled = cancelled

    def pause(self) -> Iterator[None]:
        """Between batches (``yield from``): the step ends here, then a cancel is honoured."""
        yield
        self.check_cancel()

    def check_cancel(self) -> None:
        """Inside a batch (between layers): honour a cancel, nothing else."""
        if self._cancelled is not None and self._cancelled():
            raise FinetuneCancelled("fine-tune cancelled")

    # The scan's check between chunks: it reads files without torch and has no steps
    # (a caller that must stay responsive scans on a helper thread).
    check = check_cancel

    def emit(self, event: Progress) -> None:
        if self._progress is not None:
            self._progress(event)


def run_to_end(steps: Generator[None, None, T], between: Callable[[], None] | None = None) -> T:
    """Drive ``steps`` to its end and return its value; ``between()`` runs at every pause."""
    try:
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                return stop.value
            if between is not None:
                between()
    finally:
        steps.close()  # ``between`` raised: the run's own cleanup (its helper threads) happens now


class Eta:
    """Linear estimate of the time left from the rate so far."""

    def __init__(self, total: float, start_step: float = 0.0) -> None:
        self.total = total
        self.start_step = start_step
        self.t0 = time.perf_counter()

    def __call__(self, step: float) -> float | None:
        done = step - self.start_step
        if done <= 0:
            return None
        elapsed = time.perf_counter() - self.t0
        return max(0.0, elapsed / done * (self.total - step))
