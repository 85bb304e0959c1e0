"""run_finetune end to end on seeded shapes with a seeded backbone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from float_paths import scaled_atol

from alexnet_gui.core.finetune import (
    FeatureCache,
    FinetuneCancelled,
    FinetuneError,
    FinetuneSettings,
    Progress,
    clear_cache,
    run_finetune,
    save_finetuned,
    scan_folder,
    split,
)
from alexnet_gui.core.finetune import extract as extract_module
from alexnet_gui.core.images import load_image
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.weights import build_model_from_weights, load_weights

from .conftest import make_shapes

BASE_SHA = "5e" * 32


def metrics(result):
    return [dataclasses.astuple(e) for e in result.epochs], result.confusion_matrix.tolist()


@pytest.fixture
def small(tmp_path):
    """15 images: 12 to train, 1 per class to validate. For tests where accuracy is not the point."""
    return make_shapes(tmp_path / "small", per_class=5)


def feature_files(cache_root):
    return sorted((cache_root / "features").rglob("*"))


def assert_cache_entries_valid(cache_root, dim=4096):
    files = [p for p in feature_files(cache_root) if p.is_file()]
    assert not [p for p in files if not p.name.endswith(".f32")], "temp files left behind"
    cache = FeatureCache()
    for p in files:
        assert cache.get(p.stem, dim) is not None, f"{p.name} is not a complete entry"


def test_head_mode_learns_the_shapes_and_reports_everything(shapes, seeded_model, seeded_state_dict):
    events: list[Progress] = []
    result = run_finetune(shapes, None, seeded_model, BASE_SHA, "cpu", progress=events.append)

    assert result.classes == ["circles", "squares", "triangles"]
    assert result.val_accuracy >= 0.66  # chance is 0.33
    assert result.train_count == 30 and result.val_count == 6
    assert len(result.epochs) == 10 and result.epochs[-1].val_accuracy == result.val_accuracy
    assert result.epochs[-1].train_loss < result.epochs[0].train_loss
    assert result.confusion_matrix.shape == (3, 3) and result.confusion_matrix.sum() == 6
    assert np.trace(result.confusion_matrix) / 6 == pytest.approx(result.val_accuracy)
    assert len(result.per_class_accuracy) == 3
    assert len(result.mistakes) == 6 - np.trace(result.confusion_matrix)
    for m in result.mistakes:
        assert m.true_label != m.predicted_label and 0 < m.confidence <= 1
    assert len(result.val_predictions) == 6
    assert sum(p.correct for p in result.val_predictions) == np.trace(result.confusion_matrix)
    assert set(result.mistakes) <= set(result.val_predictions)
    assert result.skipped == [] and result.seconds > 0 and result.computed == 36
    assert result.state_dict["classifier.6.weight"].shape == (3, 4096)
    # handed over as plain row-major tensors, though the run kept conv weights channels-last
    assert all(t.is_contiguous() for t in result.state_dict.values())
    # the base model was a template only
    for key, value in seeded_model.state_dict().items():
        assert torch.equal(value, seeded_state_dict[key]), key

    phases = [e.phase for e in events]
    assert phases[0] == "scan" and phases[-1] == "done"
    assert phases.index("scan") < phases.index("extract") < phases.index("train")
    extract = [e for e in events if e.phase == "extract"]
    assert extract[-1].step == extract[-1].total == 36
    epochs = [e for e in events if e.phase == "train" and e.step > 0]
    assert [e.step for e in epochs] == list(range(1, 11)) and all(e.total == 10 for e in epochs)
    assert all(e.val_accuracy is not None and e.loss is not None for e in epochs)
    assert all(e.eta_seconds is None or e.eta_seconds >= 0 for e in events)


def test_saved_model_loads_and_reproduces_the_validation_accuracy(small, seeded_model, tmp_path):
    result = run_finetune(small, FinetuneSettings(epochs=5), seeded_model, BASE_SHA)
    path = save_finetuned(tmp_path / "shapes.pt", result, BASE_SHA)

    loaded = load_weights(path)
    assert loaded.kind == "finetuned" and loaded.class_names == result.classes
    assert loaded.meta["base_weights_sha256"] == BASE_SHA
    assert loaded.meta["metrics"]["val_accuracy"] == result.val_accuracy
    assert loaded.meta["settings"]["epochs"] == 5 and "created" in loaded.meta and loaded.meta["app_version"]
    model = build_model_from_weights(loaded)
    _, val = split(scan_folder(small), 0.2, seed=0)  # the run's own split: same seed
    with torch.inference_mode():
        logits = model(torch.stack([preprocess(load_image(e.path)) for e in val]))
    predicted = logits.argmax(1).tolist()
    # The run put cached fc7 features through its head, the test puts images through the whole
    # loaded model: the same to float rounding. Only an image whose best two logits are a
    # near-tie may be called either way, and may move the accuracy by its share.
    best_two = logits.topk(2, dim=1).values
    near_tie = {e.path for e, (a, b) in zip(val, best_two.tolist()) if a - b <= scaled_atol(logits)}
    by_run = {p.path: p.predicted_label for p in result.val_predictions}
    assert all(result.classes[p] == by_run[e.path] for p, e in zip(predicted, val) if e.path not in near_tie)
    accuracy = sum(p == e.label for p, e in zip(predicted, val)) / len(val)
    assert abs(accuracy - result.val_accuracy) <= len(near_tie) / len(val) + 1e-9
    mistakes = {e.path for p, e in zip(predicted, val) if p != e.label}
    assert mistakes ^ {m.path for m in result.mistakes} <= near_tie


def test_same_seed_same_metrics_from_fresh_and_cached_features(small, seeded_model, count_forwards):
    first = run_finetune(small, FinetuneSettings(epochs=4), seeded_model, BASE_SHA)
    clear_cache()
    second = run_finetune(small, FinetuneSettings(epochs=4), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 30
    third = run_finetune(small, FinetuneSettings(epochs=4), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 30  # the third came from the cache
    assert third.computed == 0
    # exact: the same images through the same model in the same batches, or their cached bytes
    assert metrics(first) == metrics(second) == metrics(third)
    for key in first.state_dict:
        assert torch.equal(first.state_dict[key], third.state_dict[key]), key


def test_cache_is_reused_across_other_settings(small, seeded_model, count_forwards, private_cache):
    run_finetune(small, FinetuneSettings(epochs=2), seeded_model, BASE_SHA)
    entries = feature_files(private_cache)
    again = run_finetune(small, FinetuneSettings(epochs=3, lr=3e-3, seed=7), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 15 and again.computed == 0
    assert feature_files(private_cache) == entries
    # other base weights are another key: computed again
    run_finetune(small, FinetuneSettings(epochs=1), seeded_model, "77" * 32)
    assert count_forwards["images"] == 30


def test_corrupt_cache_entry_is_recomputed_with_the_same_result(small, seeded_model, count_forwards, private_cache):
    first = run_finetune(small, FinetuneSettings(epochs=3), seeded_model, BASE_SHA)
    files = [p for p in feature_files(private_cache) if p.is_file()]
    garbled = bytearray(files[0].read_bytes())
    garbled[200:260] = b"\x7f" * 60
    files[0].write_bytes(bytes(garbled))
    files[1].write_bytes(files[1].read_bytes()[:100])
    second = run_finetune(small, FinetuneSettings(epochs=3), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 15 + 2 and second.computed == 2
    # The two recomputed features came from a batch of 2, not of 15: equal to float rounding,
    # not bit for bit. So the losses agree to 1e-4, and an epoch's accuracy may differ only by
    # an image that is a near-tie (3 validation images: a third).
    assert [e.train_loss for e in second.epochs] == pytest.approx([e.train_loss for e in first.epochs], rel=1e-4)
    assert [e.val_loss for e in second.epochs] == pytest.approx([e.val_loss for e in first.epochs], rel=1e-4)
    assert all(abs(a.val_accuracy - b.val_accuracy) <= 1 / 3 + 1e-9 for a, b in zip(first.epochs, second.epochs))
    assert_cache_entries_valid(private_cache)


def test_train_val_layout_is_used_as_given(tmp_path, seeded_model):
    make_shapes(tmp_path / "data" / "train", per_class=5)
    make_shapes(tmp_path / "data" / "val", per_class=2, seed=4)
    result = run_finetune(tmp_path / "data", FinetuneSettings(epochs=3), seeded_model, BASE_SHA)
    assert result.layout == "train/val" and result.train_count == 15 and result.val_count == 6
    assert all("/val/" in m.path.replace("\\", "/") for m in result.mistakes)


def test_bad_files_are_skipped_and_reported(small, seeded_model):
    (small / "circles" / "notes.txt").write_text("hello")
    (small / "squares" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    result = run_finetune(small, FinetuneSettings(epochs=2), seeded_model, BASE_SHA)
    assert {s.path.rsplit("/", 1)[-1] for s in result.skipped} == {"notes.txt", "broken.png"}
    assert result.train_count + result.val_count == 15


def test_an_image_that_fails_to_decode_late_is_skipped(shapes, seeded_model, monkeypatch):
    from alexnet_gui.core.images import ImageLoadError

    real = extract_module.load_image
    target = str(shapes / "squares" / "squares-03.png")

    def flaky(path):
        if str(path) == target:
            raise ImageLoadError(path, "the image data is damaged or truncated (test)")
        return real(path)

    monkeypatch.setattr(extract_module, "load_image", flaky)
    result = run_finetune(shapes, FinetuneSettings(epochs=2), seeded_model, BASE_SHA)
    assert [s.path for s in result.skipped] == [target]
    assert result.train_count + result.val_count == 35


@pytest.mark.parametrize("per_class, classes, message", [
    (0, ("circles", "squares"), "readable images"),
    (4, ("circles",), "only one class"),
    (1, ("circles", "squares"), "has 1 readable image"),
])  # fmt: skip
def test_refusals_raise_finetune_error(tmp_path, seeded_model, per_class, classes, message, private_cache):
    for c in classes:
        (tmp_path / "d" / c).mkdir(parents=True)
    make_shapes(tmp_path / "d", per_class=per_class, classes=classes)
    with pytest.raises(FinetuneError, match=message):
        run_finetune(tmp_path / "d", None, seeded_model, BASE_SHA)
    assert not (private_cache / "features").exists()


def test_bad_settings_are_refused(shapes, seeded_model):
    with pytest.raises(FinetuneError, match="epochs"):
        run_finetune(shapes, FinetuneSettings(epochs=0), seeded_model, BASE_SHA)
    with pytest.raises(FinetuneError, match="mode"):
        run_finetune(shapes, FinetuneSettings(mode="everything"), seeded_model, BASE_SHA)


def test_cancel_inside_a_batch_stops_between_layers(shapes, seeded_model, count_forwards, private_cache):
    layers_after = {"n": 0}

    def cancelled():
        started = count_forwards["images"] > 0  # the first batch is inside the network
        layers_after["n"] += started
        return started

    with pytest.raises(FinetuneCancelled):
        run_finetune(shapes, None, seeded_model, BASE_SHA, cancelled=cancelled)
    assert layers_after["n"] == 1  # stopped at the first check inside the batch
    assert not [p for p in feature_files(private_cache) if p.is_file()]


def test_cancel_between_batches_keeps_finished_entries(shapes, seeded_model, count_forwards, private_cache, monkeypatch):
    monkeypatch.setattr(extract_module, "extract_batch_size", lambda device: 18)  # two batches of 18
    state = {"cancel": False, "forwards_at_cancel": None, "yields": 0}

    def progress(e: Progress):
        if e.phase == "extract" and e.step >= 18 and not state["cancel"]:
            state["cancel"], state["forwards_at_cancel"] = True, count_forwards["images"]

    def yield_point():
        state["yields"] += 1

    with pytest.raises(FinetuneCancelled):
        run_finetune(shapes, None, seeded_model, BASE_SHA, progress=progress,
                     cancelled=lambda: state["cancel"], yield_point=yield_point)
    assert count_forwards["images"] == state["forwards_at_cancel"] == 18  # no batch after the cancel
    assert state["yields"] > 0
    assert_cache_entries_valid(private_cache)
    resumed = run_finetune(shapes, FinetuneSettings(epochs=1), seeded_model, BASE_SHA)
    assert resumed.computed == 36 - 18


def test_cancel_during_training(shapes, seeded_model, private_cache):
    state = {"cancel": False, "epochs_after": 0}

    def progress(e: Progress):
        if e.phase == "train" and e.step >= 1:
            state["epochs_after"] += state["cancel"]
            state["cancel"] = True

    with pytest.raises(FinetuneCancelled):
        run_finetune(shapes, None, seeded_model, BASE_SHA, progress=progress, cancelled=lambda: state["cancel"])
    assert state["epochs_after"] == 0
    assert_cache_entries_valid(private_cache)


def test_flip_view_doubles_training_features_and_caches_them(small, seeded_model, count_forwards):
    result = run_finetune(small, FinetuneSettings(epochs=2, flip_view=True), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 15 + 12  # flipped copies of the 12 training images only
    assert result.train_count == 12
    run_finetune(small, FinetuneSettings(epochs=2, flip_view=True), seeded_model, BASE_SHA)
    assert count_forwards["images"] == 27


def test_classifier_mode_trains_fc6_to_fc8_on_pool5(tmp_path, seeded_model, seeded_state_dict, private_cache):
    root = make_shapes(tmp_path / "small", per_class=4)
    result = run_finetune(root, FinetuneSettings(mode="classifier", epochs=2), seeded_model, BASE_SHA)
    sd = result.state_dict
    assert sd["classifier.6.weight"].shape == (3, 4096)
    assert not torch.equal(sd["classifier.1.weight"], seeded_state_dict["classifier.1.weight"])  # fc6 trained
    assert torch.equal(sd["features.0.weight"], seeded_state_dict["features.0.weight"])  # convs frozen
    assert_cache_entries_valid(private_cache, dim=9216)
    again = run_finetune(root, FinetuneSettings(mode="classifier", epochs=2), seeded_model, BASE_SHA)
    assert again.computed == 0 and metrics(again) == metrics(result)


def test_all_mode_trains_every_layer(tmp_path, seeded_model, seeded_state_dict, private_cache):
    root = make_shapes(tmp_path / "tiny", per_class=2)
    result = run_finetune(root, FinetuneSettings(mode="all", epochs=1, batch_size=4), seeded_model, BASE_SHA)
    sd = result.state_dict
    assert len(result.epochs) == 1 and result.val_count == 3
    assert not torch.equal(sd["features.0.weight"], seeded_state_dict["features.0.weight"])
    assert not (private_cache / "features").exists()  # no cache in this mode
    for key, value in seeded_model.state_dict().items():
        assert torch.equal(value, seeded_state_dict[key]), key
    again = run_finetune(root, FinetuneSettings(mode="all", epochs=1, batch_size=4), seeded_model, BASE_SHA)
    assert metrics(again) == metrics(result)  # seeded crops, flips, dropout and shuffling


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_head_mode_on_cuda_matches_cpu_accuracy_closely(shapes, seeded_model):
    cpu = run_finetune(shapes, None, seeded_model, BASE_SHA, "cpu")
    clear_cache()
    gpu = run_finetune(shapes, None, seeded_model, BASE_SHA, "cuda")
    assert abs(gpu.val_accuracy - cpu.val_accuracy) <= 1 / 6 + 1e-9
    assert gpu.state_dict["classifier.6.weight"].device.type == "cpu"


def test_an_unwritable_cache_only_costs_speed(tmp_path, seeded_model, monkeypatch):
    root = make_shapes(tmp_path / "small", per_class=3)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    result = run_finetune(root, FinetuneSettings(epochs=2), seeded_model, BASE_SHA)
    assert result.val_count == 3
    assert any("not cached" in w for w in result.warnings)
