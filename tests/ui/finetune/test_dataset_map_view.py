"""Map and audit from the Fine-tune tab: the worker's audit job fills the map (a dot per
image, hover text, click opens in Classify) and the three lists, whose entries open and
can be handed to the corrections panel."""

from __future__ import annotations

import random
import shutil

import pytest
from finetune_tab import choose, open_view
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from shape_folders import SHAPES, draw_shape, make_shapes

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def test_map_and_audit_window(make_window, qtbot, tmp_path):
    folder = make_shapes(tmp_path / "shapes", per_class=8)
    shutil.copyfile(folder / "circles" / "circles-01.png", folder / "circles" / "circles-01-again.png")
    draw_shape("triangles", random.Random(4)).save(folder / "squares" / "odd.png")  # filed in the wrong class

    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, folder)
    assert view.corrections.audit_button.isEnabled()
    with qtbot.waitSignal(view.audited, timeout=120000) as got:
        view.corrections.audit_button.click()
    result = got.args[0]
    win = view.map_window
    assert win.isVisible() and result.image_count == 26
    assert len(win.map.dots) == 26 and "26 images, 3 classes" in win.map.accessibleName()
    tips = [d.toolTip() for d in win.map.dots]
    assert all(t.splitlines()[1].removeprefix("class: ") in SHAPES for t in tips)
    assert any(t.startswith(str(folder / "squares" / "odd.png")) for t in tips)
    assert all("prediction: " in t for t in tips)

    pairs = {win.duplicates.item(i).toolTip() for i in range(win.duplicates.count())}
    assert {str(folder / "circles" / "circles-01.png"), str(folder / "circles" / "circles-01-again.png")} & pairs
    assert win.mislabelled.count() == len(result.mislabelled)

    # Click a dot: the image opens in Classify.
    dot = win.map.dots[0]
    pos = win.map.mapFromScene(dot.scenePos())
    press = QMouseEvent(QMouseEvent.Type.MouseButtonPress, QPointF(pos), QPointF(win.map.viewport().mapToGlobal(pos)),
                        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.image_opened, timeout=5000) as opened:
        win.map.mousePressEvent(press)
    assert opened.args[0] in {d.point.path for d in win.map.dots}
    qtbot.waitUntil(lambda: window.classify_view.current_path() == opened.args[0], timeout=30000)

    # A duplicate entry: double-click opens it; Correct… hands it to the corrections panel.
    item = win.duplicates.item(0)
    win.duplicates.setCurrentItem(item)
    win.duplicates.itemDoubleClicked.emit(item)
    qtbot.waitUntil(lambda: window.classify_view.current_path() == item.toolTip(), timeout=30000)
    assert win.correct_button.isEnabled()
    win.correct_button.click()
    assert view.corrections.pending == item.toolTip()
