"""Which engine runs the forward passes: a View menu item to choose it (auto, torch,
ONNX Runtime; remembered in the settings and sent to the worker) and a status-bar
label that says which one runs, and why torch when ONNX Runtime was asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMenu, QStatusBar

from ...core.engine import ENGINE_CHOICES, engine_label
from ..qtutil import set_text

SETTINGS_KEY = "engine"
PREPARING_PREFIX = "checking ONNX Runtime"  # the worker's note while a graph is being prepared


@dataclass(frozen=True)
class EngineState:
    engine: str = "torch"
    reason: str | None = None
    choice: str = "auto"
    ready: bool = False

    @classmethod
    def of(cls, info) -> EngineState:
        """From a ModelInfo (at a load) or an EngineInfo (``engine_changed``)."""
        if hasattr(info, "engine_reason"):
            return cls(info.engine, info.engine_reason, info.engine_choice, info.engine_ready)
        return cls(info.engine, info.reason, info.choice, info.ready)

    def line(self) -> str:
        """For About: the engine, and why torch when it is torch for a reason."""
        name = engine_label(self.engine)
        return f"{name} ({self.reason})" if self.reason else name


def engine_status(state: EngineState) -> tuple[str, str]:
    """(label text, the reason behind it)."""
    text = f"engine: {engine_label(state.engine)}"
    if state.reason and state.reason.startswith(PREPARING_PREFIX):
        return f"{text} (checking ONNX Runtime…)", state.reason
    return text, state.reason or ""


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
        self.state: EngineState | None = None  # None until the model has loaded
        client.events.engine_changed.connect(self.show)

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
        """A ModelInfo or EngineInfo arrived: the label, its tooltip, a fallback's reason once in the status bar."""
        self.state = state = EngineState.of(info)
        text, reason = engine_status(state)
        set_text(self.label, text)
        self.label.setToolTip(reason or "What runs the forward passes")
        self.label.setAccessibleDescription(reason)
        if state.choice in self.actions:
            self.actions[state.choice].setChecked(True)
        fallback = reason if reason and not reason.startswith(PREPARING_PREFIX) else ""
        if fallback and fallback != self._shown_reason:
            self.status_bar.showMessage(f"Classifying with {engine_label(state.engine)}: {fallback}", 15000)
        self._shown_reason = fallback
