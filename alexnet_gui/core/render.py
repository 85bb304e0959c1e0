"""Tile grids as RGB pictures: conv kernels and feature maps, numpy and Pillow only.

The window and ``alexnet-cli`` both draw their grids here, so a grid saved from
the window and one written by the CLI are the same pixels. No torch, no Qt:
everything takes plain ndarrays (the GUI gets its weights as ``ModelInfo.conv_weights``).

A grid is a row-major mosaic of equally sized tiles, each scaled up by an integer
factor (nearest neighbour, so a weight stays a crisp square), separated by a thin
gap. ``GridLayout`` says where tile ``i`` sits, for hit-testing clicks.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import write_atomically

GAP = 2  # pixels between tiles and around the grid
BACKGROUND = (40, 40, 40)  # the gaps: dark grey, apart from both viridis ends
TARGET_TILE = 40  # native scale: tiles are scaled up to at least this many pixels
PAGE_SIZE = 64  # kernels per page when a layer has more than that

# viridis (van der Walt & Smith, matplotlib; CC0): 33 samples of the 256-entry table
# (indices 0, 8, ..., 248, 255) as sRGB bytes; linear interpolation between them
# stays within 2 levels of the full table.
_VIRIDIS_KNOTS = np.array([
    (68, 1, 84), (71, 13, 96), (72, 24, 106), (72, 35, 116), (71, 45, 123), (69, 55, 129),
    (66, 64, 134), (62, 73, 137), (59, 82, 139), (55, 91, 141), (51, 99, 141), (47, 107, 142),
    (44, 114, 142), (41, 122, 142), (38, 130, 142), (35, 137, 142), (33, 145, 140), (31, 152, 139),
    (31, 160, 136), (34, 167, 133), (40, 174, 128), (50, 182, 122), (63, 188, 115), (78, 195, 107),
    (94, 201, 98), (112, 207, 87), (132, 212, 75), (152, 216, 62), (173, 220, 48), (194, 223, 35),
    (216, 226, 25), (236, 229, 27), (253, 231, 37),
], dtype=np.float64)
_KNOT_AT = np.array(list(range(0, 256, 8)) + [255])


def _viridis_lut() -> np.ndarray:
    x = np.arange(256)
    lut = np.stack([np.interp(x, _KNOT_AT, _VIRIDIS_KNOTS[:, c]) for c in range(3)], axis=1)
    return np.rint(lut).astype(np.uint8)


VIRIDIS = _viridis_lut()  # (256, 3) uint8: index with a uint8 array to colour it


# ---------------------------------------------------------------- values -> bytes


def normalise(a: np.ndarray, per_item: bool) -> np.ndarray:
    """Min-max to [0, 1]; per item (axis 0) or one scale for the whole array."""
    if per_item:
        axes = tuple(range(1, a.ndim))
        lo = a.min(axis=axes, keepdims=True)
        hi = a.max(axis=axes, keepdims=True)
    else:
        lo, hi = a.min(), a.max()
    return (a - lo) / np.maximum(hi - lo, 1e-12)


def to_uint8(a: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> bytes, rounded to nearest."""
    return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)


def colormap(u8: np.ndarray) -> np.ndarray:
    """(...) uint8 -> (..., 3) uint8 viridis, by table lookup."""
    return VIRIDIS.take(u8, axis=0)


# ---------------------------------------------------------------- kernels


def conv1_tiles(weight: np.ndarray, per_filter: bool = True) -> np.ndarray:
    """(64, 3, 11, 11) conv1 weight -> (64, 11, 11, 3) float32 in [0, 1]: RGB tiles."""
    w = np.asarray(weight, dtype=np.float32).transpose(0, 2, 3, 1)  # (C_out, k, k, 3)
    return normalise(w, per_filter).astype(np.float32)


def kernel_mean_tiles(weight: np.ndarray, per_filter: bool = True) -> np.ndarray:
    """(C_out, C_in, k, k) -> (C_out, k, k) float32 in [0, 1]: each output channel's
    kernel averaged over its input channels (too many inputs to show one by one)."""
    # Contiguous first: a channels-last copy would sum in another order and round differently.
    w = np.ascontiguousarray(weight, dtype=np.float32).mean(axis=1)  # (C_out, k, k)
    return normalise(w, per_filter).astype(np.float32)


