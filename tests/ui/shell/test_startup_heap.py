"""The app keeps its start-up heap out of full collections (a full collection of it held
the GUI thread 40-50 ms while results came in): frozen at start, again after the first load."""

from __future__ import annotations

import gc


def test_start_up_objects_are_frozen_then_the_first_model_too(make_window, qtbot):
    from alexnet_gui.app import freeze_startup_heap

    window = make_window(wait=False)
    try:
        freeze_startup_heap(window)
        at_start = gc.get_freeze_count()
        assert at_start > 10_000  # modules, Qt's wrappers, the window
        made_since = [object() for _ in range(10)] + [[] for _ in range(10)]  # tracked objects
        qtbot.waitUntil(lambda: window.model_info is not None, timeout=60000)
        assert gc.get_freeze_count() >= at_start + len(made_since) // 2
        probe = []  # made after the first load
        window.client.events.model_loaded.emit(window.model_info)  # a later load: nothing frozen again
        assert any(o is probe for generation in range(3) for o in gc.get_objects(generation))
    finally:
        gc.unfreeze()  # this test process builds many windows; let them be collected
