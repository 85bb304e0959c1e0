"""The Filters tab: the loaded model's kernels, tile by tile, and a click through to
the feature map that filter makes of the selected image."""

from __future__ import annotations

import numpy as np
from kernels import conv1_filters, filter_ranges, kernel_tiles
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from alexnet_gui.core.render import filters_mosaic, to_uint8


def reference_model(path):
    import torch

    from alexnet_gui.core.model import build_model

    model = build_model()
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


def tile(rgb, layout, i, scale):
    x, y, w, h = layout.rect(i)
    return rgb[y:y + h:scale, x:x + w:scale]


def choose(box, data) -> None:
    """Pick the item holding ``data`` in a combo box, as a user's click does."""
    i = box.findData(data)
    assert i >= 0, data
    box.setCurrentIndex(i)
    box.activated.emit(i)


def show_filters(window, qtbot):
    view = window.filters_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.grid.array() is not None, timeout=10000)
    return view


def hover(widget, pos):
    ev = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), widget.mapToGlobal(QPointF(pos)),
                     Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)


def test_conv1_is_64_tiles_equal_to_the_weights(make_window, seeded_weights, qtbot):
    window = make_window()
    view = show_filters(window, qtbot)
    model = reference_model(seeded_weights)
    rgb, layout = view.grid.array(), view.grid.grid_layout()
    assert (layout.count, layout.cols, layout.rows) == (64, 8, 8)
    expected = to_uint8(conv1_filters(model, per_filter=True))  # (64, 11, 11, 3)
    for i in range(64):
        assert np.array_equal(tile(rgb, layout, i, 4), expected[i])
    assert "all 64 filters" in view.title.text()
    assert not view.page_label.isVisible()  # one page: no paging controls

    # hover: the filter's index and its raw weight range
    lo, hi = filter_ranges(model)[10]
    hover(view.grid, view.grid.tile_center(10))
    assert view.info.text() == f"features.0 filter 10: weights {lo:+.4f} … {hi:+.4f}"
    assert view.info.accessibleName() == view.info.text()

    # one scale for all: the tiles follow the layer's range, not their own
    choose(view.norm_box, False)  # one scale for all
    expected = to_uint8(conv1_filters(model, per_filter=False))
    rgb, layout = view.grid.array(), view.grid.grid_layout()
    assert all(np.array_equal(tile(rgb, layout, i, 4), expected[i]) for i in (0, 31, 63))


def test_deeper_layers_are_paged_grey_kernel_means(make_window, seeded_weights, qtbot):
    window = make_window()
    view = show_filters(window, qtbot)
    choose(view.layer_box, "features.6")  # conv3: 384 kernels of 192x3x3
    assert view.pages() == 6 and view.page_label.isVisible() and view.page_label.text() == "page 1 of 6"
    assert not view.prev_button.isEnabled()
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page_label.text() == "page 2 of 6"
    expected = to_uint8(kernel_tiles(reference_model(seeded_weights), "features.6"))  # (384, 3, 3)
    rgb, layout = view.grid.array(), view.grid.grid_layout()
    assert layout.count == 64
    for i in (0, 40, 63):
        t = tile(rgb, layout, i, 14)
        # exact: the window takes a C-ordered copy of the kernels, so their means over the inputs
        # are summed in the same order as here (the placed model's weights are channels-last)
        assert np.array_equal(t[..., 0], expected[64 + i]) and np.array_equal(t[..., 1], t[..., 2])
    assert "64–127 of 384" in view.title.text()
    hover(view.grid, view.grid.tile_center(3))
    assert view.info.text().startswith("features.6 filter 67:")
    view.set_page(99)
    assert view.page_label.text() == "page 6 of 6" and not view.next_button.isEnabled()


def test_new_weights_redraw_the_filters(make_window, tmp_path, qtbot):
    import torch

    from alexnet_gui.core.model import build_model

    window = make_window()
    view = show_filters(window, qtbot)
    before = view.grid.array().copy()
    other = build_model(seed=1)
    path = tmp_path / "other.pth"
    torch.save(other.state_dict(), path)
    window.load_weights(path)
    qtbot.waitUntil(lambda: not np.array_equal(view.grid.array(), before), timeout=30000)
    rgb, layout = view.grid.array(), view.grid.grid_layout()
    expected = to_uint8(conv1_filters(other.eval()))
    assert all(np.array_equal(tile(rgb, layout, i, 4), expected[i]) for i in range(64))


def test_click_a_filter_opens_its_feature_map(make_window, tmp_path, qtbot):
    window = make_window()
    image = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (70, 90, 3), dtype=np.uint8)).save(image)
    window.classify_view.open_paths([image])
    view = show_filters(window, qtbot)
    maps = window.feature_maps_view
    assert maps.requests == 0  # hidden so far: nothing computed for it
    with qtbot.waitSignal(maps.channel_shown, timeout=30000) as shown:
        qtbot.mouseClick(view.grid, Qt.MouseButton.LeftButton, pos=view.grid.tile_center(12))
    assert shown.args == ["features.0", 12]
    assert window.tabs.currentWidget() is maps
    assert maps.layer_box.currentData() == "features.0"
    assert maps.stats.text().startswith("features.0 Conv2d, channel 12 of 64")
    assert maps.grid.selected == 12  # the tile is highlighted in the grid too
    assert maps.channel_view.array().shape == (55, 55, 3)


def test_save_as_png_writes_the_core_render(make_window, seeded_weights, tmp_path, qtbot, monkeypatch):
    window = make_window()
    view = show_filters(window, qtbot)
    choose(view.layer_box, "features.3")
    view.set_page(2)
    out = tmp_path / "kernels.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PNG (*.png)"))
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    from alexnet_gui.core.introspect import conv_layer

    weight = conv_layer(reference_model(seeded_weights), "features.3").weight.detach().numpy()
    expected, _ = filters_mosaic(weight, per_filter=True, page=2)
    with Image.open(out) as img:
        assert np.array_equal(np.asarray(img.convert("RGB")), expected)
    assert "Saved" in window.statusBar().currentMessage()


def test_keyboard_moves_and_opens_a_filter(make_window, qtbot):
    window = make_window()
    view = show_filters(window, qtbot)
    view.grid.setFocus()
    clicked = []
    view.filter_clicked.connect(lambda layer, ch: clicked.append((layer, ch)))
    for k in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Down):
        qtbot.keyClick(view.grid, k)
    assert view.info.text().startswith("features.0 filter 10:")
    qtbot.keyClick(view.grid, Qt.Key.Key_Return)
    assert clicked == [("features.0", 10)]
