"""ONNX Runtime's pool threads at idle priority (Linux).

The app keeps ONNX Runtime's default, pool threads that spin for a while after a
run (``runners.session_options`` says why). For ~35 ms after each run a spinning
thread wants a core. At ``SCHED_IDLE`` it gives way to any other thread that wants
the core, the window's among them, and spins only where nobody else would run. The
thread that calls ``run`` keeps its priority, and between the operators of a run
the pool thread picks up its share as before. Measured on the 2-core development
machine (bench_latency.py, eight alternating runs): a drop's whole path 16.6 ms with
the pool at idle priority against 17.9 ms at normal priority (medians of the runs'
medians). A torch forward started within those ~35 ms still loses 3-4 ms of 15
(bench_engine.py reports it): the class decides who gets a core, not how quickly a
thread of torch's comes back to one.

ONNX Runtime starts its pool when a session is made: ``new_threads`` names the
threads that appeared meanwhile. Other systems have no per-thread idle class;
there the threads keep their priority.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

_TASKS = "/proc/self/task"


def supported() -> bool:
    return hasattr(os, "SCHED_IDLE") and hasattr(os, "sched_setscheduler") and os.path.isdir(_TASKS)


def _thread_ids() -> set[int]:
    try:
        return {int(t) for t in os.listdir(_TASKS)}
    except OSError:
        return set()


@contextmanager
def new_threads() -> Iterator[set[int]]:
    """The ids of the threads this process started inside the ``with``, filled when it ends
    (empty where ``supported()`` is false)."""
    before = _thread_ids() if supported() else set()
    started: set[int] = set()
    try:
        yield started
    finally:
        if supported():
            started.update(_thread_ids() - before)


def lower_to_idle(thread_ids: set[int]) -> int:
    """Put ``thread_ids`` in the idle scheduling class; how many were lowered."""
    if not supported():
        return 0
    lowered = 0
    for tid in thread_ids:
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:  # ended meanwhile, or not allowed here
            continue
        lowered += 1
    return lowered


def is_idle(thread_id: int) -> bool:
    return supported() and os.sched_getscheduler(thread_id) == os.SCHED_IDLE
