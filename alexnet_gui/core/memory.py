"""Handing memory freed by a big job back to the system."""

from __future__ import annotations

import ctypes
import sys


def return_free_memory() -> bool:
    """Ask glibc to give its free heap pages back (``malloc_trim(0)``); True when some were.

    glibc keeps what a job freed (decoded images, float batches, activations) in
    its per-thread heaps for reuse, so a process that classified a big folder
    stays ~100 MB larger than it needs to be, and by a different amount each
    time. Called when a folder or a fine-tune ends, not after single images (the
    next one would fault the pages back in). The freed pixel blocks Pillow keeps
    for the next image (``images.PILLOW_KEPT_BLOCKS``) are let go first, on every
    system. Elsewhere (other C libraries, other systems) the trim does nothing."""
    from PIL import Image

    Image.core.clear_cache()
    trim = _glibc("malloc_trim")
    return bool(trim(0)) if trim is not None else False


def _glibc(name: str):
    """glibc's function ``name`` on Linux; None elsewhere (other C libraries, other systems)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # not glibc
        return None


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
KEPT_FREE_BYTES = 64 * 1024 * 1024
HEAP_BLOCKS_UP_TO = 32 * 1024 * 1024


def keep_freed_memory_for_reuse() -> bool:
    """For a process that receives large messages again and again (the window: feature maps
    of 4.4 MB, previews): glibc keeps up to 64 MB of freed heap for the next message and takes
    blocks up to 32 MB from the heap, instead of mapping and unmapping them each time. Each new
    mapping was faulted in page by page while the bytes arrived, and each unmapping shot down
    other cores' page tables: the same 4.4 MB then took 2.5 to 10 ms to arrive instead of 1 ms
    (bench_transfer.py). True when glibc took the settings; elsewhere nothing changes."""
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, KEPT_FREE_BYTES)) and bool(mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO))
