"""Help › Keyboard shortcuts and Help › About."""

from __future__ import annotations

import html
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ... import __version__


def _key(*keys) -> str:
    return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


# Keys the tile grids (Filters, Feature maps) handle themselves, once a grid has the focus.
GRID_ROWS = (
    ("Grid: move between tiles", _key(Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)),
    ("Grid: open the chosen tile", _key(Qt.Key.Key_Enter, Qt.Key.Key_Space)),
)


def shortcut_rows(window) -> list[tuple[str, str]]:
    """(action, key) for every menu action and button of the window that has a shortcut,
    then the tile grids' own keys."""
    rows = []
    for act in window.actions.values():
        if act.shortcut().isEmpty() or not act.isVisible():
            continue
        rows.append((act.text().replace("&", "").rstrip("…"),
                     act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
    for button in window.findChildren(QAbstractButton):
        if button.shortcut().isEmpty():
            continue
        name = button.text().replace("&", "").rstrip("…") or button.toolTip().split(" (")[0]
        tab = _tab_of(window, button)
        rows.append((f"{name} ({tab})" if tab else name,
                     button.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))
    return rows + list(GRID_ROWS)


def _tab_of(window, widget) -> str:
    """The title of the tab ``widget`` sits in, or ""."""
    tabs = getattr(window, "tabs", None)
    for i in range(tabs.count() if tabs is not None else 0):
        page = tabs.widget(i)
        if page is widget or page.isAncestorOf(widget):
            return tabs.tabText(i).replace("&", "")
    return ""


def show_shortcuts(window) -> QDialog:
    dlg = QDialog(window)
    dlg.setWindowTitle("Keyboard shortcuts")
    rows = shortcut_rows(window)
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["Action", "Shortcut"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    for r, (name, key) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(name))
        table.setItem(r, 1, QTableWidgetItem(key))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dlg.reject)
    layout = QVBoxLayout(dlg)
    layout.addWidget(table)
    layout.addWidget(buttons)
    dlg.resize(440, 420)
    dlg.setModal(False)
    dlg.show()
    return dlg


def about_text(window) -> str:
    torch = sys.modules.get("torch")
    tv = sys.modules.get("torchvision")
    info = window.model_info
    lines = [
        f"<h3>AlexNet GUI {__version__}</h3>",
        "<p>Look inside and teach a classic CNN.</p>",
        f"<p>torch {getattr(torch, '__version__', 'loading…')}<br>",
        f"torchvision {getattr(tv, '__version__', 'loading…')}<br>",
        f"Qt {qVersion()} (PySide6 {pyside_version})<br>",
        f"Python {sys.version.split()[0]}</p>",
        f"<p>Device: {info.device if info else 'loading…'}<br>",
        f"Weights: {info.description if info else 'loading…'}<br>",
        f"Engine: {_engine_line(window)}</p>",
    ]
    return "".join(lines)


def _engine_line(window) -> str:
    state = getattr(getattr(window, "engine_controls", None), "state", None)
    return html.escape(state.line()) if state is not None else "loading…"


def show_about(window) -> QMessageBox:
    box = QMessageBox(window)
    box.setWindowTitle("About AlexNet GUI")
    box.setText(about_text(window))
    box.setModal(False)
    box.show()
    return box
