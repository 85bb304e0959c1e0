"""Small RGB arrays of images for the window: list thumbnails and previews.

Made in the worker thread, so the GUI thread only wraps bytes in a QImage.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

THUMBNAIL_SIZE = 64
PREVIEW_SIZE = 640


def fit(img: Image.Image, max_side: int) -> np.ndarray:
    """(H, W, 3) uint8, the image scaled down to fit ``max_side`` (never up).

    Resized straight from ``img``, not from a copy of it: a copy of a 100 MP
    image would hold another 400 MB for a picture of 64 pixels."""
    width, height = img.size
    scale = min(1.0, max_side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = img if size == img.size else img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(small.convert("RGB") if small.mode != "RGB" else small, dtype=np.uint8))
