"""A finished fine-tune stays usable and savable while a new run goes on, and after that run is
cancelled; saving the model in use names its file in the status bar."""

from __future__ import annotations

from pathlib import Path

import pytest
import shape_folders
from shape_folders import SHAPES

LONG = 1000  # epochs for a run that is cancelled: far more than a test waits for

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def make_shapes(root: Path, per_class: int = 8, seed: int = 0, classes=tuple(SHAPES)) -> Path:
    """A seeded ImageFolder of coloured shapes, 8 a class unless asked (tests/shape_folders.py)."""
    return shape_folders.make_shapes(root, per_class=per_class, seed=seed, classes=classes)


@pytest.fixture
def finished(make_window, qtbot, tmp_path):
    """A window whose Fine-tune tab holds one finished run on the shapes folder."""
    window = make_window()
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=30000)
    with qtbot.waitSignal(view.health_report_shown, timeout=30000):
        view.set_folder(str(make_shapes(tmp_path / "shapes")))
    view.set_settings(epochs=2, batch_size=8)
    with qtbot.waitSignal(view.run_ended, timeout=120000) as ended:
        assert view.start()
    assert ended.args == ["done"]
    return window, view


def test_new_run_keeps_the_last_result_until_it_completes(finished, qtbot, tmp_path):
    window, view = finished
    first = view.outcome
    save = window.actions["save_finetuned"]
    assert view.use_button.isEnabled() and view.save_button.isEnabled() and save.isEnabled()

    view.set_settings(epochs=LONG)
    with qtbot.waitSignal(view.progress_shown, timeout=60000, check_params_cb=lambda ev: ev.phase == "train"):
        assert view.start()
    # While the new run goes on, the finished one can still be used and saved.
    assert view.outcome is first
    assert view.use_button.isEnabled() and view.save_button.isEnabled() and save.isEnabled()
    assert "kept until the new run completes" in view.summary_label.accessibleName()

    with qtbot.waitSignal(view.run_ended, timeout=10000) as ended:
        view.cancel_button.click()
    assert ended.args == ["cancelled"]
    assert view.outcome is first
    assert view.use_button.isEnabled() and view.save_button.isEnabled() and save.isEnabled()
    assert "result is kept" in view.progress_text()
    assert "kept until" not in view.summary_label.accessibleName()

    out = tmp_path / "kept.pth"
    with qtbot.waitSignal(view.model_saved, timeout=60000):
        assert view.save_to(str(out))
    assert out.is_file()


def test_a_completed_new_run_replaces_the_result(finished, qtbot):
    _window, view = finished
    first = view.outcome
    view.set_settings(epochs=1)
    with qtbot.waitSignal(view.run_ended, timeout=120000) as ended:
        assert view.start()
    assert ended.args == ["done"]
    assert view.outcome is not first and view.outcome.result.epochs and len(view.outcome.result.epochs) == 1
    assert "kept until" not in view.summary_label.accessibleName()


def test_saving_the_model_in_use_names_its_file_in_the_status_bar(finished, qtbot, tmp_path):
    window, view = finished
    view.use_button.click()
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)
    assert "(not saved)" in window.weights_label.text()

    out = tmp_path / "my-shapes.pth"
    with qtbot.waitSignal(view.model_saved, timeout=60000):
        assert view.save_to(str(out))
    qtbot.waitUntil(lambda: "my-shapes.pth" in window.weights_label.text(), timeout=10000)
    assert "not saved" not in window.weights_label.text()
    assert window.model_info.weights_path == str(out)
    assert "my-shapes.pth" in view.model_label.accessibleName()


def test_use_after_save_names_the_saved_file(finished, qtbot, tmp_path):
    window, view = finished
    out = tmp_path / "saved-first.pth"
    with qtbot.waitSignal(view.model_saved, timeout=60000):
        assert view.save_to(str(out))
    view.use_button.click()
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)
    assert "saved-first.pth" in window.weights_label.text() and "not saved" not in window.weights_label.text()
