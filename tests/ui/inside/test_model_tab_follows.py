"""The Model tab's per-layer table follows the model in use: the head's size, and which layers
its fine-tune trained; Back to base puts the stock table back."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")

STOCK_TOTAL = 61_100_840
FC8_STOCK = 4096 * 1000 + 1000


def finetuned_checkpoint(path, classes, mode):
    from alexnet_gui.core.model import build_model, swap_head
    from alexnet_gui.core.weights import save_checkpoint

    model = swap_head(build_model(seed=1), len(classes))
    meta = {"settings": {"mode": mode}} if mode else {}
    save_checkpoint(path, model.state_dict(), classes, meta)
    return path


def table(view) -> dict[str, list[str]]:
    t = view.table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())}


def header(view) -> list[str]:
    return [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]


def open_model_tab(make_window):
    window = make_window()
    window.tabs.setCurrentWidget(window.model_view)
    return window, window.model_view


def test_fine_tuned_head_and_trained_layers_then_back_to_base(make_window, tmp_path, qtbot):
    window, view = open_model_tab(make_window)
    rows = table(view)
    assert rows["classifier.6"][2:4] == ["1000", f"{FC8_STOCK:,}"]
    assert f"{STOCK_TOTAL:,}" in view.totals.accessibleName()

    ckpt = finetuned_checkpoint(tmp_path / "pets.pth", ["cats", "dogs", "owls"], "head")
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: table(view)["classifier.6"][2] == "3", timeout=30000)
    rows = table(view)
    fc8 = 4096 * 3 + 3
    assert rows["classifier.6"][3] == f"{fc8:,}" and rows["classifier.6"][4] == f"{4096 * 3:,}"
    trains = header(view).index("Trained by the fine-tune")
    trained = [name for name, cells in rows.items() if cells[trains] == "yes"]
    assert trained == ["classifier.6"]  # head mode: only the new fc8 learned
    assert rows["features.0"][trains] == "kept" and rows["classifier.1"][trains] == "kept"
    total = STOCK_TOTAL - FC8_STOCK + fc8
    assert f"Total {total:,} parameters ({fc8:,} trained by the fine-tune" in view.totals.accessibleName()
    assert "pets.pth" in view.model_label.accessibleName()

    window.finetune_view.base_button.click()
    qtbot.waitUntil(lambda: table(view)["classifier.6"][2] == "1000", timeout=30000)
    assert table(view)["classifier.6"][3] == f"{FC8_STOCK:,}"
    assert "Trained by the fine-tune" not in header(view)
    assert f"Total {STOCK_TOTAL:,} parameters" in view.totals.accessibleName()


def test_classifier_mode_marks_fc6_to_fc8(make_window, tmp_path, qtbot):
    window, view = open_model_tab(make_window)
    ckpt = finetuned_checkpoint(tmp_path / "tools.pth", [f"tool{i}" for i in range(5)], "classifier")
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: table(view)["classifier.6"][2] == "5", timeout=30000)
    rows = table(view)
    trains = header(view).index("Trained by the fine-tune")
    assert [n for n, cells in rows.items() if cells[trains] == "yes"] == ["classifier.1", "classifier.4", "classifier.6"]


def test_table_follows_while_another_tab_is_shown(make_window, tmp_path, qtbot):
    """Filled when the tab is next shown, for the model in use then."""
    window, view = open_model_tab(make_window)
    window.tabs.setCurrentWidget(window.classify_view)
    ckpt = finetuned_checkpoint(tmp_path / "old.pth", ["a", "b"], None)  # a checkpoint that does not say its mode
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)
    window.tabs.setCurrentWidget(view)
    rows = table(view)
    assert rows["classifier.6"][2] == "2"
    assert "not recorded" in view.totals.accessibleName()
