"""The Explain tab: a click on a top-5 bar shows that class's heat map over the crop (the
core's picture, at the slider's opacity); Occlusion shows progress and stops on Cancel;
a class that does not exist is said in the map's place, with nothing drawn; Save as PNG
writes what `alexnet-cli explain` writes for the same settings."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from alexnet_gui.core.explain.picture import explanation_picture


def save_image(path, size=(300, 240), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return str(path)


def classified(window, qtbot, path):
    window.classify_view.open_paths([path])
    chart = window.classify_view.bars.chart
    qtbot.waitUntil(lambda: len(chart.rows) == 5, timeout=30000)
    return chart


def click_row(qtbot, chart, row: int) -> None:
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QPoint(chart.width() // 2,
                                                                  int((row + 0.5) * chart.row_height)))


def test_clicking_a_bar_shows_that_class_map(make_window, qtbot, tmp_path):
    window = make_window()
    path = save_image(tmp_path / "photo.png")
    chart = classified(window, qtbot, path)
    view = window.explain_view
    label, probability, index = chart.rows[2]
    asked = []
    real = window.client.explain
    window.client.explain = lambda *a: asked.append(a) or real(*a)
    with qtbot.waitSignal(view.shown, timeout=30000) as shown:
        click_row(qtbot, chart, 2)
    e = shown.args[0]
    assert len(asked) == 1 and asked[0][1]["target"] == index  # one request, for the class clicked
    assert window.tabs.currentWidget() is view
    assert (e.target.index, e.target.label) == (index, label) and e.method == "gradcam" and e.path == path
    assert abs(e.target.probability - probability) <= 1e-4 * max(1.0, probability)
    assert view.controls.class_box.currentText() == label
    assert np.array_equal(view.main_pane.rgb, explanation_picture(e, 0.5))
    assert label in view.main_pane.caption.text()
    view.opacity.setValue(80)
    assert np.array_equal(view.main_pane.rgb, explanation_picture(e, 0.8))
    assert view.save_button.isEnabled()


def test_selecting_an_image_with_the_tab_shown_explains_its_top1(make_window, qtbot, tmp_path):
    window = make_window()
    view = window.explain_view
    window.tabs.setCurrentWidget(view)
    assert "Select an image" in view.main_pane.message()
    a, b = save_image(tmp_path / "a.png", seed=1), save_image(tmp_path / "b.png", seed=2)
    window.classify_view.open_paths([a, b])
    qtbot.waitUntil(lambda: view.main_pane.explanation is not None and view.main_pane.explanation.path == a,
                    timeout=30000)
    with qtbot.waitSignal(view.shown, timeout=30000) as shown:
        window.classify_view.select(b)
    assert shown.args[0].path == b


def test_occlusion_shows_progress_and_cancel_stops_it(make_window, qtbot, tmp_path):
    window = make_window()
    path = save_image(tmp_path / "photo.png")
    chart = classified(window, qtbot, path)
    view = window.explain_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.main_pane.explanation is not None, timeout=30000)
    view.controls.patch.setValue(16)
    view.controls.stride.setValue(8)  # 27 x 27 = 729 windows: 23 batches
    view.controls.set_method("occlusion")
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=30000)
    assert view.progress_row.isVisible() and view.progress.maximum() == 729
    job = view._jobs["main"]
    with qtbot.waitSignal(job.ended, timeout=30000):
        view.cancel_button.click()
    assert job.state == "cancelled"
    assert view.main_pane.rgb is None and "Cancelled" in view.main_pane.message()
    assert not view.save_button.isEnabled() and not view.is_running()
    assert chart.rows  # Classify is as it was


def test_a_class_that_does_not_exist_is_said_and_nothing_drawn(make_window, qtbot, tmp_path):
    window = make_window()
    path = save_image(tmp_path / "photo.png")
    classified(window, qtbot, path)
    view = window.explain_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.main_pane.explanation is not None, timeout=30000)
    with qtbot.waitSignal(view.failed, timeout=30000) as failed:
        view.controls.class_box.setEditText("golden retrievr")
        view.controls.class_box.lineEdit().editingFinished.emit()
    assert "did you mean 'golden retriever'" in failed.args[0]
    assert view.main_pane.rgb is None and "golden retrievr" in view.main_pane.message()
    assert not view.save_button.isEnabled()


def test_save_as_png_equals_the_command_lines_png(make_window, qtbot, tmp_path, seeded_weights):
    from alexnet_gui import cli

    window = make_window()
    path = save_image(tmp_path / "photo.png", size=(320, 256), seed=5)
    chart = classified(window, qtbot, path)
    view = window.explain_view
    with qtbot.waitSignal(view.shown, timeout=30000) as shown:
        click_row(qtbot, chart, 1)
    view.opacity.setValue(65)
    saved = tmp_path / "window.png"
    assert view.save_to(str(saved))
    e = shown.args[0]
    from_cli = tmp_path / "cli.png"
    assert cli.main(["explain", "--weights", str(seeded_weights), "--device", "cpu", path, "--target",
                     str(e.target.index), "--opacity", "0.65", "--out", str(from_cli)]) == 0
    a = np.asarray(Image.open(saved).convert("RGB")).astype(int)
    b = np.asarray(Image.open(from_cli).convert("RGB")).astype(int)
    assert a.shape == b.shape
    # Both processes run the same core on the same weights and the same layout: the same picture,
    # up to a level where two float paths round a map value differently.
    assert np.abs(a - b).max() <= 2 and (np.abs(a - b) > 0).mean() < 0.01
