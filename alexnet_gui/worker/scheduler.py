"""Cooperative jobs: each job is an iterator of short steps, run one step at a time.

A new job goes first, so a drop during a fine-tune or a folder is answered after
the step running now, not after the whole job. A step that yields a number of
seconds rests its job that long while the others go on. ``cancel`` is safe from
any thread and holds whenever it arrives: before the job's request (kept until
the request comes, as requests arrive in id order), while it is queued or running
(the job ends at its next step, and a step may poll ``cancelled()`` itself), and
after it ended (nothing happens).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# A job factory gets the job's ``cancelled()`` and returns its steps.
JobFactory = Callable[[Callable[[], bool]], Iterator[object]]


@dataclass
class Ended:
    """How a job ended: ``failed`` holds the message when it raised."""

    job_id: int
    cancelled: bool = False
    failed: str | None = None


class Scheduler:
    def __init__(self, on_end: Callable[[Ended], None]) -> None:
        self._on_end = on_end
        self._jobs: dict[int, tuple[Iterator[object], threading.Event]] = {}
        self._ready: list[int] = []  # job ids in the order they step next
        self._resting: list[tuple[float, int, int]] = []  # heap of (wake time, tie, job id)
        self._tie = itertools.count()
        self._lock = threading.Lock()  # orders cancels (any thread) with starts
        self._flags: dict[int, threading.Event] = {}
        self._last_started = 0
        self._cancel_ahead: set[int] = set()
        self._cancel_all_upto = 0
        self._background_ids = itertools.count(-1, -1)

    # ------------------------------------------------------------ any thread

    def cancel(self, job_id: int | None = None, upto: int = 0) -> None:
        """Cancel one job, or (``job_id`` None) every job so far and every job up to id ``upto``."""
        with self._lock:
            if job_id is None:
                self._cancel_all_upto = max(self._cancel_all_upto, upto)
            elif job_id not in self._flags and job_id > self._last_started:
                self._cancel_ahead.add(job_id)
            for jid, flag in self._flags.items():
                if job_id is None or jid == job_id:
                    flag.set()

    # ------------------------------------------------------------ the worker's thread

    def start(self, job_id: int, factory: JobFactory) -> None:
        cancel = threading.Event()
        with self._lock:
            self._last_started = max(self._last_started, job_id)
            if job_id in self._cancel_ahead or job_id <= self._cancel_all_upto:
                cancel.set()
            else:
                self._flags[job_id] = cancel
            self._cancel_ahead = {j for j in self._cancel_ahead if j > job_id}
        if cancel.is_set():  # cancelled before it got here: never run
            self._on_end(Ended(job_id, cancelled=True))
            return
        try:
            steps = iter(factory(cancel.is_set))
        except Exception as exc:  # noqa: BLE001 - a job's error is reported, the worker lives on
            self._end(Ended(job_id, failed=str(exc) or type(exc).__name__))
            return
        self._jobs[job_id] = (steps, cancel)
        self._ready.insert(0, job_id)

    def start_background(self, factory: JobFactory) -> int:
        """A job of the worker's own (no request, no window-side handle): it steps like
        the others, behind every new request, a window's cancel never reaches it and its
        end is not reported. Its id is negative; returns it."""
        job_id = next(self._background_ids)
        cancel = threading.Event()
        try:
            steps = iter(factory(cancel.is_set))
        except Exception:  # noqa: BLE001 - the worker's own job: logged, nothing to report
            traceback.print_exc()
            return job_id
        self._jobs[job_id] = (steps, cancel)
        self._ready.append(job_id)
        return job_id

    def busy(self) -> bool:
        return bool(self._jobs)

    def wait_s(self) -> float | None:
        """How long the worker may wait for a message before the next step: 0 when a job
        is ready, the time to the next resting job's wake, None when there is nothing."""
        self._wake_due()
        if self._ready:
            return 0.0
        if self._resting:
            return max(0.0, self._resting[0][0] - time.monotonic())
        return None

    def step(self) -> None:
        """One step of the first ready job, which then goes to the back (round-robin)."""
        self._wake_due()
        if not self._ready:
            return
        job_id = self._ready.pop(0)
        steps, flag = self._jobs[job_id]
        try:
            if flag.is_set():
                raise StopIteration
            rest = next(steps)
        except StopIteration:
            self._end(Ended(job_id, cancelled=flag.is_set()))
            return
        except Exception as exc:  # noqa: BLE001 - a job's error is reported, the worker lives on
            traceback.print_exc()
            self._end(Ended(job_id, failed=str(exc) or type(exc).__name__))
            return
        if isinstance(rest, (int, float)) and rest > 0:
            heapq.heappush(self._resting, (time.monotonic() + rest, next(self._tie), job_id))
        else:
            self._ready.append(job_id)

    def close_all(self) -> None:
        """Closing: every job is closed (its ``finally`` runs, a save finishes first)."""
        self.cancel(None, upto=self._last_started)
        for job_id, (steps, _flag) in list(self._jobs.items()):
            close = getattr(steps, "close", None)
            if close is not None:
                close()
            self._end(Ended(job_id, cancelled=True))

    # ------------------------------------------------------------ inside

    def _wake_due(self) -> None:
        now = time.monotonic()
        while self._resting and self._resting[0][0] <= now:
            _, _, job_id = heapq.heappop(self._resting)
            if job_id in self._jobs:
                self._ready.append(job_id)

    def _end(self, ended: Ended) -> None:
        self._jobs.pop(ended.job_id, None)
        with self._lock:
            self._flags.pop(ended.job_id, None)
        if ended.job_id >= 0:  # a background job has no one waiting for its end
            self._on_end(ended)
