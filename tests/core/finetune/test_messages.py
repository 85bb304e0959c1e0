"""What the fine-tune core tells the user: each message once, naming the right files; mistakes in a useful order."""

from __future__ import annotations

import shutil
from urllib.error import URLError

import pytest

from alexnet_gui.core.finetune import FinetuneError, FinetuneSettings, run_finetune, sample_dataset, scan_folder
from alexnet_gui.core.finetune import samples as samples_module

from .conftest import make_shapes


def test_flat_folder_message_gives_its_advice_once(tmp_path):
    flat = tmp_path / "photos"
    make_shapes(tmp_path / "shapes", per_class=2)
    flat.mkdir()
    for p in (tmp_path / "shapes").rglob("*.png"):
        shutil.copy(p, flat / p.name)
    report = scan_folder(flat)
    assert not report.ok
    (problem,) = report.problems
    assert str(flat) in problem and "directly" in problem
    # One piece of advice, not the same one twice in other words.
    assert problem.count("move") + problem.count("put ") == 1, problem
    assert problem.count("subfolder") <= 2, problem


def test_empty_folder_message_unchanged(tmp_path):
    (tmp_path / "empty").mkdir()
    (problem,) = scan_folder(tmp_path / "empty").problems
    assert problem == f"{tmp_path / 'empty'} has no class subfolders: put each class's images in its own subfolder"


def test_offline_fashion_mnist_message_names_only_the_files_it_needs(monkeypatch, tmp_path):
    """The sample is drawn from the t10k (test) files: the message must not send the user after the training set."""
    monkeypatch.setattr(samples_module, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
    tried = []

    def offline(url, *args, **kwargs):  # never reach the internet
        tried.append(url.rsplit("/", 1)[-1])
        raise URLError("network unreachable")

    import torchvision.datasets.mnist
    import torchvision.datasets.utils

    monkeypatch.setattr(torchvision.datasets.utils, "download_and_extract_archive", offline)
    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", offline)
    with pytest.raises(FinetuneError) as info:
        sample_dataset("fashion-mnist")
    text = str(info.value)
    assert "train-images" not in text and "train-labels" not in text, text
    assert "t10k-images-idx3-ubyte.gz" in text and "t10k-labels-idx1-ubyte.gz" in text
    assert "network unreachable" in text  # the cause, not an empty one
    assert tried and all(name.startswith("t10k-") for name in tried)


def test_source_dir_without_files_names_them(tmp_path):
    with pytest.raises(FinetuneError) as info:
        sample_dataset("fashion-mnist", source_dir=tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value) and "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_mistakes_come_most_confident_first(tmp_path, seeded_model):
    """Labels unrelated to the pictures: many mistakes, to be listed surest first."""
    source = make_shapes(tmp_path / "shapes", per_class=10)
    mixed = tmp_path / "mixed"
    for i, p in enumerate(sorted(source.rglob("*.png"))):
        (mixed / "abc"[i % 3]).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, mixed / "abc"[i % 3] / p.name)
    settings = FinetuneSettings(epochs=2, val_fraction=0.5)
    result = run_finetune(mixed, settings, seeded_model, "5e" * 32, "cpu")
    confidences = [m.confidence for m in result.mistakes]
    assert len(set(confidences)) >= 2, "the test needs mistakes of different confidence"
    assert confidences == sorted(confidences, reverse=True)
