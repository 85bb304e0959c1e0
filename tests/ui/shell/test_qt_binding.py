"""The Qt binding the app runs on keeps Python's reference counts straight.

PySide6 6.12.0 on Python 3.11 drops one reference to None on every
``QTimer.singleShot`` and ``processEvents`` call, and one to True on every signal
emit. None and True are shared objects there (immortal only from Python 3.12), so
once their counts reach zero the process aborts with "Fatal Python error:
bool_dealloc". In the window (True held ~28,000 references after loading) that
was about 3,500 dropped images (8 emits each) or ~33,000 folder images. pyproject.toml
leaves that release out; these tests fail on any release that brings the bug back.
"""

from __future__ import annotations

import sys

import pytest

CALLS = 200


def counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def lost_per_call(call) -> dict[str, float]:
    """References to None, True and False lost per call. Measured with no other Python
    thread left (a worker of an earlier test finishing would free its own references
    meanwhile) and without a garbage collection in the middle."""
    import gc
    import threading
    import time

    deadline = time.monotonic() + 30
    while threading.active_count() > 1 and time.monotonic() < deadline:
        for t in threading.enumerate():
            if t is not threading.current_thread():
                t.join(0.1)
    call()  # first call: any one-off caching happens here
    gc.collect()
    gc.disable()
    try:
        before = counts()
        for _ in range(CALLS):
            call()
        after = counts()
    finally:
        gc.enable()
    return {name: (a - b) / CALLS for name, a, b in zip(("None", "True", "False"), after, before) if a < b}


@pytest.fixture
def emitter(qapp):
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ready = Signal(int, object)

        def step(self) -> None:
            pass

    obj = Emitter()
    received = []
    obj.ready.connect(lambda job, value: received.append(job))
    yield obj
    obj.deleteLater()


def test_signal_emit_keeps_reference_counts(emitter):
    assert lost_per_call(lambda: emitter.ready.emit(1, None)) == {}


def test_single_shot_timer_keeps_reference_counts(qapp, emitter):
    from PySide6.QtCore import QTimer

    def step() -> None:
        pass

    # As the worker schedules its next step: one function or bound method, many times.
    assert lost_per_call(lambda: QTimer.singleShot(0, step)) == {}
    assert lost_per_call(lambda: QTimer.singleShot(0, emitter, step)) == {}
    assert lost_per_call(lambda: QTimer.singleShot(0, emitter.step)) == {}


def test_process_events_keeps_reference_counts(qapp):
    assert lost_per_call(qapp.processEvents) == {}
