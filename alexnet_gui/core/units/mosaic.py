"""A unit's top images as one picture: a 3x3 grid of their receptive-field patches, each
with its rank and value under it. Torch-free (Pillow): the window saves it, the command
line writes it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .types import TopImages

TILE = 128  # pixels of a patch's side in the grid
CAPTION = 16  # pixels of text under each patch
GAP = 4
COLUMNS = 3


def top_mosaic(top: TopImages, tile: int = TILE) -> np.ndarray:
    """(H, W, 3) uint8: the patches (grey where an image could not be read), highest first,
    row by row, on white."""
    rows = max(1, -(-len(top.images) // COLUMNS))
    width = COLUMNS * tile + (COLUMNS + 1) * GAP
    height = rows * (tile + CAPTION) + (rows + 1) * GAP
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for rank, image in enumerate(top.images):
        x = GAP + (rank % COLUMNS) * (tile + GAP)
        y = GAP + (rank // COLUMNS) * (tile + CAPTION + GAP)
        if image.patch is not None and image.patch.size:
            patch = Image.fromarray(image.patch, "RGB").resize((tile, tile), Image.Resampling.BILINEAR)
        else:
            patch = Image.new("RGB", (tile, tile), (160, 160, 160))
        canvas.paste(patch, (x, y))
        draw.text((x + 2, y + tile + 2), f"{rank + 1}. {image.value:.3g}", fill=(0, 0, 0))
    return np.asarray(canvas)
