"""The Classify window's rough edges, as a user meets them: a cancelled folder, odd drops,
a cancel that comes early, Clear and Delete, what the status bar says, bad files, a model
with few classes, an empty export. Each test fails on the code before its fix."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog
from window_events import drop

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")  # tests/conftest.py: warnings recorded, not shown


def row_text(view, path) -> str:
    model = view.images
    return model.data(model.index(model.row_of(str(path))), Qt.ItemDataRole.DisplayRole)


def select(view, paths) -> None:
    """Click the first path, Ctrl+click the others."""
    sm = view.list.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    for i, p in enumerate(paths):
        sm.setCurrentIndex(view.images.index(view.images.row_of(str(p))),
                           flags.ClearAndSelect if i == 0 else flags.Select)


def statuses(view) -> list[str]:
    return [e.status for e in view.images.entries()]


def message(window) -> str:
    return window.statusBar().currentMessage()


@pytest.fixture
def busy_worker(make_window, tmp_path, qtbot):
    """(window, release): the window's worker held up in a long request of its own until
    release() (a model load or a decode the user's next requests queue behind)."""
    window = make_window()
    go = tmp_path / "go"
    with qtbot.waitSignal(window.client.events.notice, timeout=10000,
                          check_params_cb=lambda text: text.startswith("holding until")):
        window.client.hold_worker(go)
    yield window, go.touch
    go.touch(exist_ok=True)


def test_a_cancelled_folder_shows_its_waiting_rows_as_not_classified_and_classifies_them_again(
        make_window, image_dir, qtbot):
    window = make_window()
    view = window.classify_view
    folder = image_dir(120, size=(64, 64))
    drop(window, [folder])
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=60000)
    with qtbot.waitSignal(view.batch_running_changed, timeout=30000):
        window.actions["cancel"].trigger()  # Esc
    cancelled = [e.path for e in view.images.entries() if e.status == "cancelled"]
    assert cancelled, "the folder should stop before its end"
    last = cancelled[-1]
    view.select(last)  # scrolled into view and painted: its row reads as what it is
    window.grab()
    assert row_text(view, last).endswith("not classified (cancelled)")
    assert "not classified" in view.preview.text()
    assert "Classify again" in view.bars.message()
    assert "Cancelled" in message(window) and "not classified" in message(window)

    again = cancelled[-2:]
    select(view, again)
    window.actions["again"].trigger()  # Edit › Classify again (also on the list's right-click menu)
    qtbot.waitUntil(lambda: all(view.images.entry_for(p).status == "done" for p in again), timeout=60000)
    assert statuses(view).count("cancelled") == len(cancelled) - 2
    assert len(view.bars.texts()) == 5 and view.current_path() == again[-1]  # the selection stays
    assert view.again_action in view.list.actions()
    assert view.list.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu


def test_a_folder_dropped_with_files_inside_it_lists_each_file_once(make_window, image_dir, qtbot):
    window = make_window()
    view = window.classify_view
    folder = image_dir(3)
    inside = folder / "img001.png"
    drop(window, [inside, folder, inside, folder / "img002.png"])
    qtbot.waitUntil(lambda: not view.batch_running(), timeout=60000)
    paths = [e.path for e in view.images.entries()]
    assert sorted(paths) == [str(folder / f"img{i:03d}.png") for i in range(3)]
    assert statuses(view) == ["done"] * 3  # the row of the file dropped first got its answer too
    assert view.current_path() == str(inside)


def test_a_cancel_that_comes_before_the_worker_started_the_folder_holds(busy_worker, image_dir, qtbot):
    window, release = busy_worker
    view = window.classify_view
    drop(window, [image_dir(4)])  # queued behind the worker's own request
    window.actions["cancel"].trigger()  # Esc, before the folder's job has begun
    release()
    qtbot.waitUntil(lambda: not view.batch_running(), timeout=60000)
    assert statuses(view) == ["cancelled"] * 4
    assert "Cancelled: 0 of 4 images classified" in message(window)


def running_folder(window, image_dir, qtbot):
    """Drop a folder of 120 images and wait until it is under way: (its job id, {job id: cancelled})."""
    asked, finished = [], {}
    window.client.classify_requested.connect(lambda job, paths: asked.append(job))
    window.client.worker.job_finished.connect(lambda job, cancelled: finished.setdefault(job, cancelled))
    drop(window, [image_dir(120, size=(64, 64))])
    qtbot.waitUntil(lambda: window.classify_view.progress.value() > 0, timeout=60000)
    return asked[0], finished


def test_clear_stops_the_running_folder(make_window, image_dir, qtbot):
    window = make_window()
    view = window.classify_view
    folder_job, finished = running_folder(window, image_dir, qtbot)
    window.actions["clear"].trigger()
    assert view.images.entries() == [] and not view.batch_running()
    assert not view.progress_row.isVisible() and not window.actions["cancel"].isEnabled()
    qtbot.waitUntil(lambda: folder_job in finished, timeout=30000)
    assert finished[folder_job] is True  # stopped, not run to its end
    assert not message(window).startswith("Classified")


