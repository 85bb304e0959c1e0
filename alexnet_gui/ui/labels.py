"""Text labels that screen readers read the same as the eye does."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


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
