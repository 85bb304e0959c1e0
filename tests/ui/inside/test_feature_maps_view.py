"""The Feature maps tab: one forward per image (only while the tab is shown), every
layer from it, the values the core computes, drawn as one viridis grid."""

from __future__ import annotations

import numpy as np
import pytest
from float_paths import assert_close_to_scale
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from alexnet_gui.core.render import feature_mosaic
from alexnet_gui.ui.inside.feature_maps_view import EMPTY_TEXT

LAYERS = ["features.0 Conv2d 64x55x55", "features.1 ReLU 64x55x55", "features.2 MaxPool2d 64x27x27",
          "features.3 Conv2d 192x27x27", "features.4 ReLU 192x27x27", "features.5 MaxPool2d 192x13x13",
          "features.6 Conv2d 384x13x13", "features.7 ReLU 384x13x13", "features.8 Conv2d 256x13x13",
          "features.9 ReLU 256x13x13", "features.10 Conv2d 256x13x13", "features.11 ReLU 256x13x13",
          "features.12 MaxPool2d 256x6x6"]


def save_image(path, size=(90, 70), mode="RGB", seed=0):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr).convert(mode).save(path)
    return path


def core_layers(weights, path):
    import torch

    from alexnet_gui.core.images import load_image
    from alexnet_gui.core.introspect import feature_maps
    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.preprocess import preprocess

    model = build_model()
    model.load_state_dict(torch.load(weights, weights_only=True))
    layers = feature_maps(model.eval(), preprocess(load_image(path)))
    return layers


def show_maps(window, qtbot, path=None):
    """Select ``path`` in Classify (when given), show the tab, wait for its grid."""
    view = window.feature_maps_view
    if path is not None:
        window.classify_view.open_paths([path])
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.current_layer() is not None and view._current(), timeout=30000)
    return view


def count_results(window):
    seen = []
    window.client.worker.features_ready.connect(lambda rid, result: seen.append(result.path))
    return seen


def test_no_image_says_what_to_do(make_window, qtbot):
    window = make_window()
    view = window.feature_maps_view
    window.tabs.setCurrentWidget(view)
    assert view.stack.currentWidget() is view.message and view.message.isVisible()
    assert view.message.text() == EMPTY_TEXT and view.message.accessibleName() == EMPTY_TEXT
    assert not view.save_button.isEnabled() and view.requests == 0


def test_maps_are_the_cores_tensors_and_the_grid_draws_them(make_window, seeded_weights, tmp_path, qtbot):
    window = make_window()
    image = save_image(tmp_path / "photo.png")
    view = show_maps(window, qtbot, image)
    assert [view.layer_box.itemText(i) for i in range(view.layer_box.count())] == LAYERS
    expected = core_layers(seeded_weights, image)
    result = view._result
    assert result.path == str(image) and result.preview.shape == (224, 224, 3)
    for got, want in zip(result.layers, expected, strict=True):
        assert got.name == want.name and got.maps.shape == want.maps.shape
        # the window's model is placed channels-last, this one is not: equal to float rounding
        assert_close_to_scale(got.maps, want.maps, what=got.name)
    # the grid is one mosaic of every channel, exactly the core render of these maps
    rgb, layout, _ = feature_mosaic(result.layers[0].maps)
    assert np.array_equal(view.grid.array(), rgb) and view.grid.grid_layout() == layout
    assert layout.count == 64
    # a channel large, with min/max/mean as text
    qtbot.mouseClick(view.grid, Qt.MouseButton.LeftButton, pos=view.grid.tile_center(7))
    m = result.layers[0].maps[7]  # the view's own values: the core's differ in the last bits
    assert view.stats.text() == (f"features.0 Conv2d, channel 7 of 64\n"
                                 f"min {m.min():.4g}, max {m.max():.4g}, mean {m.mean():.4g}")
    assert view.stats.accessibleName() == view.stats.text()
    assert view.channel_view.array().shape == (55, 55, 3)
    view.overlay_box.setChecked(True)  # over the 224 crop the network saw
    assert view.channel_view.array().shape == (224, 224, 3)


