"""A job is a handle: each request returns a Job whose own signals report it, and whose
cancel() holds before the worker started it, while it runs and after it ended."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def record(job):
    seen = []
    job.partial.connect(lambda result: seen.append(("partial", result)))
    job.progressed.connect(lambda done, total: seen.append(("progressed", done, total)))
    job.finished.connect(lambda: seen.append(("finished",)))
    job.cancelled.connect(lambda: seen.append(("cancelled",)))
    job.failed.connect(lambda message: seen.append(("failed", message)))
    return seen


def test_a_job_reports_to_its_own_handle_only(make_window, image_dir, qtbot):
    window = make_window()
    folder = image_dir(3)
    one = window.client.classify([str(folder / "img000.png")])
    two = window.client.classify([str(p) for p in sorted(folder.iterdir())])
    seen_one, seen_two = record(one), record(two)
    qtbot.waitUntil(lambda: one.done() and two.done(), timeout=60000)
    assert [s[0] for s in seen_one].count("finished") == 1 and seen_one[-1] == ("finished",)
    paths_one = {r.path for kind, *rest in seen_one if kind == "partial" for r in rest[0]}
    paths_two = {r.path for kind, *rest in seen_two if kind == "partial" for r in rest[0]}
    assert paths_one == {str(folder / "img000.png")} and len(paths_two) == 3
    assert ("progressed", 3, 3) in seen_two and one.state == two.state == "finished"


def test_cancel_before_the_worker_started_it(make_window, image_dir, tmp_path, qtbot):
    window = make_window()
    go = tmp_path / "go"
    with qtbot.waitSignal(window.client.events.notice, timeout=10000,
                          check_params_cb=lambda text: text.startswith("holding until")):
        window.client.hold_worker(go)
    job = window.client.classify([str(p) for p in sorted(image_dir(4).iterdir())])
    seen = record(job)
    job.cancel()  # its request waits behind the held worker
    go.touch()
    qtbot.waitUntil(job.done, timeout=30000)
    assert seen == [("cancelled",)] and job.state == "cancelled"


def test_cancel_while_it_runs_and_after_it_ended(make_window, image_dir, qtbot):
    window = make_window()
    job = window.client.classify([str(p) for p in sorted(image_dir(200, size=(64, 64)).iterdir())])
    seen = record(job)
    qtbot.waitUntil(lambda: any(s[0] == "progressed" for s in seen), timeout=60000)
    job.cancel()
    qtbot.waitUntil(job.done, timeout=30000)
    assert seen[-1] == ("cancelled",) and sum(s[0] == "progressed" for s in seen) < 200 // 32 + 1
    job.cancel()  # after the end: nothing happens, nothing is sent
    assert job.state == "cancelled"


def test_a_job_whose_view_closed_goes_on_without_it(make_window, image_dir, qtbot):
    from PySide6.QtWidgets import QWidget

    window = make_window()
    view = QWidget()
    got = []

    class Listener(QWidget):
        def on_partial(self, results):
            got.extend(results)

    listener = Listener(view)
    job = window.client.classify([str(p) for p in sorted(image_dir(40, size=(64, 64)).iterdir())])
    job.partial.connect(listener.on_partial)
    view.deleteLater()  # the view is closed while its job runs
    qtbot.waitUntil(job.done, timeout=60000)
    assert job.state == "finished"  # no exception from a slot of a deleted view (the Qt check fails it)


def test_a_failed_job_says_why(make_window, tmp_path, qtbot):
    window = make_window()
    job = window.client.features(str(tmp_path / "missing.png"))
    seen = record(job)
    qtbot.waitUntil(job.done, timeout=30000)
    assert job.state == "failed" and seen[-1][0] == "failed" and "missing.png" in seen[-1][1]
