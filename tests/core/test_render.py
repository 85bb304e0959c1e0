"""Tile grids: the pixels are the weights and activations, laid out where the layout says."""

from __future__ import annotations

import numpy as np
import pytest
from kernels import conv1_filters, kernel_tiles
from PIL import Image

from alexnet_gui.core import render
from alexnet_gui.core.introspect import conv_layer, feature_maps
from alexnet_gui.core.render import (
    VIRIDIS,
    GridLayout,
    activation_bytes,
    channel_bytes,
    channel_order,
    feature_mosaic,
    filters_mosaic,
    grid_cols,
    mosaic,
    native_scale,
    overlay,
    save_png,
    to_uint8,
)


def tile_of(rgb: np.ndarray, layout: GridLayout, i: int, scale: int) -> np.ndarray:
    """Tile ``i`` cut out of a mosaic and shrunk back to one pixel per value."""
    x, y, w, h = layout.rect(i)
    return rgb[y:y + h:scale, x:x + w:scale]


def weight(model, layer: str) -> np.ndarray:
    return conv_layer(model, layer).weight.detach().numpy()


def test_viridis_runs_dark_purple_to_yellow_and_gets_steadily_lighter():
    assert VIRIDIS.shape == (256, 3) and VIRIDIS.dtype == np.uint8
    assert tuple(VIRIDIS[0]) == (68, 1, 84) and tuple(VIRIDIS[255]) == (253, 231, 37)
    assert tuple(VIRIDIS[128]) == (33, 145, 140)  # the table's midpoint
    luma = VIRIDIS.astype(float) @ [0.2126, 0.7152, 0.0722]
    assert np.all(np.diff(luma[::4]) > 0)  # perceptual: lightness rises steadily


def test_numpy_tiles_are_the_introspection_tiles(seeded_model):
    w1 = weight(seeded_model, "features.0")
    for per_filter in (True, False):
        assert np.array_equal(render.conv1_tiles(w1, per_filter), conv1_filters(seeded_model, per_filter))
        assert np.array_equal(render.kernel_mean_tiles(weight(seeded_model, "features.6"), per_filter),
                              kernel_tiles(seeded_model, "features.6", per_filter))


@pytest.mark.parametrize(("n", "cols"), [(1, 1), (64, 8), (192, 16), (256, 16), (384, 24), (7, 3)])
def test_grid_columns_avoid_a_ragged_last_row(n, cols):
    assert grid_cols(n) == cols


def test_layout_finds_every_tile_and_no_gap():
    layout = GridLayout(count=10, cols=4, tile_w=5, tile_h=3, gap=2)
    assert (layout.rows, layout.width, layout.height) == (3, 4 * 5 + 5 * 2, 3 * 3 + 4 * 2)
    for i in range(10):
        x, y, w, h = layout.rect(i)
        assert layout.index_at(x, y) == i and layout.index_at(x + w - 1, y + h - 1) == i
        assert layout.index_at(x + w, y) != i  # the gap right of it
    assert layout.index_at(0, 0) is None
    assert layout.index_at(*layout.rect(11)[:2]) is None  # past the last tile
    assert layout.index_at(layout.width + 5, 3) is None


def test_mosaic_places_scaled_tiles_and_fills_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)  # grey (N, h, w)
    rgb, layout = mosaic(tiles, scale=3, cols=3, gap=1, background=(9, 8, 7))
    assert rgb.shape == (layout.height, layout.width, 3) == (2 * 6 + 3, 3 * 9 + 4, 3)
    for i in range(5):
        t = tile_of(rgb, layout, i, 3)
        assert np.array_equal(t[..., 0], tiles[i]) and np.array_equal(t[..., 2], tiles[i])
    x, y, w, h = layout.rect(0)
    assert np.all(rgb[y:y + h, x:x + w][:3, :3] == tiles[0, 0, 0])  # a value is a crisp 3x3 square
    assert tuple(rgb[0, 0]) == (9, 8, 7)
    x, y, w, h = layout.rect(5)  # the empty cell after the last tile
    assert np.all(rgb[y:y + h, x:x + w] == (9, 8, 7))


