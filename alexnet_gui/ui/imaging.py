"""numpy arrays <-> QImage, on the GUI thread (cheap: wraps and copies bytes)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def array_to_qimage(arr: np.ndarray) -> QImage:
    """(H, W, 3) or (H, W) uint8 -> an independent QImage (RGB888 or Grayscale8)."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
    else:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
    return img.copy()  # own the pixels: ``arr`` may be freed
