"""Correct and retrain: an image Classify got wrong and a mistakes-gallery card copied into
their right class (the originals untouched), one undone, Retrain computes only the new image,
shows the previous accuracy and matrix beside the new ones, and Classify uses the new head."""

from __future__ import annotations

import hashlib
import random

import pytest
from finetune_tab import choose, open_view
from shape_folders import SHAPES, draw_shape, make_shapes

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_correct_undo_and_retrain(make_window, qtbot, tmp_path):
    folder = make_shapes(tmp_path / "shapes", per_class=8)
    outside = tmp_path / "camera-roll"
    outside.mkdir()
    rng = random.Random(3)
    shots = []
    for k, kind in enumerate(("squares", "triangles")):
        shots.append(outside / f"shot-{k}.png")
        draw_shape(kind, rng).save(shots[-1])
    before_bytes = {p: digest(p) for p in shots}

    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, folder)
    panel = view.corrections
    assert panel.dataset == str(folder) and [panel.class_box.itemText(i) for i in range(3)] == list(SHAPES)
    view.set_settings(epochs=4, batch_size=16)
    with qtbot.waitSignal(view.run_ended, timeout=120000):
        assert view.start()
    first = view.outcome.result
    with qtbot.waitSignal(view.signals.installed, timeout=30000):
        view.use_button.click()
    qtbot.waitUntil(lambda: window.model_info.class_names == list(SHAPES), timeout=30000)

    # Classify, with the fine-tuned model in use: "Wrong?" hands the image to the Fine-tune tab.
    cv = window.classify_view
    window.open_paths([shots[0]])
    qtbot.waitUntil(lambda: cv.current_path() == str(shots[0]) and len(cv.bars.texts()) == 3, timeout=30000)
    assert cv.wrong_button.isVisibleTo(window)
    cv.wrong_button.click()
    assert window.tabs.currentWidget() is view and panel.pending == str(shots[0])
    panel.class_box.setEditText("squares")
    panel.file_button.click()
    assert [a.class_name for a in panel.added] == ["squares"]
    assert (folder / "squares" / "shot-0.png").is_file()

    # A gallery card: "copy into its right class" preselects its true class; the copy is a copy.
    view.confusion.cellClicked.emit(0, 0)
    card = view.gallery.items()[0]
    card_bytes = digest(card.path)
    view.gallery.correct_row(0)
    assert panel.pending == card.path and panel.class_box.currentText() == card.true_label
    panel.file_button.click()
    assert panel.pending is None and len(panel.added) == 2
    copy = panel.added[1].copy
    assert copy != card.path and digest(copy) == card_bytes == digest(card.path)

    # Another outside image, then Undo it: its copy goes, the original stays.
    assert panel.add(str(shots[1]), "triangles")
    undone = panel.added[-1].copy
    panel.added_list.setCurrentRow(2)
    panel.undo_button.click()
    assert len(panel.added) == 2 and panel.added_list.count() == 2
    assert not (tmp_path / undone).exists() and shots[1].is_file()
    assert {p: digest(p) for p in shots} == before_bytes  # the user's files, byte for byte

    # Retrain: only the outside image is new content (the card's copy has cached features).
    with qtbot.waitSignal(view.signals.installed, timeout=120000):  # the new head goes in use
        panel.retrain_button.click()
    second = view.outcome.result
    assert second.computed == 1
    assert second.train_count + second.val_count == first.train_count + first.val_count + 2
    text = panel.compare_label.text()
    assert f"before {first.val_accuracy * 100:.1f} %" in text and f"now {second.val_accuracy * 100:.1f} %" in text
    assert not panel.previous_confusion.isHidden() and panel.previous_confusion.total() == first.val_count
    assert window.model_info.class_names == list(SHAPES)


def test_retrain_automatically_after_images_are_added(make_window, qtbot, tmp_path):
    """With the setting on, adding images starts a retrain by itself (one for a burst, none
    before a first run); the setting is remembered."""
    from alexnet_gui.ui.finetune import corrections_panel

    folder = make_shapes(tmp_path / "shapes", per_class=6)
    outside = tmp_path / "more"
    outside.mkdir()
    rng = random.Random(5)
    shots = []
    for k in range(3):
        shots.append(outside / f"more-{k}.png")
        draw_shape("circles", rng).save(shots[-1])

    window, view = open_view(make_window, qtbot)
    panel = view.corrections
    choose(view, qtbot, folder)
    view.set_settings(epochs=2, batch_size=16)
    panel.auto_box.setChecked(True)
    assert window.settings.value(corrections_panel.AUTO_RETRAIN_KEY, False, bool)
    # Before a first run nothing starts by itself: the user's Start comes first.
    assert panel.add(str(shots[0]), "circles")
    qtbot.waitUntil(lambda: not panel._auto_timer.isActive(), timeout=10000)  # the delay has passed
    assert not view.is_running() and view.outcome is None
    with qtbot.waitSignal(view.run_ended, timeout=120000):
        assert view.start()
    first = view.outcome.result
    # A burst of two additions: one retrain, which learns from both.
    runs = []
    view.run_started.connect(lambda: runs.append(1))
    assert panel.add(str(shots[1]), "circles") and panel.add(str(shots[2]), "circles")
    assert "learned from shortly" in panel.message.text()
    with qtbot.waitSignal(view.run_ended, timeout=120000):
        pass
    second = view.outcome.result
    assert runs == [1] and second.computed == 2
    assert second.train_count + second.val_count == first.train_count + first.val_count + 2
    assert "before" in panel.compare_label.text()
