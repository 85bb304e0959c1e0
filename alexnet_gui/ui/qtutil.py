"""Small Qt helpers every view uses: labels a screen reader reads as the eye does, a
vertically scrolling panel, and NumPy arrays as QImages."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QFrame, QLabel, QScrollArea, QWidget


def make_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(text)
    return label


def set_text(label: QLabel, text: str) -> None:
    """Text, screen-reader name and visibility in one go (an empty label hides)."""
    label.setText(text)
    label.setAccessibleName(text)
    label.setVisible(bool(text))


def refill_keeping_text(box: QComboBox, items: list[str]) -> None:
    """An editable combo box's items replaced; the text typed or chosen in it stays."""
    typed = box.currentText()
    box.clear()
    box.addItems(items)
    if typed:
        box.setEditText(typed)


def scrolled(panel: QWidget) -> QScrollArea:
    """``panel`` resized to the area's width, scrolling when the window is too short for it.

    Also a layout barrier: size-hint changes inside ``panel`` (a new caption, a
    longer text) stop here instead of travelling up the window's layouts. Inside
    a ``QTabWidget`` page that matters: the tab widget repaints itself, and so the
    whole page, on every layout request that reaches it."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def array_to_qimage(arr: np.ndarray) -> QImage:
    """(H, W, 3) or (H, W) uint8 -> an independent QImage (RGB888 or Grayscale8)."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
    else:
        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
    return img.copy()  # own the pixels: ``arr`` may be freed
