"""Bad and odd images dropped on the window: an inline error that names the file and the
cause (no dialog), the window keeps working (a good image dropped next shows its top-5),
and the user's folder is left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from fault_inputs import (
    IMAGE_CASES,
    NON_UTF8_NAME,
    NON_UTF8_SHOWN,
    OK,
    album_losing_a_file,
    drop,
    manually_upright,
    snapshot,
    write_png,
)
from PySide6.QtCore import Qt

from alexnet_gui.core.images import display_name


def wait_for_entry(qtbot, window, path: Path):
    """The entry once classified and its pictures arrived (they follow the top-5 in a second update)."""
    view = window.classify_view
    qtbot.waitUntil(lambda: (e := view.images.entry_for(os.fsdecode(path))) is not None
                    and e.status in ("done", "error") and not e.result.pictures_pending, timeout=60000)
    return view.images.entry_for(os.fsdecode(path))


def accessible_text(window, path: Path) -> str:
    model = window.classify_view.images
    return model.data(model.index(model.row_of(os.fsdecode(path))), Qt.ItemDataRole.AccessibleTextRole)


def one_case(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    if case == "non-utf8-name":
        path = Path(os.fsdecode(os.path.join(os.fsencode(folder), NON_UTF8_NAME)))
        write_png(path, seed=9)
        return path
    path = folder / IMAGE_CASES[case].name
    IMAGE_CASES[case].write(path)
    return path


@pytest.mark.parametrize("case", [*IMAGE_CASES, "non-utf8-name"])
def test_dropped_case(window, case, tmp_path, qtbot, still_classifies, no_modal_dialogs):
    path = one_case(tmp_path, case)
    before = snapshot(path.parent)
    drop(window, [path])
    entry = wait_for_entry(qtbot, window, path)
    view = window.classify_view
    expect = IMAGE_CASES[case].expect if case in IMAGE_CASES else OK
    if expect is OK:
        assert entry.status == "done", entry.error
        qtbot.waitUntil(lambda: len(view.bars.texts()) == 5, timeout=30000)
        # the thumbnail and the preview follow the top-5 in a second update
        qtbot.waitUntil(lambda: entry.preview is not None and entry.icon is not None, timeout=30000)
    else:
        assert entry.status == "error"
        assert entry.error.startswith(f"{display_name(path)}: ") and expect in entry.error
        # shown twice: in the list (what a screen reader reads) and above the empty bars
        assert display_name(path) in accessible_text(window, path) and "⚠" in accessible_text(window, path)
        assert view.bars.message() == f"⚠ {entry.error}" == view.bars.chart.accessibleDescription()
        assert view.bars.texts() == []
    assert no_modal_dialogs == []
    still_classifies(window)
    assert snapshot(path.parent) == before


def test_non_utf8_name_is_opened_not_reported_missing(window, tmp_path, qtbot):
    """A file manager sends the name's bytes %-escaped (caf%E9); the window opens that very file."""
    path = one_case(tmp_path, "non-utf8-name")
    drop(window, [path])
    entry = wait_for_entry(qtbot, window, path)
    assert entry.status == "done", entry.error
    assert display_name(path) == NON_UTF8_SHOWN


def test_exif_rotated_photo_is_shown_and_classified_upright(window, tmp_path, qtbot):
    from alexnet_gui.core.thumbnails import PREVIEW_SIZE, THUMBNAIL_SIZE, fit

    path = one_case(tmp_path, "exif-rotated")
    by_hand = manually_upright(path, tmp_path / "rotated-by-hand.png")
    drop(window, [by_hand])
    reference = wait_for_entry(qtbot, window, by_hand)
    drop(window, [path])
    entry = wait_for_entry(qtbot, window, path)
    result = entry.result
    assert result.size == (64, 96)  # width, height of the picture as it is meant to be seen
    from PIL import Image

    with Image.open(by_hand) as upright:
        assert np.array_equal(result.thumbnail, fit(upright, THUMBNAIL_SIZE))
        assert np.array_equal(result.preview, fit(upright, PREVIEW_SIZE))
    assert entry.preview.height() > entry.preview.width()  # the QImage shown is portrait
    assert result.thumbnail[0, 32, 0] > 150 and result.thumbnail[-1, 32, 2] > 150  # red on top, blue below
    # exact: the same pixels through the same placed model, one image each time, on the same thread
    assert result.prediction.top == reference.result.prediction.top
    view = window.classify_view
    qtbot.waitUntil(lambda: len(view.bars.texts()) == 5, timeout=30000)
    assert view.bars.texts() == [f"{s.label} — {s.probability * 100:.1f} %" for s in reference.result.prediction.top]


def test_a_file_deleted_after_the_folder_was_listed(window, tmp_path, qtbot, monkeypatch, still_classifies):
    folder, gone = album_losing_a_file(tmp_path, monkeypatch)
    drop(window, [folder])
    assert wait_for_entry(qtbot, window, gone).error == "moved-away.png: the file does not exist (moved or deleted?)"
    assert wait_for_entry(qtbot, window, folder / "stays.png").status == "done"
    still_classifies(window)


def test_a_folder_without_read_permission(window, tmp_path, qtbot, monkeypatch, still_classifies, no_modal_dialogs):
    locked = tmp_path / "locked"
    locked.mkdir()
    write_png(locked / "inside.png")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw))
    drop(window, [locked])
    message = window.statusBar().currentMessage()
    assert message == "locked: permission denied: the folder cannot be read"
    assert window.classify_view.images.entries() == [] and no_modal_dialogs == []
    still_classifies(window)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder; the simulated variant above runs instead")
def test_a_folder_without_read_permission_for_real(window, tmp_path, qtbot, still_classifies):
    locked = tmp_path / "locked"
    locked.mkdir()
    write_png(locked / "inside.png")
    locked.chmod(0)
    try:
        drop(window, [locked])
        assert "permission denied" in window.statusBar().currentMessage()
    finally:
        locked.chmod(0o755)
    still_classifies(window)
