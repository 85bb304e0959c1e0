"""Correct and retrain: copies (never moves), collision-safe names, undo, and a retrain
that computes features only for the new images without losing held-out accuracy."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shape_folders import draw_shape, make_shapes

from alexnet_gui.core.audit.corrections import CorrectionError, copy_into_class, undo
from alexnet_gui.core.finetune import FinetuneSettings, run_finetune
from alexnet_gui.core.finetune import samples as samples_module


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_correction_is_a_copy_with_a_free_name(tmp_path):
    dataset = make_shapes(tmp_path / "set", per_class=2)
    outside = make_shapes(tmp_path / "outside", per_class=1, seed=3)
    source = outside / "circles" / "circles-00.png"  # same name as a file already in the set
    before, stat = digest(source), source.stat()
    existing = digest(dataset / "circles" / "circles-00.png")

    first = copy_into_class(dataset, source, "circles")
    second = copy_into_class(dataset, source, "circles")
    assert first.copy.endswith("circles-00-2.png") and second.copy.endswith("circles-00-3.png")
    assert digest(dataset / "circles" / "circles-00.png") == existing  # nothing replaced
    assert source.is_file() and digest(source) == before and source.stat().st_mtime_ns == stat.st_mtime_ns
    assert digest(tmp_path / first.copy) == before

    new_class = copy_into_class(dataset, source, " hexagons ")
    assert new_class.class_name == "hexagons" and (dataset / "hexagons" / "circles-00.png").is_file()

    assert undo(first) and not (dataset / "circles" / "circles-00-2.png").exists()
    assert source.is_file() and digest(source) == before  # undo deletes the copy only
    (dataset / "circles" / "circles-00-3.png").write_bytes(b"changed since")
    assert not undo(second) and (dataset / "circles" / "circles-00-3.png").is_file()  # changed: kept


@pytest.mark.parametrize("name", ["", "  ", "../up", "a/b", ".hidden"])
def test_bad_class_names_are_refused(tmp_path, name):
    dataset = make_shapes(tmp_path / "set", per_class=1)
    with pytest.raises(CorrectionError):
        copy_into_class(dataset, dataset / "circles" / "circles-00.png", name)


def test_retrain_computes_only_the_new_images_and_keeps_held_out_accuracy(tmp_path, seeded_model, count_forwards):
    import random

    dataset = tmp_path / "set"
    make_shapes(dataset / "train", per_class=8)
    make_shapes(dataset / "val", per_class=4, seed=21)
    settings = FinetuneSettings(epochs=8, seed=0)
    before = run_finetune(dataset, settings, seeded_model, "seeded")

    start = count_forwards["images"]  # the first run's forwards
    rng = random.Random(7)
    elsewhere = tmp_path / "mistakes"
    elsewhere.mkdir()
    added = []
    for k, kind in enumerate(["circles", "squares", "triangles"] * 2):
        source = elsewhere / f"shot-{k}.png"
        draw_shape(kind, rng).save(source)
        added.append(copy_into_class(dataset / "train", source, kind))
    after = run_finetune(dataset, settings, seeded_model, "seeded")
    assert count_forwards["images"] - start == len(added) == after.computed  # only the new images went through
    assert after.train_count == before.train_count + len(added)
    assert after.val_accuracy >= before.val_accuracy  # the same held-out images, no worse


@pytest.mark.skipif(not samples_module.DEBIAN_FASHION_MNIST.is_dir(),
                    reason="needs Debian's dataset-fashion-mnist (make test installs it when run as root)")
def test_correct_and_retrain_on_the_fashion_mnist_sample(tmp_path, seeded_model, count_forwards):
    """The app's Fashion-MNIST sample set (real images), held-out images in val/, and the user's
    own Fashion-MNIST images filed as corrections: copies, only they are computed, no worse."""
    classes, pixels, labels = samples_module._fashion_mnist(None)
    dataset = tmp_path / "fashion"
    shutil.copytree(samples_module.sample_dataset("fashion-mnist", per_class=12), dataset / "train")
    mine = tmp_path / "my-photos"
    mine.mkdir()
    corrections = []
    for label, name in enumerate(classes):
        indices = np.flatnonzero(labels == label)
        (dataset / "val" / name).mkdir(parents=True)
        for n, i in enumerate(indices[100:110]):  # held out: never in train
            Image.fromarray(pixels[i]).save(dataset / "val" / name / f"held-{n}.png")
        for n, i in enumerate(indices[50:53]):  # the user's images, outside the data set
            path = mine / f"{name}-{n}.png"
            Image.fromarray(pixels[i]).save(path)
            corrections.append((path, name))
    before_bytes = {path: digest(path) for path, _ in corrections}
    settings = FinetuneSettings(epochs=8, seed=0)
    before = run_finetune(dataset, settings, seeded_model, "seeded")

    start = count_forwards["images"]  # the first run's forwards
    added = [copy_into_class(dataset / "train", path, name) for path, name in corrections]
    after = run_finetune(dataset, settings, seeded_model, "seeded")
    assert {path: digest(path) for path, _ in corrections} == before_bytes  # the originals, byte for byte
    assert all(digest(Path(a.copy)) == before_bytes[Path(a.source)] for a in added)  # copies of them
    assert count_forwards["images"] - start == len(added) == after.computed == 30  # only the new ones went through
    assert after.train_count == before.train_count + 30 and after.val_count == before.val_count == 100
    assert after.val_accuracy >= before.val_accuracy, (before.val_accuracy, after.val_accuracy)
