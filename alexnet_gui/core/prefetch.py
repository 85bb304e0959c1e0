"""Decoding ahead: the next batch is prepared on a helper thread while this one runs.

Pillow releases the GIL while it decodes and resizes, so the helper's work hides
behind the forward pass. ``work`` must not call torch: a torch op on a second
thread starts a second OpenMP thread team, and two teams on two cores slow each
other's forward passes. It hands over small uint8 crops; the float batch is made
(and freed) on the calling thread, which keeps memory from piling up in the
helper's malloc arena.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def prepared_ahead(work: Callable[[T], R], items: Sequence[T], ahead: int = 1,
                   name: str = "decode") -> Iterator[Iterator[R]]:
    """``work(item)`` for each item, in order, with up to ``ahead`` later items in preparation.

    Use as ``with prepared_ahead(work, items) as results: for r in results: ...``.
    Leaving the block early (a cancel, an error) drops the items not yet started; one
    already running finishes on its own and its result is thrown away. A single item
    is prepared on the calling thread: there is nothing to overlap it with.
    """
    items = list(items)
    if len(items) <= 1:
        yield (work(item) for item in items)
        return
    ahead = max(1, ahead)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    try:
        # The first items start now, so they overlap whatever the caller does before it asks.
        pending = deque(pool.submit(work, item) for item in items[:ahead])
        yield _in_order(pool, work, items[ahead:], pending)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _in_order(pool: ThreadPoolExecutor, work: Callable[[T], R], rest: list[T], pending: deque) -> Iterator[R]:
    for item in rest:
        result = pending.popleft().result()
        pending.append(pool.submit(work, item))
        yield result
    while pending:
        yield pending.popleft().result()