def kernel_tiles_rgb(weight: np.ndarray, per_filter: bool = True) -> np.ndarray:
    """(C_out, k, k, 3) uint8: RGB for a layer that sees RGB (conv1), grey otherwise.
    "One scale for all" spans the whole layer, so pages of a deep layer compare."""
    if weight.shape[1] == 3:
        return to_uint8(conv1_tiles(weight, per_filter))
    grey = to_uint8(kernel_mean_tiles(weight, per_filter))
    return np.repeat(grey[..., None], 3, axis=-1)


def weight_ranges(weight: np.ndarray) -> np.ndarray:
    """(C_out, 2) float: raw (min, max) of each output channel's kernel."""
    flat = np.asarray(weight).reshape(weight.shape[0], -1)
    return np.stack([flat.min(axis=1), flat.max(axis=1)], axis=1)


def page_count(channels: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(channels / page_size))


# ---------------------------------------------------------------- activations


def activation_bytes(maps: np.ndarray, shared: bool = False) -> np.ndarray:
    """(C, H, W) float -> (C, H, W) uint8: per channel, or one scale for the layer."""
    return to_uint8(normalise(np.asarray(maps, dtype=np.float32), per_item=not shared))


def channel_bytes(maps: np.ndarray, channel: int, shared: bool = False) -> np.ndarray:
    """(H, W) uint8 of one channel, on the same scale as :func:`activation_bytes` uses."""
    m = np.asarray(maps[channel], dtype=np.float32)
    lo, hi = (maps.min(), maps.max()) if shared else (m.min(), m.max())
    return to_uint8((m - np.float32(lo)) / np.maximum(np.float32(hi - lo), np.float32(1e-12)))


def channel_order(maps: np.ndarray, sort_by_mean: bool = False) -> np.ndarray:
    """Channel indices in display order: network order, or highest mean activation first."""
    c = maps.shape[0]
    if not sort_by_mean:
        return np.arange(c)
    means = maps.reshape(c, -1).mean(axis=1)
    return np.argsort(-means, kind="stable")


def channel_stats(maps: np.ndarray, channel: int) -> tuple[float, float, float]:
    m = maps[channel]
    return float(m.min()), float(m.max()), float(m.mean())


