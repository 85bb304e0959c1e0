"""What the window tells the user: advice that fits the window, every key in the F1 dialog, the
health report's advice once, the surest mistakes first, and a Validation share only where it applies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shape_folders
from loopback import BytesHandler, serving
from PySide6.QtWidgets import QDialog, QTableWidget
from shape_folders import SHAPES

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")



def make_shapes(root: Path, per_class: int = 4, seed: int = 0, classes=tuple(SHAPES)) -> Path:
    """A seeded ImageFolder of coloured shapes, 4 a class unless asked (tests/shape_folders.py)."""
    return shape_folders.make_shapes(root, per_class=per_class, seed=seed, classes=classes)


def finetune_tab(window, qtbot):
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=30000)
    return view


def choose(view, qtbot, folder) -> None:
    with qtbot.waitSignal(view.health_report_shown, timeout=30000):
        view.set_folder(str(folder))


def test_download_failure_advises_the_window_not_a_command_line_flag(make_window, tmp_path, qtbot):
    window = make_window(weights=None)
    with serving(BytesHandler, routes={}) as (_server, url):  # every path answers 404
        window.start_download(f"{url}/alexnet-owt-7be5be79.pth", str(tmp_path / "dl" / "alexnet-owt-7be5be79.pth"))
        # The worker's signal comes from the download thread: wait for what the window shows.
        qtbot.waitUntil(lambda: "Download failed" in window.banner.label.accessibleName(), timeout=30000)
    text = window.banner.label.accessibleName()
    assert "alexnet-owt-7be5be79.pth" in text and "404" in text  # the file and the cause
    assert "--weights" not in text and "--weights" not in window.statusBar().currentMessage()
    assert "File › Load weights" in text


def test_f1_lists_page_keys_and_the_grid_keys(make_window, qtbot):
    window = make_window()
    window.actions["shortcuts"].trigger()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(QDialog)), timeout=5000)
    (dialog,) = [d for d in window.findChildren(QDialog) if d.windowTitle() == "Keyboard shortcuts"]
    table = dialog.findChild(QTableWidget)
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert "kernels" in rows["PgUp"] and "kernels" in rows["PgDown"]  # the Filters tab's pages
    arrows = next(k for k in rows if "Left" in k)
    assert all(key in arrows for key in ("Left", "Right", "Up", "Down")) and "tiles" in rows[arrows]
    assert any("Enter" in k and "tile" in rows[k] for k in rows)
    dialog.close()


def test_flat_folder_report_gives_its_advice_once(make_window, qtbot, tmp_path):
    window = make_window()
    view = finetune_tab(window, qtbot)
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in make_shapes(tmp_path / "shapes").rglob("*.png"):
        shutil.copy(p, flat / p.name)
    choose(view, qtbot, flat)
    (line,) = [ln for ln in view.report_text().splitlines() if ln.startswith("Cannot train:")]
    assert str(flat) in line and "directly" in line
    assert line.count("move") + line.count("put ") == 1, line


def test_validation_share_is_off_for_a_folder_with_its_own_val(make_window, qtbot, tmp_path):
    window = make_window()
    view = finetune_tab(window, qtbot)
    share = view.settings_box.val_fraction
    split = tmp_path / "split"
    make_shapes(split / "train")
    make_shapes(split / "val", per_class=2, seed=1)
    choose(view, qtbot, split)
    assert "own val/" in view.report_text()
    assert view.settings_box.isEnabled() and not share.isEnabled()
    assert "val/" in share.toolTip()

    choose(view, qtbot, make_shapes(tmp_path / "plain"))
    assert share.isEnabled()


def test_mistakes_gallery_shows_the_surest_mistakes_first(make_window, qtbot, tmp_path):
    """Labels unrelated to the pictures: many mistakes, the surest first."""
    window = make_window()
    view = finetune_tab(window, qtbot)
    source = make_shapes(tmp_path / "shapes", per_class=10)
    mixed = tmp_path / "mixed"
    for i, p in enumerate(sorted(source.rglob("*.png"))):
        (mixed / "abc"[i % 3]).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, mixed / "abc"[i % 3] / p.name)
    choose(view, qtbot, mixed)
    view.set_settings(epochs=2, val_fraction=0.5)
    with qtbot.waitSignal(view.run_ended, timeout=120000) as ended:
        assert view.start()
    assert ended.args == ["done"]
    confidences = [item.confidence for item in view.gallery.items()]
    assert len(set(confidences)) >= 2, "the test needs mistakes of different confidence"
    assert confidences == sorted(confidences, reverse=True)
