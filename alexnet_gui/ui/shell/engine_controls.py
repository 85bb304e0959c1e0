"""Which engine runs the forward passes: a View menu item to choose it (auto, torch,
ONNX Runtime; remembered in the settings and sent to the worker) and a status-bar
label that says which one runs, and why torch when ONNX Runtime was asked for."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMenu, QStatusBar

from ...core.engine import ENGINE_CHOICES, engine_label
from ..qtutil import set_text

SETTINGS_KEY = "engine"
PREPARING_PREFIX = "checking ONNX Runtime"  # the worker's note while a graph is being prepared


def engine_status(info) -> tuple[str, str]:
    """(label text, the reason behind it) for a ModelInfo."""
    text = f"engine: {engine_label(info.engine)}"
    if info.engine_reason and info.engine_reason.startswith(PREPARING_PREFIX):
        return f"{text} (checking ONNX Runtime…)", info.engine_reason
    return text, info.engine_reason or ""


class EngineControls(QObject):
    def __init__(self, menu: QMenu, status_bar: QStatusBar, settings: QSettings, client) -> None:
        super().__init__(menu)
        self.settings, self.client, self.status_bar = settings, client, status_bar
        self.label = QLabel("engine: —")
        self.label.setToolTip("What runs the forward passes")
        status_bar.addPermanentWidget(self.label)
        self.menu = menu.addMenu("&Engine")
        self.menu.setToolTipsVisible(True)
        self.group = QActionGroup(self.menu)
        self.actions: dict[str, QAction] = {}
        current = self.choice()
        for choice in ENGINE_CHOICES:
            act = QAction(engine_label(choice), self.menu, checkable=True)
            act.setData(choice)
            act.setChecked(choice == current)
            act.triggered.connect(lambda _=False, c=choice: self.choose(c))
            self.group.addAction(act)
            self.menu.addAction(act)
            self.actions[choice] = act
        self._shown_reason = ""

    def choice(self) -> str:
        value = self.settings.value(SETTINGS_KEY, "", str)
        default = os.environ.get("ALEXNET_GUI_ENGINE", "auto")
        return value if value in ENGINE_CHOICES else (default if default in ENGINE_CHOICES else "auto")

    def send_remembered(self) -> None:
        """At start-up, before the model loads: a choice made in an earlier session goes to the worker."""
        if self.settings.value(SETTINGS_KEY, "", str) in ENGINE_CHOICES:
            self.client.engine_requested.emit(self.choice())

    def choose(self, choice: str) -> None:
        self.settings.setValue(SETTINGS_KEY, choice)
        self.actions[choice].setChecked(True)
        self.client.engine_requested.emit(choice)

    def show(self, info) -> None:
        """A ModelInfo arrived: the label, its tooltip, and a fallback's reason once in the status bar."""
        text, reason = engine_status(info)
        set_text(self.label, text)
        self.label.setToolTip(reason or "What runs the forward passes")
        self.label.setAccessibleDescription(reason)
        if info.engine_choice in self.actions:
            self.actions[info.engine_choice].setChecked(True)
        fallback = reason if reason and not reason.startswith(PREPARING_PREFIX) else ""
        if fallback and fallback != self._shown_reason:
            self.status_bar.showMessage(f"Classifying with {engine_label(info.engine)}: {fallback}", 15000)
        self._shown_reason = fallback
