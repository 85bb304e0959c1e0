"""A test fails when a Qt virtual it caused (paintEvent, a model's data(), event()) raises.

pytest-qt already records what reaches ``sys.excepthook`` from setup to teardown and fails
the test with it. What it cannot see is a paint that never happens: offscreen, the repaint
a test's last step asked for is often still pending when pytest-qt closes the windows, so
a model whose ``data()`` raises for the rows that step made passes unnoticed. Here every
visible window is painted once more when the test body ends, inside the test's own call.
"""

from __future__ import annotations

import sys

import pytest


def paint_visible_windows() -> None:
    """Paint every visible top-level widget now, as a screen would."""
    if "PySide6.QtWidgets" not in sys.modules:  # core tests never import Qt
        return
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    app.processEvents()  # pending layouts and updates first, as the event loop would
    for widget in app.topLevelWidgets():
        if widget.isVisible():
            widget.grab()  # every visible child's paintEvent, and so the models' data()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield  # a test that failed already is not painted again
    paint_visible_windows()
    return result
