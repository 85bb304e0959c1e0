"""The Fine-tune view's torchrun line: the chosen folder and settings as a command for more
processes, following every change, parsing back to the same settings, and copyable."""

from __future__ import annotations

import shlex

from PySide6.QtGui import QGuiApplication
from shape_folders import make_shapes

from alexnet_gui.cli import build_parser
from alexnet_gui.cli.finetune import _settings_from


def test_the_line_follows_folder_and_settings_and_copies(make_window, qtbot, tmp_path):
    window = make_window()
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=30000)
    panel = view.controls.torchrun
    assert panel.line.isReadOnly() and panel.line.text() == "" and not panel.copy_button.isEnabled()

    folder = make_shapes(tmp_path / "my shapes", per_class=4)
    with qtbot.waitSignal(view.health_report_shown, timeout=30000):
        view.set_folder(str(folder))
    assert panel.line.text().startswith("torchrun --nproc-per-node=2 -m alexnet_gui.cli finetune ")
    assert panel.copy_button.isEnabled()

    view.set_settings(mode="classifier", epochs=7, lr=0.003, seed=5, flip_view=True)
    panel.processes.setValue(8)
    argv = shlex.split(panel.line.text())  # quoted for a shell: the folder has a space
    assert argv[:6] == ["torchrun", "--nproc-per-node=8", "-m", "alexnet_gui.cli", "finetune", str(folder)]
    # What torchrun runs is the command line itself: it parses back to the form's settings.
    parsed = _settings_from(build_parser().parse_args(argv[4:]))
    form = view.settings_values()
    for name in ("mode", "epochs", "lr", "batch_size", "seed", "val_fraction", "weight_decay", "flip_view"):
        assert getattr(parsed, name) == form[name], name
    assert form["mode"] == "classifier" and form["epochs"] == 7 and form["seed"] == 5

    view.set_settings(epochs=9)
    assert "--epochs 9" in panel.line.text()
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == panel.line.text()
