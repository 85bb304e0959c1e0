"""From a scan to a unit's top images: the ranking, the boxes and the patches.

Torch-free: a look-up over the scan's arrays, nine image decodes for the patches.
"""

from __future__ import annotations

import math

import numpy as np

from ..explain.types import crop_box as crop_placement
from ..images import ImageLoadError, load_image
from ..preprocess import CROP_SIZE, resized_crop
from .layers import receptive_fields
from .types import Box, TopImage, TopImages, Unit

TOP_K = 9


def top_images(scan, unit: Unit, k: int = TOP_K, patches: bool = True) -> TopImages:
    """The ``k`` images of ``scan`` that excite ``unit`` most, highest first, ties by path.
    ``patches``: each with the crop's pixels in its box (one decode per image)."""
    images = [top_image(path, value, unit.layer, position, patches) for path, value, position in ranked(scan, unit, k)]
    return TopImages(unit, images, len(scan.paths), scan.computed, dict(scan.failed))


def ranked(scan, unit: Unit, k: int = TOP_K) -> list[tuple[str, float, tuple[int, int] | None]]:
    """(path, value, (y, x) of the maximum or None for an fc unit) of the ``k`` best, highest first,
    ties by path; images that could not be read are left out."""
    table = scan.summaries[unit.layer]  # (N, 2C) or (N, F)
    channels = table.shape[1] // 2 if unit.spatial else table.shape[1]
    values = table[:, unit.channel]
    best = sorted((i for i in range(len(scan.paths)) if not math.isnan(values[i])),
                  key=lambda i: (-float(values[i]), scan.paths[i]))[:k]
    out = []
    for i in best:
        position = None
        if unit.spatial:
            _, w = scan.map_sizes[unit.layer]
            position = divmod(int(table[i, channels + unit.channel]), w)  # (y, x)
        out.append((scan.paths[i], float(values[i]), position))
    return out


def unit_crop_box(layer: str, position: tuple[int, int] | None) -> Box:
    """The receptive field at ``position`` in crop pixels; the whole crop for an fc unit."""
    if position is None:
        return 0, 0, CROP_SIZE, CROP_SIZE
    return receptive_fields()[layer].box(*position)


def image_box(box: Box, width: int, height: int) -> Box:
    """A box of crop pixels -> the pixels of the original (upright) image it covers."""
    sx, sy, top, left = crop_placement(width, height)
    x0, y0, x1, y1 = box
    return (max(0, math.floor((x0 + left) / sx)), max(0, math.floor((y0 + top) / sy)),
            min(width, math.ceil((x1 + left) / sx)), min(height, math.ceil((y1 + top) / sy)))


def top_image(path: str, value: float, layer: str, position, patches: bool = True) -> TopImage:
    """One ranked image: its boxes in crop and image pixels, and the patch (a decode)."""
    box = unit_crop_box(layer, position)
    try:
        img = load_image(path)
    except ImageLoadError:  # changed or gone since the scan: listed without its pixels
        return TopImage(path, value, box, box, position)
    width, height = img.size
    whole = position is None
    patch = None
    if patches:
        x0, y0, x1, y1 = box
        patch = np.ascontiguousarray(resized_crop(img)[y0:y1, x0:x1])  # (h, w, 3) uint8
    ibox = (0, 0, width, height) if whole else image_box(box, width, height)
    return TopImage(path, value, ibox, box, position, patch)
