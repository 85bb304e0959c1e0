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
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(trim(0))
