"""The Fine-tune tab as the window tests open it: brought forward with its defaults loaded,
and a folder chosen until its health report is shown."""

from __future__ import annotations


def open_view(make_window, qtbot):
    """(window, its Fine-tune view), the view in front and ready."""
    window = make_window()
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=30000)
    return window, view


def choose(view, qtbot, folder):
    """``folder`` chosen; returns once its health report is shown."""
    with qtbot.waitSignal(view.health_report_shown, timeout=30000):
        view.set_folder(str(folder))
