"""A panel in a frameless scroll area that scrolls only vertically."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


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
