"""The window says which engine classifies (status bar, About), lets the user choose it
(View › Engine, remembered), says why torch runs when ONNX Runtime failed its check,
and exports the model from File › Export model…"""

from __future__ import annotations

import numpy as np
import pytest


def label(window) -> str:
    return window.engine_controls.label.text()


def test_onnxruntime_is_named_once_its_graph_passed(make_window, qtbot, monkeypatch):
    from alexnet_gui.ui.shell.help_dialogs import about_text

    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "onnxruntime")
    window = make_window()
    qtbot.waitUntil(lambda: label(window) == "engine: ONNX Runtime", timeout=180000)
    assert window.engine_controls.label.accessibleName() == "engine: ONNX Runtime"
    assert "Engine: ONNX Runtime" in about_text(window)
    assert window.engine_controls.actions["onnxruntime"].isChecked()


def test_a_failed_check_shows_torch_and_the_reason(make_window, qtbot, monkeypatch):
    from alexnet_gui.core.engine import runners
    from alexnet_gui.ui.shell.help_dialogs import about_text

    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "onnxruntime")
    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: np.zeros((len(x), 1000), np.float32))
    window = make_window()
    qtbot.waitUntil(lambda: "differ from torch" in window.engine_controls.label.toolTip(), timeout=180000)
    assert label(window) == "engine: PyTorch"
    assert "differ from torch" in window.statusBar().currentMessage()
    assert "differ from torch" in about_text(window)


def test_the_engine_menu_choice_is_sent_and_remembered(make_window, qtbot, monkeypatch):
    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "auto")
    window = make_window()
    window.engine_controls.actions["torch"].trigger()
    qtbot.waitUntil(lambda: window.engine_controls.state.choice == "torch", timeout=60000)
    assert label(window) == "engine: PyTorch" and window.engine_controls.label.toolTip() == "What runs the forward passes"
    assert window.settings.value("engine") == "torch"
    again = make_window()
    assert again.engine_controls.actions["torch"].isChecked()
    qtbot.waitUntil(lambda: again.engine_controls.state is not None and again.engine_controls.state.choice == "torch",
                    timeout=60000)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_model_writes_a_checked_model(make_window, qtbot, tmp_path, fmt):
    window = make_window()
    dialog = window.export_model_dialog()
    dialog.format_box.setCurrentIndex(dialog.format_box.findData(fmt))
    out = tmp_path / "export" / ("alexnet.onnx" if fmt == "onnx" else "alexnet.pt")
    out.parent.mkdir()
    dialog.path_edit.setText(str(out))
    dialog.export_button.click()
    assert not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.export_button.isEnabled(), timeout=180000)
    assert out.is_file() and dialog.report["path"] == str(out)
    assert "top-5 identical: yes" in dialog.result_label.text()
    assert (out.parent / "predict.py").is_file() == (fmt == "onnx")
    assert not dialog.int8_box.isEnabled() if fmt == "torchscript" else dialog.int8_box.isEnabled()


def test_a_failed_export_says_why(make_window, qtbot, tmp_path):
    window = make_window()
    dialog = window.export_model_dialog()
    dialog.path_edit.setText(str(tmp_path / "no such folder" / "alexnet.onnx"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=60000)
    assert dialog.result_label.text().startswith("Export failed:")
    assert "is not a folder" in dialog.result_label.text() and dialog.report is None
