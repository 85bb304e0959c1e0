"""What the window hands each view, so that no view reaches into the window or walks
its parents: the worker's client, the settings, and three things a view may ask of
the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ViewContext:
    client: Any  # ui.bridge.client.WorkerClient
    settings: QSettings
    status: Callable[[str], None]  # one line in the status bar, shown for a few seconds
    open_paths: Callable[[list[str]], int]  # open files or folders in Classify, as if dropped
    show_view: Callable[[QWidget], None]  # bring this view's tab forward
