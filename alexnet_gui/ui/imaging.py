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


def qimage_to_array(img: QImage) -> np.ndarray:
    """QImage -> (H, W, 3) uint8 RGB copy (tests and PNG checks)."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