def overlay(map_bytes: np.ndarray, image: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """(H, W) uint8 map, stretched bilinearly over an (h, w, 3) uint8 image, blended in viridis."""
    from PIL import Image

    h, w = image.shape[:2]
    big = np.asarray(Image.fromarray(map_bytes, "L").resize((w, h), Image.Resampling.BILINEAR))
    blend = image.astype(np.float32) * (1.0 - alpha) + colormap(big).astype(np.float32) * alpha
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- grids


@dataclass(frozen=True)
class GridLayout:
    """Where the tiles of a mosaic sit, in mosaic pixels."""

    count: int
    cols: int
    tile_w: int
    tile_h: int
    gap: int = GAP

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.count / self.cols))

    @property
    def width(self) -> int:
        return self.cols * self.tile_w + (self.cols + 1) * self.gap

    @property
    def height(self) -> int:
        return self.rows * self.tile_h + (self.rows + 1) * self.gap

    def rect(self, i: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of tile ``i``."""
        r, c = divmod(i, self.cols)
        return (self.gap + c * (self.tile_w + self.gap), self.gap + r * (self.tile_h + self.gap),
                self.tile_w, self.tile_h)

    def index_at(self, x: float, y: float) -> int | None:
        """The tile under mosaic pixel (x, y), or None for a gap or outside."""
        if x < self.gap or y < self.gap:
            return None
        c, cx = divmod(int(x) - self.gap, self.tile_w + self.gap)
        r, cy = divmod(int(y) - self.gap, self.tile_h + self.gap)
        if cx >= self.tile_w or cy >= self.tile_h or c >= self.cols:
            return None
        i = r * self.cols + c
        return i if i < self.count else None


def grid_cols(n: int) -> int:
    """Columns for ``n`` tiles: near square, preferring no ragged last row and more
    columns than rows (screens are wide): 64 -> 8, 192 -> 16, 256 -> 16, 384 -> 24."""
    side = max(1, math.ceil(math.sqrt(n)))
    for cols in range(side, 2 * side + 1):
        if n % cols == 0:
            return cols
    return side


def native_scale(tile_size: int) -> int:
    """Integer upscale that makes a tile at least ``TARGET_TILE`` pixels: 11 -> 4, 55 -> 1."""
    return max(1, math.ceil(TARGET_TILE / max(tile_size, 1)))


def mosaic(tiles: np.ndarray, scale: int = 1, cols: int | None = None, gap: int = GAP,
           background=BACKGROUND) -> tuple[np.ndarray, GridLayout]:
    """(N, h, w, 3) or (N, h, w) uint8 tiles -> one (H, W, 3) uint8 picture and its layout.

    One write per output pixel, no loop over tiles: the picture is viewed as
    (rows, h, scale, cols, w, scale, 3) (splitting axes never copies) and the tiles
    are broadcast into it, so each value becomes a crisp scale x scale square.
    """
    tiles = np.asarray(tiles, dtype=np.uint8)
    if tiles.ndim == 3:
        tiles = tiles[..., None]  # grey: broadcast into R, G and B
    n, h, w, ch = tiles.shape
    cols = cols or grid_cols(n)
    layout = GridLayout(n, cols, w * scale, h * scale, gap)
    rows, hs, ws = layout.rows, h * scale, w * scale
    out = np.empty((layout.height, layout.width, 3), np.uint8)
    out[:] = background
    body = out[:rows * (hs + gap), :cols * (ws + gap)].reshape(rows, hs + gap, cols, ws + gap, 3)
    cells = body[:, gap:, :, gap:].reshape(rows, h, scale, cols, w, scale, 3)  # a gap above/left of each tile
    full = n // cols  # complete rows
    if full:
        src = tiles[:full * cols].reshape(full, cols, h, w, ch).transpose(0, 2, 1, 3, 4)  # (rows, h, cols, w, ch)
        cells[:full] = src[:, :, None, :, :, None, :]
    rest = n - full * cols
    if rest:
        cells[full, :, :, :rest] = tiles[full * cols:].transpose(1, 0, 2, 3)[:, None, :, :, None, :]
    return out, layout


def filters_mosaic(weight: np.ndarray, per_filter: bool = True, page: int | None = None,
                   scale: int | None = None, page_size: int = PAGE_SIZE) -> tuple[np.ndarray, GridLayout]:
    """A conv layer's kernels as a grid: all of them, or page ``page`` (0-based) of ``page_size``."""
    tiles = kernel_tiles_rgb(weight, per_filter)
    if page is not None:
        tiles = tiles[page * page_size:(page + 1) * page_size]
    if not len(tiles):
        raise ValueError(f"page {page} is past the last of {page_count(len(weight), page_size)}")
    cols = grid_cols(min(len(weight), page_size)) if page is not None else None
    return mosaic(tiles, scale or native_scale(tiles.shape[1]), cols)


def feature_mosaic(maps: np.ndarray, shared: bool = False, sort_by_mean: bool = False,
                   scale: int | None = None) -> tuple[np.ndarray, GridLayout, np.ndarray]:
    """(C, H, W) activations -> viridis grid, its layout, and the channel shown in each tile."""
    order = channel_order(maps, sort_by_mean)
    tiles = colormap(activation_bytes(maps, shared)[order])  # (C, H, W, 3): colour before scaling up
    rgb, layout = mosaic(tiles, scale or native_scale(maps.shape[1]))
    return rgb, layout, order


# ---------------------------------------------------------------- files


def save_png(rgb: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an (H, W, 3) uint8 array as PNG: temp file in the same folder, then rename."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    return write_atomically(path, lambda f: image.save(f, format="PNG"))
