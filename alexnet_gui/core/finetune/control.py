"""Progress events, cancel checks and yield points, shared by every phase.

The caller passes three optional callables to ``run_finetune``:

* ``progress(event: Progress)`` - plain dataclass events, at least once per batch;
* ``cancelled() -> bool`` - polled every batch; True raises FinetuneCancelled;
* ``yield_point()`` - called between batches so the caller can do other work on
  the same thread (the GUI worker answers queued classify requests there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import FinetuneCancelled


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
        yield_point: Callable[[], None] | None = None,
    ) -> None:
        self._progress = progress
        self._cancelled = cancelled
        self._yield_point = yield_point

    def check(self) -> None:
        """Between batches: let the caller work, then honour a cancel."""
        if self._yield_point is not None:
            self._yield_point()
        self.check_cancel()

    def check_cancel(self) -> None:
        """Inside a batch (between layers): honour a cancel, nothing else."""
        if self._cancelled is not None and self._cancelled():
            raise FinetuneCancelled("fine-tune cancelled")

    def emit(self, event: Progress) -> None:
        if self._progress is not None:
            self._progress(event)


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
