"""Base and fine-tuned weights are remembered apart: a fine-tuned model never becomes the base,
Back to base works after a restart, and File › Use default weights goes back to the stock model offline."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.usefixtures("no_modal_dialogs")

CLASSES = ["cats", "dogs", "owls"]


def finetuned_checkpoint(path, mode="head"):
    from alexnet_gui.core.model import build_model, swap_head
    from alexnet_gui.core.weights import save_checkpoint

    model = swap_head(build_model(seed=1), len(CLASSES))
    save_checkpoint(path, model.state_dict(), CLASSES, {"settings": {"mode": mode}})
    return path


def close(window, qtbot):
    window.close()
    qtbot.waitUntil(lambda: not window.client.is_running(), timeout=10000)


def finetuned_with_base(window) -> bool:
    info = window.model_info
    return info is not None and info.source == "finetuned" and info.base_description is not None


def test_restart_after_load_weights_keeps_the_base_apart(make_window, seeded_weights, tmp_path, qtbot):
    window = make_window()
    ckpt = finetuned_checkpoint(tmp_path / "pets.pth")
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: finetuned_with_base(window), timeout=30000)
    close(window, qtbot)

    again = make_window(weights=None)  # a plain restart: what was in use comes back
    qtbot.waitUntil(lambda: finetuned_with_base(again), timeout=60000)
    assert again.model_info.weights_path == str(ckpt)
    assert again.model_info.class_names == CLASSES
    view = again.finetune_view
    qtbot.waitUntil(view.base_button.isEnabled, timeout=5000)

    view.base_button.click()  # Back to base: the seeded ImageNet-shaped weights, not the pets
    qtbot.waitUntil(lambda: again.model_info.source != "finetuned", timeout=30000)
    assert again.model_info.weights_path == str(seeded_weights)
    assert len(again.model_info.class_names) == 1000
    close(again, qtbot)

    third = make_window(weights=None)  # Back to base is remembered too
    assert third.model_info.source != "finetuned" and third.model_info.weights_path == str(seeded_weights)


def test_finetuned_file_given_with_weights_gets_its_base_behind_it(make_window, seeded_weights, tmp_path, qtbot):
    window = make_window()  # remembers the seeded weights as the base
    close(window, qtbot)
    ckpt = finetuned_checkpoint(tmp_path / "pets.pth")
    tuned = make_window(weights=ckpt, wait=False)
    qtbot.waitUntil(lambda: finetuned_with_base(tuned), timeout=60000)
    qtbot.waitUntil(tuned.finetune_view.base_button.isEnabled, timeout=5000)
    from alexnet_gui.ui.shell.main_window import app_settings

    assert app_settings().value("weights/path") == str(seeded_weights)  # the base is still the base
    tuned.finetune_view.base_button.click()
    qtbot.waitUntil(lambda: tuned.model_info.source != "finetuned", timeout=30000)
    assert tuned.model_info.weights_path == str(seeded_weights)


def test_use_default_weights_goes_back_to_the_stock_model_offline(make_window, tmp_path, qtbot):
    window = make_window(weights=finetuned_checkpoint(tmp_path / "pets.pth"), wait=False)
    qtbot.waitUntil(lambda: finetuned_with_base(window), timeout=60000)
    action = window.actions["default_weights"]
    assert action.isEnabled() and action.toolTip()
    assert action in window.file_menu.actions()

    action.trigger()  # no ImageNet file in this test's torch hub cache: the untrained model
    qtbot.waitUntil(lambda: window.model_info.source == "untrained", timeout=30000)
    assert window.model_info.base_description is None and len(window.model_info.class_names) == 1000
    assert window.banner.isVisible()
    close(window, qtbot)

    again = make_window(weights=None)
    assert again.model_info.source == "untrained" and again.model_info.base_description is None


def test_use_default_weights_takes_the_hub_cache_file_when_present(make_window, seeded_weights, qtbot):
    from alexnet_gui.core.weights import hub_cache_path

    window = make_window()
    hub = hub_cache_path()
    hub.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded_weights, hub)  # stands in for torchvision's file (same place, any weights)
    window.actions["default_weights"].trigger()
    qtbot.waitUntil(lambda: window.model_info.weights_path == str(hub), timeout=30000)
    assert window.model_info.trained


def test_remembered_finetuned_file_that_is_gone_is_said_and_the_base_used(make_window, seeded_weights, tmp_path,
                                                                          qtbot):
    window = make_window()
    ckpt = finetuned_checkpoint(tmp_path / "pets.pth")
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: finetuned_with_base(window), timeout=30000)
    close(window, qtbot)
    ckpt.unlink()

    again = make_window(weights=None)
    assert again.model_info.source != "finetuned" and again.model_info.weights_path == str(seeded_weights)
    assert "pets.pth: the fine-tuned model used last time is no longer there" in again.statusBar().currentMessage()
    from alexnet_gui.ui.shell.main_window import app_settings

    assert app_settings().value("weights/finetuned") == ""