def test_switching_layers_reuses_the_one_forward(make_window, tmp_path, qtbot):
    window = make_window()
    seen = count_results(window)
    view = show_maps(window, qtbot, save_image(tmp_path / "photo.png"))
    assert view.requests == 1 and len(seen) == 1
    shown = []
    view.features_shown.connect(lambda path, layer: shown.append(layer))
    view.layer_box.setFocus()
    for _ in range(len(LAYERS) - 1):
        qtbot.keyClick(view.layer_box, Qt.Key.Key_Down)  # as a user steps through the layers
    assert shown == [f"features.{i}" for i in range(1, 13)]
    assert view.grid.grid_layout().count == 256 and view.grid.grid_layout().cols == 16
    view.sort_box.setChecked(True)
    view.shared_box.setChecked(True)
    maps = view.current_layer().maps
    rgb, _, order = feature_mosaic(maps, shared=True, sort_by_mean=True)
    assert np.array_equal(view.grid.array(), rgb)
    assert np.all(np.diff(maps.mean(axis=(1, 2))[order]) <= 0)
    assert view.requests == 1 and len(seen) == 1  # no forward for any of it
    # sorted, tile 0 is the channel with the highest mean
    qtbot.mouseClick(view.grid, Qt.MouseButton.LeftButton, pos=view.grid.tile_center(0))
    assert view.stats.text().startswith(f"features.12 MaxPool2d, channel {order[0]} of 256")


def test_computes_only_when_shown_then_follows_the_selection(make_window, tmp_path, qtbot):
    window = make_window()
    seen = count_results(window)
    view = window.feature_maps_view
    a, b = save_image(tmp_path / "a.png", seed=1), save_image(tmp_path / "b.png", seed=2)
    window.classify_view.open_paths([a, b])  # Classify is the current tab
    window.classify_view.select(str(b))
    qtbot.waitUntil(lambda: window.classify_view.bars.texts() != [], timeout=30000)
    assert view.requests == 0 and seen == []  # hidden: nothing computed, b remembered
    show_maps(window, qtbot)
    assert view._result.path == str(b) and view.requests == 1
    assert "b.png" in view.caption.text()
    with qtbot.waitSignal(view.features_shown, timeout=30000) as shown:
        window.classify_view.select(str(a))  # visible now: follows at once
    assert shown.args[0] == str(a) and view.requests == 2
    window.classify_view.select(str(b))  # new image: a new forward (one per image)
    qtbot.waitUntil(lambda: view._current() and view._result.path == str(b), timeout=30000)
    assert view.requests == 3
    window.classify_view.images.clear()  # no image any more
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.message, timeout=5000)
    assert view.message.text() == EMPTY_TEXT


@pytest.mark.parametrize(("size", "mode"), [((63, 63), "L"), ((10, 10), "RGB"), ((10, 10), "L")])
def test_grey_and_tiny_images_go_through(make_window, tmp_path, qtbot, size, mode):
    window = make_window()
    view = show_maps(window, qtbot, save_image(tmp_path / f"small-{mode}.png", size=size, mode=mode))
    assert view.stack.currentWidget() is view.splitter
    assert len(view._result.layers) == 13 and view.grid.grid_layout().count == 64


def test_unreadable_image_says_why(make_window, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: None)
    window = make_window()
    view = window.feature_maps_view
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    window.classify_view.open_paths([bad])
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: "Could not compute" in view.message.text(), timeout=30000)
    assert "broken.png" in view.message.text() and view.message.isVisible()


def test_new_weights_recompute_the_maps(make_window, tmp_path, qtbot):
    import torch

    from alexnet_gui.core.model import build_model

    window = make_window()
    view = show_maps(window, qtbot, save_image(tmp_path / "photo.png"))
    before = view._result
    path = tmp_path / "other.pth"
    torch.save(build_model(seed=1).state_dict(), path)
    window.load_weights(path)
    qtbot.waitUntil(lambda: view._current() and view._result is not before, timeout=30000)
    assert view.requests == 2
    assert not np.allclose(view._result.layers[0].maps, before.layers[0].maps)


def test_save_as_png_and_drop_on_the_tab(make_window, tmp_path, qtbot, monkeypatch):
    window = make_window()
    view = window.feature_maps_view
    window.tabs.setCurrentWidget(view)
    image = save_image(tmp_path / "dropped.png")
    assert view.handle_drop([str(image)])  # dropped here: opens in Classify, shown here
    assert window.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: view._current(), timeout=30000)
    i = view.layer_box.findData("features.4")
    view.layer_box.setCurrentIndex(i)
    view.layer_box.activated.emit(i)
    view.sort_box.setChecked(True)
    out = tmp_path / "maps.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    expected, layout, _ = feature_mosaic(view.current_layer().maps, sort_by_mean=True)
    assert layout.count == 192
    with Image.open(out) as img:
        assert np.array_equal(np.asarray(img.convert("RGB")), expected)