def test_delete_removes_the_selected_images(make_window, image_dir, qtbot):
    window = make_window()
    view = window.classify_view
    folder = image_dir(3)
    drop(window, [folder])
    qtbot.waitUntil(lambda: not view.batch_running() and statuses(view) == ["done"] * 3, timeout=60000)
    select(view, [folder / "img000.png", folder / "img002.png"])
    window.activateWindow()
    view.list.setFocus()
    qtbot.waitUntil(lambda: view.list.hasFocus(), timeout=5000)
    qtbot.keyClick(view.list, Qt.Key.Key_Delete)
    assert [e.path for e in view.images.entries()] == [str(folder / "img001.png")]
    assert message(window) == "Removed 2 images"
    assert window.actions["remove"].shortcut().toString() == "Del"


def test_deleting_every_row_of_a_running_folder_stops_it(make_window, image_dir, qtbot):
    window = make_window()
    view = window.classify_view
    folder_job, finished = running_folder(window, image_dir, qtbot)
    view.list.selectAll()
    window.actions["remove"].trigger()
    assert view.images.entries() == [] and not view.batch_running()
    qtbot.waitUntil(lambda: folder_job in finished, timeout=30000)
    assert finished[folder_job] is True


def test_an_empty_folder_and_files_already_open_are_said(make_window, image_dir, tmp_path, qtbot):
    window = make_window()
    view = window.classify_view
    empty = tmp_path / "nothing here"
    empty.mkdir()
    drop(window, [empty])
    assert message(window) == f"No images in {empty}"
    assert view.images.entries() == []

    folder = image_dir(3)
    drop(window, [folder])
    qtbot.waitUntil(lambda: not view.batch_running() and statuses(view) == ["done"] * 3, timeout=60000)
    asked = []
    window.client.classify_requested.connect(lambda job, paths: asked.append(paths))
    drop(window, [folder])
    assert message(window) == "3 already open (img000.png, img001.png, img002.png)"
    assert len(view.images.entries()) == 3 and asked == []


@pytest.fixture
def clipboard():
    cb = QGuiApplication.clipboard()
    yield cb
    cb.clear()  # data left on the offscreen clipboard crashes Qt's teardown at interpreter exit


def test_a_paste_replaces_the_stale_status_message(make_window, qtbot, clipboard):
    window = make_window()
    clipboard.setText("a note, not a path")
    assert window.paste() == 0
    assert message(window) == "The clipboard holds no image or file path"
    img = QImage(120, 90, QImage.Format.Format_RGB32)
    img.fill(Qt.GlobalColor.darkCyan)
    clipboard.setImage(img)
    assert window.paste() == 1
    pasted = window.classify_view.images.entries()[0]
    assert message(window) == f"Opened {pasted.name}"
    clipboard.clear()  # nothing at all on the clipboard: said, not an exception
    assert window.paste() == 0
    assert message(window) == "The clipboard holds no image or file path"


def test_a_bad_file_shows_its_error_in_the_preview_without_the_untrained_note(make_window, image_dir, tmp_path,
                                                                              qtbot):
    window = make_window(weights=None)
    view = window.classify_view
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is text, not a JPEG")
    drop(window, [bad])
    qtbot.waitUntil(lambda: view.images.entry_for(str(bad)).status == "error", timeout=30000)
    assert view.preview.text().startswith("⚠ notes.jpg")
    assert view.bars.message().startswith("⚠")
    assert not view.bars.note.isVisible()
    drop(window, [image_dir(1) / "img000.png"])  # a good image: its guesses are random, and said so
    qtbot.waitUntil(lambda: len(view.bars.texts()) == 5, timeout=30000)
    assert view.bars.note.isVisible() and "Untrained" in view.bars.note.text()


def test_the_top_k_title_follows_a_model_with_fewer_classes(make_window, image_dir, tmp_path, qtbot):
    from alexnet_gui.core.model import build_model, swap_head
    from alexnet_gui.core.weights import save_checkpoint

    window = make_window()
    view = window.classify_view
    assert view.bars.title.text() == "<b>Top-5</b>"
    ckpt = tmp_path / "two.pth"
    save_checkpoint(ckpt, swap_head(build_model(seed=1), 2).state_dict(), ["cats", "dogs"], {})
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)
    assert view.bars.title.text().startswith("<b>Top-2")
    drop(window, [image_dir(1) / "img000.png"])
    qtbot.waitUntil(lambda: len(view.bars.texts()) == 2, timeout=30000)
    assert "Top-5" not in view.bars.title.text()


def test_export_with_nothing_classified_says_so(make_window, tmp_path, qtbot, monkeypatch):
    window = make_window()
    asked = []
    out = tmp_path / "predictions.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or (str(out), ""))
    window.export_dialog()
    assert message(window).startswith("Nothing to export")
    assert asked == [] and not out.exists()
