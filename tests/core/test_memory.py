"""Handing freed memory back after a big job: safe to call anywhere, works on glibc."""

from __future__ import annotations

import ctypes
import sys

import pytest

from alexnet_gui.core.memory import return_free_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_on_glibc_freed_heap_pages_go_back(monkeypatch):
    try:
        ctypes.CDLL(None).malloc_trim
    except AttributeError:
        pytest.skip("not glibc")
    # Mid-sized blocks (below the mmap threshold) land in the heap; a block allocated after
    # them keeps the heap's top in use, so free() alone cannot give their pages back.
    blocks = [bytearray(64 * 1024) for _ in range(2000)]
    keep = bytearray(64 * 1024)
    del blocks
    assert return_free_memory() is True
    del keep


def test_elsewhere_it_does_nothing(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert return_free_memory() is False


def test_the_pixel_blocks_pillow_keeps_are_let_go_too():
    from PIL import Image

    import alexnet_gui.core.images  # noqa: F401 - sets how many freed blocks Pillow keeps

    img = Image.new("RGB", (1024, 768))
    del img  # its block is kept for the next image
    assert Image.core.get_stats()["blocks_cached"] >= 1
    return_free_memory()
    assert Image.core.get_stats()["blocks_cached"] == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_a_receiving_process_keeps_freed_memory_for_the_next_message():
    from alexnet_gui.core.memory import keep_freed_memory_for_reuse

    try:
        ctypes.CDLL(None).mallopt
    except AttributeError:
        pytest.skip("not glibc")
    assert keep_freed_memory_for_reuse() is True
    assert return_free_memory() in (True, False)  # an explicit trim still works afterwards


def test_elsewhere_memory_settings_are_left_alone(monkeypatch):
    from alexnet_gui.core.memory import keep_freed_memory_for_reuse

    monkeypatch.setattr(sys, "platform", "win32")
    assert keep_freed_memory_for_reuse() is False
