"""Explain for your own classes: "why?" on a card of the fine-tune's gallery explains that
run's model (in use or not) for what it predicted; Compare shows the base model's map for
its own top class beside the fine-tuned model's map for its top class, same image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from shape_folders import SHAPES, make_shapes

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")


def test_why_on_a_gallery_card_explains_that_runs_prediction(make_window, qtbot, tmp_path):
    window = make_window()
    finetune = window.finetune_view
    window.tabs.setCurrentWidget(finetune)
    qtbot.waitUntil(finetune.is_ready, timeout=30000)
    with qtbot.waitSignal(finetune.health_report_shown, timeout=30000):
        finetune.set_folder(str(make_shapes(tmp_path / "shapes", per_class=10)))
    finetune.set_settings(epochs=3)
    with qtbot.waitSignal(finetune.run_ended, timeout=120000) as ended:
        assert finetune.start()
    assert ended.args[0] == "done"
    finetune.show_cell(0, 0)
    card = finetune.gallery.items()[0]
    view = window.explain_view
    with qtbot.waitSignal(view.shown, timeout=30000) as shown:
        finetune.gallery.explain_row(0)
    e = shown.args[0]
    assert window.tabs.currentWidget() is view
    assert e.path == card.path and e.target.label == card.predicted_label
    assert e.target.label in SHAPES and "fine-tuned" in e.model  # the run's model, not the ImageNet one in use
    assert abs(e.target.probability - card.confidence) <= 1e-3
    assert view.main_pane.rgb is not None


def test_compare_shows_the_base_models_map_beside_the_fine_tuned_one(make_window, qtbot, tmp_path):
    from alexnet_gui.core.model import build_model, swap_head
    from alexnet_gui.core.weights import save_checkpoint

    window = make_window()
    checkpoint = tmp_path / "tools.pth"
    save_checkpoint(checkpoint, swap_head(build_model(seed=1), 3).state_dict(), ["hammer", "saw", "drill"], {})
    with qtbot.waitSignal(window.client.events.model_loaded, timeout=30000):
        window.load_weights(str(checkpoint))
    view = window.explain_view
    qtbot.waitUntil(view.compare_box.isEnabled, timeout=10000)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (240, 300, 3), dtype=np.uint8)).save(photo)
    window.classify_view.open_paths([str(photo)])
    window.tabs.setCurrentWidget(view)
    view.compare_box.setChecked(True)
    qtbot.waitUntil(lambda: view.main_pane.explanation is not None and view.base_pane.explanation is not None
                    and not view.is_running(), timeout=30000)
    mine, base = view.main_pane.explanation, view.base_pane.explanation
    assert mine.target.label in ("hammer", "saw", "drill") and base.target.index < 1000
    assert mine.path == base.path == str(photo)
    assert view.base_pane.isVisible()
    shown = view.picture()
    assert shown.shape[1] == view.main_pane.rgb.shape[1] + 8 + view.base_pane.rgb.shape[1]
    assert not np.array_equal(view.main_pane.rgb, view.base_pane.rgb)
    view.compare_box.setChecked(False)
    assert not view.base_pane.isVisible()
