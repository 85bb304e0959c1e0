"""One image dragged over the window is classified before it is dropped; the drop shows it at once.

Nothing is listed or shown until the drop; the held answer is used only for the same file,
unchanged, with the same model.
"""

from __future__ import annotations

import numpy as np
import pytest
from float_paths import same_top
from PIL import Image
from test_classify_window import core_top5
from window_events import drag_enter, drag_leave, drop, drop_only

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def shows_top5_of(view, weights, path):
    """A check: the bars show the core's top-5 for ``path``. The window's model is placed
    channels-last and the core's here is not, so they agree to float rounding: near-tied
    classes of a seeded model may trade places, and only those."""
    expected = core_top5(weights, path)
    return lambda: same_top(view.bars.chart.rows, expected)


def with_pictures(path):
    """A check for ``predictions_ready``: the second update for ``path``, with thumbnail and preview."""
    return lambda _job, results: any(r.path == str(path) and r.preview is not None for r in results)


@pytest.fixture
def requests(make_window):
    """A window whose classify requests to the worker are recorded: (window, list of path lists)."""
    window = make_window()
    asked: list[list[str]] = []
    real = window.client.classify

    def classify(paths):
        asked.append([str(p) for p in paths])
        return real(paths)

    window.client.classify = classify
    return window, asked


def test_the_dragged_image_is_ready_when_it_is_dropped(requests, image_dir, seeded_weights, qtbot):
    window, asked = requests
    view = window.classify_view
    img = image_dir(1) / "img000.png"
    with qtbot.waitSignal(window.client.worker.predictions_ready, check_params_cb=with_pictures(img), timeout=30000):
        drag_enter(window, [img])
    assert asked == [[str(img)]]
    assert view.images.entries() == [] and view.bars.texts() == []  # nothing shows before the drop

    shown = shows_top5_of(view, seeded_weights, img)
    drop_only(window, [img])
    # At once: no event loop has run since the drop, and no second request was made.
    assert shown()
    assert view.current_path() == str(img) and asked == [[str(img)]]
    entry = view.images.entry_for(str(img))
    assert entry.status == "done"
    # The thumbnail and preview follow in a second update, as they do from the worker.
    qtbot.waitUntil(lambda: entry.preview is not None and entry.icon is not None, timeout=5000)
    assert asked == [[str(img)]]


def test_a_drop_before_the_answer_uses_the_same_request(requests, image_dir, seeded_weights, qtbot):
    window, asked = requests
    img = image_dir(1) / "img000.png"
    drop(window, [img])  # enter and drop in the same instant
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=30000)
    assert shows_top5_of(window.classify_view, seeded_weights, img)()
    assert asked == [[str(img)]]


def test_a_drag_that_leaves_shows_nothing(requests, image_dir, seeded_weights, qtbot):
    window, asked = requests
    view = window.classify_view
    first, second = image_dir(2) / "img000.png", image_dir(2) / "img001.png"
    jobs = []  # every classify job asked for (its handle), the drag's early one included
    recorded = window.client.classify

    def classify(paths):
        jobs.append(recorded(paths))
        return jobs[-1]

    window.client.classify = classify
    drag_enter(window, [first])
    drag_leave(window)
    drop(window, [second])
    qtbot.waitUntil(lambda: len(view.bars.texts()) == 5, timeout=30000)
    # every answer for the first file has arrived (or was cancelled): none may show
    qtbot.waitUntil(lambda: all(job.done() for job in jobs), timeout=30000)
    assert [e.path for e in view.images.entries()] == [str(second)]
    assert shows_top5_of(view, seeded_weights, second)()


def test_a_file_changed_after_the_drag_is_classified_again(requests, image_dir, seeded_weights, qtbot):
    window, asked = requests
    img = image_dir(1) / "img000.png"
    with qtbot.waitSignal(window.client.worker.job_finished, timeout=30000):
        drag_enter(window, [img])
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 255, (120, 150, 3), dtype=np.uint8)).save(img)  # other pixels, other size
    drop_only(window, [img])
    assert asked == [[str(img)], [str(img)]]
    qtbot.waitUntil(shows_top5_of(window.classify_view, seeded_weights, img), timeout=30000)


def test_a_model_change_after_the_drag_is_not_answered_by_the_old_model(requests, image_dir, tmp_path, qtbot):
    import torch

    from alexnet_gui.core.model import build_model

    window, asked = requests
    img = image_dir(1) / "img000.png"
    with qtbot.waitSignal(window.client.worker.job_finished, timeout=30000):
        drag_enter(window, [img])
    other = tmp_path / "other-seed.pth"
    torch.save(build_model(seed=5).state_dict(), other)
    window.load_weights(str(other))
    qtbot.waitUntil(lambda: window.model_info.weights_path == str(other), timeout=30000)
    drop_only(window, [img])
    assert asked == [[str(img)], [str(img)]]
    qtbot.waitUntil(shows_top5_of(window.classify_view, other, img), timeout=30000)


def test_a_dragged_folder_waits_for_the_drop(requests, image_dir, qtbot):
    window, asked = requests
    folder = image_dir(3)
    drag_enter(window, [folder])
    drag_enter(window, [folder / "img000.png", folder / "img001.png"])
    assert asked == []
    drop_only(window, [folder])
    assert asked == [[str(folder / f"img{i:03d}.png") for i in range(3)]]


def test_a_dragged_corrupt_file_shows_its_error_inline_at_the_drop(requests, tmp_path, qtbot, no_modal_dialogs):
    window, asked = requests
    view = window.classify_view
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a JPEG")
    with qtbot.waitSignal(window.client.worker.job_finished, timeout=30000):
        drag_enter(window, [bad])
    assert view.images.entries() == []
    drop_only(window, [bad])
    entry = view.images.entry_for(str(bad))
    assert entry.status == "error" and "broken.jpg" in entry.error
    assert asked == [[str(bad)]] and no_modal_dialogs == []
    missing = bad.with_name("missing.png")  # and the window goes on: the next drop is answered
    drop(window, [missing])
    qtbot.waitUntil(lambda: view.images.entry_for(str(missing)).status == "error", timeout=30000)


def test_a_window_closed_right_after_the_drop_leaves_nothing_behind(seeded_weights, image_dir, qtbot):
    """The held thumbnail and preview wait 20 ms after the drop: a window gone by then must not be called."""
    import shiboken6

    from alexnet_gui.app import create_window

    window = create_window(["--weights", str(seeded_weights), "--device", "cpu"])
    window.show()
    qtbot.waitUntil(lambda: window.model_info is not None, timeout=60000)
    img = image_dir(1) / "img000.png"
    with qtbot.waitSignal(window.client.worker.predictions_ready, check_params_cb=with_pictures(img), timeout=30000):
        drag_enter(window, [img])
    drop_only(window, [img])
    window.close()
    qtbot.waitUntil(lambda: not window.client.is_running(), timeout=10000)
    shiboken6.delete(window)
    # Past the held 20 ms: Qt fires timers in deadline order, so once a later one has fired the
    # held one would have run. pytest-qt fails the test on an exception raised meanwhile.
    from PySide6.QtCore import QTimer

    from alexnet_gui.ui.classify.classify_view import PICTURES_AFTER_S

    later = QTimer()
    later.setSingleShot(True)
    with qtbot.waitSignal(later.timeout, timeout=5000):
        later.start(round(PICTURES_AFTER_S * 1000) + 1)