def test_conv1_grid_is_the_64_filters_per_filter_normalised(seeded_model):
    rgb, layout = filters_mosaic(weight(seeded_model, "features.0"), per_filter=True)
    scale = native_scale(11)
    assert (layout.count, layout.cols, layout.rows, scale) == (64, 8, 8, 4)
    assert rgb.shape == (8 * 44 + 9 * render.GAP,) * 2 + (3,)
    expected = to_uint8(conv1_filters(seeded_model, per_filter=True))  # (64, 11, 11, 3)
    for i in range(64):
        assert np.array_equal(tile_of(rgb, layout, i, scale), expected[i])
    # per filter: every tile reaches both ends of the range
    assert all(tile_of(rgb, layout, i, scale).min() == 0 and tile_of(rgb, layout, i, scale).max() == 255
               for i in range(64))


def test_one_scale_for_all_spans_the_whole_layer_across_pages(seeded_model):
    w6 = weight(seeded_model, "features.6")  # (384, 192, 3, 3)
    expected = to_uint8(kernel_tiles(seeded_model, "features.6", per_filter=False))
    pages = [filters_mosaic(w6, per_filter=False, page=p) for p in range(render.page_count(384))]
    assert len(pages) == 6
    scale = native_scale(3)
    for p, (rgb, layout) in enumerate(pages):
        assert layout.count == 64 and layout.cols == 8
        for i in (0, 17, 63):
            t = tile_of(rgb, layout, i, scale)
            assert np.array_equal(t[..., 0], expected[p * 64 + i]) and np.array_equal(t[..., 1], t[..., 2])
    with pytest.raises(ValueError, match="past the last"):
        filters_mosaic(w6, page=6)


def test_feature_grid_is_the_layers_activations_in_viridis(seeded_model):
    rng = np.random.default_rng(0)
    import torch

    layers = feature_maps(seeded_model, torch.from_numpy(rng.normal(size=(3, 224, 224)).astype(np.float32)))
    maps = layers[1].maps  # features.1 ReLU (64, 55, 55)
    for shared in (False, True):
        rgb, layout, order = feature_mosaic(maps, shared=shared)
        assert np.array_equal(order, np.arange(64)) and layout.count == 64
        lo, hi = ((maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)) if not shared
                  else (maps.min(), maps.max()))
        expected = VIRIDIS[to_uint8((maps - lo) / np.maximum(hi - lo, 1e-12))]
        for i in (0, 9, 63):
            assert np.array_equal(tile_of(rgb, layout, i, 1), expected[i])
            assert np.array_equal(channel_bytes(maps, i, shared), activation_bytes(maps, shared)[i])


def test_sorting_puts_the_highest_mean_first():
    maps = np.zeros((4, 3, 3), np.float32)
    maps[1] += 5
    maps[3] += 2
    maps[3, 0, 0] = 9  # highest max, not highest mean
    order = channel_order(maps, sort_by_mean=True)
    assert list(order) == [1, 3, 0, 2]  # ties keep network order
    rgb, layout, shown = feature_mosaic(maps, shared=True, sort_by_mean=True, scale=1)
    assert list(shown) == [1, 3, 0, 2]
    assert tuple(tile_of(rgb, layout, 0, 1)[1, 1]) == tuple(VIRIDIS[to_uint8(np.float32(5 / 9))])


def test_overlay_blends_the_map_over_the_image():
    image = np.full((224, 224, 3), 200, np.uint8)
    hot = np.full((13, 13), 255, np.uint8)
    assert np.array_equal(overlay(hot, image, alpha=0.0), image)
    assert np.all(overlay(hot, image, alpha=1.0) == VIRIDIS[255])
    half = overlay(hot, image, alpha=0.5)
    assert half.shape == (224, 224, 3) and tuple(half[100, 100]) == tuple(np.rint((200 + VIRIDIS[255].astype(int)) / 2))


def test_save_png_writes_the_exact_pixels_atomically(tmp_path, monkeypatch):
    rgb = np.random.default_rng(1).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    out = save_png(rgb, tmp_path / "grid.png")
    assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), rgb)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_png(rgb, tmp_path / "other.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]  # no half file, no temp left


def test_deep_kernel_greys_do_not_depend_on_the_weights_memory_layout(seeded_model):
    # The window and the CLI place the model channels-last on the CPU; a grey tile must be
    # the same pixel whichever layout the weights arrive in.
    import torch

    weight = conv_layer(seeded_model, "features.6").weight.detach()
    placed = weight.to(memory_format=torch.channels_last).numpy()
    assert not placed.flags.c_contiguous
    # Compared before the grey levels: the means must agree to the bit, not only after rounding.
    assert np.array_equal(render.kernel_mean_tiles(placed, per_filter=False),
                          render.kernel_mean_tiles(weight.contiguous().numpy(), per_filter=False))
