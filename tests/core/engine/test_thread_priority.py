"""ONNX Runtime's spinning pool threads give way to every other thread (Linux's idle class)."""

import os
import threading

import pytest

from alexnet_gui.core.engine import thread_priority

needs_idle_class = pytest.mark.skipif(not thread_priority.supported(), reason="no per-thread idle class here")


@needs_idle_class
def test_an_ort_runners_pool_threads_are_idle_and_the_caller_is_not(seeded_ort_engine):
    from alexnet_gui.core.engine.runners import CPU_PROVIDER, OrtRunner

    # Two threads whatever torch has here (one thread, as with OMP_NUM_THREADS=1, makes no pool).
    runner = OrtRunner(seeded_ort_engine.ort.path, [CPU_PROVIDER], threads=2)
    assert runner.pool_threads, "ONNX Runtime started no pool thread for its session"
    live = {int(t) for t in os.listdir("/proc/self/task")}
    assert runner.pool_threads <= live
    assert all(thread_priority.is_idle(t) for t in runner.pool_threads)
    assert not thread_priority.is_idle(threading.get_native_id())


@needs_idle_class
def test_only_threads_started_inside_are_named_and_lowered():
    stop = threading.Event()
    before, inside = threading.Thread(target=stop.wait), threading.Thread(target=stop.wait)
    before.start()
    try:
        with thread_priority.new_threads() as started:
            inside.start()
        assert inside.native_id in started and before.native_id not in started
        assert thread_priority.lower_to_idle({inside.native_id}) == 1
        assert thread_priority.is_idle(inside.native_id)
        assert not thread_priority.is_idle(before.native_id)
    finally:
        stop.set()
        for t in (before, inside):
            if t.is_alive():
                t.join()


def test_without_an_idle_class_nothing_is_named_or_lowered(monkeypatch):
    monkeypatch.setattr(thread_priority, "supported", lambda: False)
    with thread_priority.new_threads() as started:
        t = threading.Thread(target=lambda: None)
        t.start()
        t.join()
    assert started == set()
    assert thread_priority.lower_to_idle({threading.get_native_id()}) == 0
