"""The Fine-tune tab as a user drives it: folder, health report, run, results, use, save, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shape_folders
from finetune_tab import choose, open_view
from shape_folders import SHAPES
from window_events import drop

LONG = 1000  # epochs for runs that are cancelled: far more than a test ever waits for


def make_shapes(root: Path, per_class: int = 10, seed: int = 0, classes=tuple(SHAPES)) -> Path:
    """A seeded ImageFolder of coloured shapes, 10 a class unless asked (tests/shape_folders.py)."""
    return shape_folders.make_shapes(root, per_class=per_class, seed=seed, classes=classes)


@pytest.fixture
def shapes(tmp_path):
    root = make_shapes(tmp_path / "shapes")
    (root / "circles" / "notes.txt").write_text("not an image")
    return root


pytestmark = pytest.mark.usefixtures("no_modal_dialogs")  # tests/conftest.py: warnings recorded, not shown


def run_to_end(view, qtbot, **settings):
    view.set_settings(**settings)
    with qtbot.waitSignal(view.run_ended, timeout=120000) as ended:
        assert view.start()
    return ended.args[0]


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_drop_folder_train_use_save_and_load_back(make_window, qtbot, shapes, tmp_path):
    window, view = open_view(make_window, qtbot)
    with qtbot.waitSignal(view.health_report_shown, timeout=30000):
        drop(window, [shapes])
    assert window.tabs.currentWidget() is view  # the folder went to the Fine-tune tab, not Classify
    report = view.report_text()
    for name in SHAPES:
        assert f"{name}: 10 images" in report
    assert "notes.txt: not an image file" in report
    assert view.start_button.isEnabled()
    assert not window.actions["save_finetuned"].isEnabled()

    events = []
    view.progress_shown.connect(lambda ev: events.append((ev.phase, view.progress_text())))
    assert run_to_end(view, qtbot, epochs=3, batch_size=16) == "done"
    phases = [p for p, _ in events]
    assert "extract" in phases and "train" in phases
    assert any(t.startswith("extracting features ") for _, t in events)
    assert any(t.startswith("epoch 3/3 — loss ") and "val acc" in t for _, t in events)

    result = view.outcome.result
    assert len(view.curves.points) == 3
    assert "after epoch 3 of 3" in view.curves.accessibleName()
    assert view.confusion.total() == result.val_count == 6  # 20 % of each class of 10
    summary = view.summary_label.accessibleName()
    assert f"Validation accuracy {result.val_accuracy * 100:.1f} %" in summary
    assert all(f"⚠ {w}" in summary for w in result.warnings) and result.warnings  # notes.txt was skipped
    assert view.progress_text().startswith("done — val acc")
    assert len(view.gallery.items()) == len(result.mistakes)

    # Clicking a cell shows exactly that cell's validation images, as thumbnails.
    r, c = np.unravel_index(np.argmax(result.confusion_matrix), result.confusion_matrix.shape)
    view.confusion.cellClicked.emit(int(r), int(c))
    items = view.gallery.items()
    assert len(items) == result.confusion_matrix[r, c]
    assert all(i.true_label == result.classes[r] and i.predicted_label == result.classes[c] for i in items)
    qtbot.waitUntil(lambda: view.gallery.thumbnails_loaded() == len(items), timeout=10000)

    # Use this model: Classify now names the folder's classes; compare shows the base model beside it.
    view.use_button.click()
    qtbot.waitUntil(lambda: window.model_info.class_names == list(SHAPES), timeout=30000)
    qtbot.waitUntil(view.compare_box.isEnabled, timeout=5000)
    view.compare_box.setChecked(True)
    window.open_paths([shapes / "squares" / "squares-00.png"])
    cv = window.classify_view
    qtbot.waitUntil(lambda: len(cv.bars.texts()) == 3 and len(cv.compare_bars.texts()) == 5, timeout=30000)
    assert {t.split(" — ")[0] for t in cv.bars.texts()} == set(SHAPES)
    assert cv.compare_bars.isVisible()
    view.base_button.click()
    qtbot.waitUntil(lambda: len(window.model_info.class_names) == 1000, timeout=30000)
    assert not view.compare_box.isChecked() and not cv.compare_bars.isVisible()
    assert not view.compare_box.isEnabled()

    # File > Save fine-tuned model…: one self-contained file, loadable by the core with its class names.
    assert window.actions["save_finetuned"].isEnabled()
    out = tmp_path / "saved" / "shapes.pth"
    out.parent.mkdir()
    with qtbot.waitSignal(view.model_saved, timeout=60000):
        assert view.save_to(str(out))
    assert files_under(out.parent) == {"shapes.pth"}  # no temp file left beside it
    from alexnet_gui.core.weights import load_weights

    loaded = load_weights(out)
    assert loaded.kind == "finetuned" and loaded.class_names == list(SHAPES)

    # File > Load weights… brings the classes back.
    window.load_weights(str(out))
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=60000)
    assert window.model_info.class_names == list(SHAPES)
    assert window.model_info.weights_path == str(out)

    with qtbot.waitSignal(view.cache_cleared, timeout=30000):
        window.actions["clear_feature_cache"].trigger()


def test_cancel_mid_run_leaves_nothing_behind(make_window, qtbot, shapes, tmp_path):
    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, shapes)
    before = files_under(tmp_path)
    view.set_settings(epochs=LONG, batch_size=8)
    with qtbot.waitSignal(view.progress_shown, timeout=60000,
                          check_params_cb=lambda ev: ev.phase == "train" and ev.step >= 1):
        assert view.start()
    assert view.is_running() and view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.run_ended, timeout=10000) as ended:
        view.cancel_button.click()
    assert ended.args == ["cancelled"]
    assert view.outcome is None and not view.use_button.isEnabled()
    assert not window.actions["save_finetuned"].isEnabled()
    assert "cancelled" in view.progress_text()
    new = {p for p in files_under(tmp_path) - before if not p.startswith(("cache", "xdg_cache", "settings"))}
    assert new == set()  # outside the feature cache, not one new file
    assert not list(tmp_path.rglob("*.part"))
    assert view.start_button.isEnabled()


def test_one_class_folder_is_refused_with_the_core_message(make_window, qtbot, tmp_path):
    window, view = open_view(make_window, qtbot)
    folder = make_shapes(tmp_path / "one", classes=("circles",))
    choose(view, qtbot, folder)
    assert "only one class" in view.report_text()
    assert not view.start_button.isEnabled()
    with qtbot.waitSignal(view.run_ended, timeout=30000) as ended:
        assert view.start()  # forced past the disabled button: the core refuses
    assert ended.args == ["failed"]
    assert "only one class" in view.message_label.accessibleName()
    assert view.outcome is None
    # The window lives on: the other tab still classifies.
    window.open_paths([folder / "circles" / "circles-00.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=30000)


def test_classify_is_answered_while_a_finetune_runs(make_window, qtbot, shapes):
    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, shapes)
    view.set_settings(epochs=LONG)
    with qtbot.waitSignal(view.progress_shown, timeout=60000):
        assert view.start()
    ended = []
    view.run_ended.connect(ended.append)
    window.open_paths([shapes / "triangles" / "triangles-00.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=60000)
    assert ended == [] and view.is_running()  # the top-5 came before the fine-tune finished
    with qtbot.waitSignal(view.run_ended, timeout=10000):
        view.cancel()


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_sample_data_made_and_used_offline_message(make_window, qtbot, tmp_path, monkeypatch):
    from alexnet_gui.core.finetune import samples

    # A tiny stand-in for Fashion-MNIST's t10k files: 10 classes x 3 images of 28 x 28.
    source = tmp_path / "fmnist"
    source.mkdir()
    labels = np.repeat(np.arange(10), 3)
    write_idx(source / "t10k-images-idx3-ubyte", np.random.default_rng(0).integers(0, 255, (30, 28, 28)))
    write_idx(source / "t10k-labels-idx1-ubyte", labels)
    monkeypatch.setattr(samples, "DEBIAN_FASHION_MNIST", source)

    def offline(*_a, **_k):
        raise OSError("network unreachable")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)  # never reach the internet

    window, view = open_view(make_window, qtbot)
    with qtbot.waitSignal(view.health_report_shown, timeout=60000):
        view.create_sample("fashion-mnist")
    assert len(view.report.classes) == 10
    assert "t-shirt: 3 images" in view.report_text()
    assert view.start_button.isEnabled()

    with qtbot.waitSignal(view.message_shown, timeout=60000,
                          check_params_cb=lambda text: "CIFAR-10" in text and "Preparing" not in text):
        view.create_sample("cifar10")
    text = view.message_label.accessibleName()
    assert "not on this machine" in text and "cifar-10-python.tar.gz" in text


def test_progress_lines():
    from alexnet_gui.core.finetune import Progress
    from alexnet_gui.ui.finetune.finetune_view import describe_progress

    assert describe_progress(Progress("extract", 120, 400, 12.2)) == "extracting features 120/400 — 12 s left"
    epoch = Progress("train", 3, 10, None, loss=0.412, accuracy=0.9, val_loss=0.5, val_accuracy=0.88)
    assert describe_progress(epoch) == "epoch 3/10 — loss 0.41 — val acc 88.0 %"
    assert describe_progress(Progress("scan", 64, 300, 125)) == "checking files 64/300 — 2 min 5 s left"


def test_closing_the_window_mid_run_stops_the_run(make_window, qtbot, shapes):
    import threading

    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, shapes)
    view.set_settings(epochs=LONG)
    with qtbot.waitSignal(view.progress_shown, timeout=60000, check_params_cb=lambda ev: ev.phase == "train"):
        assert view.start()
    window.close()
    qtbot.waitUntil(lambda: not window.client.is_running(), timeout=10000)
    qtbot.waitUntil(lambda: not any(t.name.startswith("finetune-") for t in threading.enumerate()), timeout=10000)


def test_escape_cancels_a_running_finetune(make_window, qtbot, shapes):
    window, view = open_view(make_window, qtbot)
    choose(view, qtbot, shapes)
    cancel = window.actions["cancel"]
    assert not cancel.isEnabled()
    view.set_settings(epochs=LONG, batch_size=8)
    with qtbot.waitSignal(view.progress_shown, timeout=60000,
                          check_params_cb=lambda ev: ev.phase == "train"):
        assert view.start()
    assert cancel.isEnabled() and cancel.shortcut().toString() == "Esc"
    with qtbot.waitSignal(view.run_ended, timeout=10000) as ended:
        cancel.trigger()
    assert ended.args == ["cancelled"]
    assert not cancel.isEnabled()
