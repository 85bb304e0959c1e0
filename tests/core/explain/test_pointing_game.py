"""The maps point at what decided: the pointing game (Zhang et al., 2016) on a planted cue.

Three classes differ only by the colour of a 40 x 40 patch at a random place on a
cluttered grey background. A head is fine-tuned on them with the app's own
``run_finetune`` (mode "head", on the seeded random backbone: its random filters
still tell the colours apart). On held-out pictures the peak of the map for the
picture's true class must fall inside the patch (within the game's tolerance) for at
least 90 % of them, for Grad-CAM at relu5 and for Occlusion (patch 32, stride 16).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_gui.core.explain import ExplainSettings, explain

from .planted import inside, make_cue_folder

TOLERANCE = 8  # pixels around the patch that still count (the game's original tolerance is 15)
TRAIN_PER_CLASS, HELD_OUT_PER_CLASS = 250, 10


@pytest.fixture(scope="module")
def cue_model(tmp_path_factory, seeded_state_dict):
    import os

    from alexnet_gui.core.finetune import FinetuneSettings, run_finetune
    from alexnet_gui.core.model import build_model, model_from_state_dict

    root = tmp_path_factory.mktemp("planted")
    old_cache = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(root / "cache")  # a private feature cache
    try:
        make_cue_folder(root / "train", TRAIN_PER_CLASS, seed=1)
        held_out = make_cue_folder(root / "held-out", HELD_OUT_PER_CLASS, seed=2)
        base = build_model()
        base.load_state_dict(seeded_state_dict)
        result = run_finetune(root / "train", FinetuneSettings(mode="head", epochs=40, seed=0), base, "seeded")
    finally:
        if old_cache is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old_cache
    model = model_from_state_dict(result.state_dict, len(result.classes))
    return model, list(result.classes), held_out, result.val_accuracy


def pointing_hits(model, classes, held_out, settings: ExplainSettings) -> tuple[int, int]:
    hits = 0
    for path, box in held_out.items():
        truth = Path(path).parent.name
        e = explain(model, classes, path, ExplainSettings(**{**settings.as_dict(), "target": truth}))
        assert e.target.label == truth
        hits += inside(e.peak, box, TOLERANCE)
    return hits, len(held_out)


def test_the_head_learned_the_cue(cue_model):
    _, classes, _, val_accuracy = cue_model
    assert sorted(classes) == ["blue", "green", "red"]
    assert val_accuracy >= 0.9


def test_gradcam_points_at_the_patch(cue_model):
    model, classes, held_out, _ = cue_model
    hits, total = pointing_hits(model, classes, held_out, ExplainSettings(method="gradcam"))
    assert hits >= 0.9 * total, f"Grad-CAM pointed at the patch in {hits} of {total}"


def test_occlusion_points_at_the_patch(cue_model):
    model, classes, held_out, _ = cue_model
    hits, total = pointing_hits(model, classes, held_out, ExplainSettings(method="occlusion", batch=64))
    assert hits >= 0.9 * total, f"Occlusion pointed at the patch in {hits} of {total}"


def test_a_map_of_a_picture_without_the_cue_shows_it_nowhere_in_particular(cue_model):
    """The control: the patch's place in another picture is not where the maps point."""
    model, classes, held_out, _ = cue_model
    paths, boxes = list(held_out), list(held_out.values())
    shifted = dict(zip(paths, boxes[7:] + boxes[:7], strict=True))  # each picture judged by another's box
    hits, total = pointing_hits(model, classes, shifted, ExplainSettings(method="gradcam"))
    assert hits <= 0.4 * total
