"""The Units tab: a channel clicked in Feature maps shows its top images (the core's ranking) and
the picture it wants, live; Cancel stops a scan; both save as PNG; the default images are those
opened in Classify; a bad channel never leaves the picker's range."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from alexnet_gui.core.units import TopImages, UnitPicture


def open_images(window, qtbot, folder):
    paths = sorted(str(p) for p in folder.iterdir())
    window.classify_view.open_paths(paths)
    qtbot.waitUntil(lambda: not window.client.busy(), timeout=60000)
    return paths


def core_top(weights, paths, layer, channel):
    import torch

    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.units.run import run_to_end, top_images_steps
    from alexnet_gui.core.units.scan import weights_key

    model = build_model()
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    return run_to_end(top_images_steps(model, paths, layer, channel, weights_key(model, "other"),
                                       torch.device("cpu")))


def test_a_channel_clicked_in_feature_maps_shows_its_top_images(make_window, image_dir, seeded_weights, qtbot):
    window = make_window()
    paths = open_images(window, qtbot, image_dir(12))
    maps = window.feature_maps_view
    window.tabs.setCurrentWidget(maps)
    qtbot.waitUntil(lambda: maps.current_layer() is not None and maps._current(), timeout=30000)
    assert not maps.top_images_button.isEnabled()  # no channel picked yet
    maps.show_channel("features.10", 17)
    qtbot.waitUntil(maps.top_images_button.isEnabled, timeout=10000)
    view = window.unit_view
    with qtbot.waitSignal(view.top_shown, timeout=60000) as shown:
        qtbot.mouseClick(maps.top_images_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is view
    top: TopImages = shown.args[0]
    assert (top.unit.layer, top.unit.channel) == ("features.10", 17) and top.scanned == 12
    expected = core_top(seeded_weights, paths, "features.10", 17)
    assert [im.path for im in top.images] == [im.path for im in expected.images]
    assert np.allclose([im.value for im in top.images], [im.value for im in expected.images], rtol=1e-4, atol=1e-6)
    first = view.captions[0].text()
    assert first.startswith("1. ") and top.images[0].path.endswith(first.split(":")[0][3:])
    assert view.tiles[0].pixmap() is not None and not view.tiles[0].pixmap().isNull()
    assert "Top 9 of 12 images" in view.status.text() and "12 computed" in view.status.text()

    # Another channel of the same layer: no image goes through the network again.
    view.set_unit("features.10", 3)
    with qtbot.waitSignal(view.top_shown, timeout=30000) as again:
        qtbot.mouseClick(view.top_button, Qt.MouseButton.LeftButton)
    assert again.args[0].computed == 0 and "0 computed, 12 from the cache" in view.status.text()


def test_cancel_stops_a_scan_and_the_view_says_so(make_window, image_dir, qtbot, tmp_path):
    window = make_window()
    view = window.unit_view
    view.set_folder(str(image_dir(40, size=(300, 260))))
    window.tabs.setCurrentWidget(view)
    view.set_unit("classifier.4", 5)
    view.find_top()
    job = view._job
    assert view.cancel_button.isEnabled()
    with qtbot.waitSignal(job.ended, timeout=60000):
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert job.state == "cancelled" and view.status.text() == "Cancelled"
    assert not view.cancel_button.isEnabled() and view.top is None


def test_the_picture_shows_live_and_both_save_as_png(make_window, image_dir, qtbot, tmp_path, monkeypatch):
    window = make_window()
    view = window.unit_view
    view.set_folder(str(image_dir(5)))
    window.tabs.setCurrentWidget(view)
    view.set_unit("features.3", 7)
    monkeypatch.setattr("alexnet_gui.ui.inside.unit_view.PICTURE_STEPS", 16)
    frames = []
    with qtbot.waitSignal(view.picture_shown, timeout=60000) as shown:
        view.make_picture()
        view._job.partial.connect(frames.append)
    picture: UnitPicture = shown.args[0]
    assert [f.step for f in frames[:-1]] == [8, 16] and frames[-1] is picture
    assert picture.image.shape == (224, 224, 3) and "the noise it started from" in view.picture_caption.text()
    with qtbot.waitSignal(view.top_shown, timeout=60000):
        view.find_top()

    out = tmp_path / "wants.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
    assert view.save_picture_dialog() == str(out)
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), picture.image)
    top_png = tmp_path / "top.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(top_png), "PNG (*.png)"))
    assert view.save_top_dialog() == str(top_png)
    assert Image.open(top_png).size == (3 * 128 + 4 * 4, 2 * (128 + 16) + 3 * 4)  # five images: two rows


def test_the_images_opened_in_classify_are_the_default_and_the_picker_follows_the_layer(make_window, image_dir,
                                                                                        qtbot):
    window = make_window()
    view = window.unit_view
    window.tabs.setCurrentWidget(view)
    assert "Open images in Classify" in view.source_label.text()
    view.find_top()
    assert view._job is None and "Open images in Classify" in view.status.text()
    open_images(window, qtbot, image_dir(3))
    window.tabs.setCurrentWidget(window.classify_view)
    window.tabs.setCurrentWidget(view)
    assert "the 3 images opened in Classify" in view.source_label.text()
    view.set_unit("features.0", 63)
    assert view.channel_box.maximum() == 63
    view.set_unit("classifier.6", 281)
    assert view.channel_box.maximum() == 999 and view.unit_name.text().startswith("class 281 (")


def test_a_filters_right_click_menu_asks_for_its_channels_top_images(make_window, image_dir, qtbot):
    window = make_window()
    open_images(window, qtbot, image_dir(4))
    filters = window.filters_view
    window.tabs.setCurrentWidget(filters)
    top, wants = filters.unit_actions(5)
    assert top.text() == "Top images for channel 5" and wants.text() == "What it wants"
    view = window.unit_view
    with qtbot.waitSignal(view.top_shown, timeout=60000) as shown:
        top.trigger()
    assert window.tabs.currentWidget() is view
    assert (shown.args[0].unit.layer, shown.args[0].unit.channel) == ("features.0", 5)
    assert shown.args[0].scanned == 4
