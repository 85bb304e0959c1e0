"""Small RGB arrays of images for the window: list thumbnails and previews.

Made in the worker thread, so the GUI thread only wraps bytes in a QImage.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

THUMBNAIL_SIZE = 64
PREVIEW_SIZE = 640


def fit(img: Image.Image, max_side: int) -> np.ndarray:
    """(H, W, 3) uint8, the image scaled down to fit ``max_side`` (never up)."""
    small = img.copy()
    small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(small.convert("RGB"), dtype=np.uint8))
