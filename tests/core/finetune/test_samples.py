"""Sample data sets: written once, class per folder, atomically; offline gives a clear error."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from alexnet_gui.core.finetune import FinetuneError, sample_dataset, scan_folder
from alexnet_gui.core.finetune import samples as samples_module


def write_idx(path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(10), 5)  # 5 of each class
    write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (50, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return folder


def test_fashion_mnist_from_idx_files_is_a_class_per_folder_set(fake_fashion, private_cache):
    root = sample_dataset("fashion-mnist", per_class=3, source_dir=fake_fashion)
    assert root.parent == private_cache / "samples"
    report = scan_folder(root)
    assert report.ok and len(report.classes) == 10
    assert set(report.counts.values()) == {3}
    assert "ankle-boot" in report.classes and "t-shirt" in report.classes
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_written_once(fake_fashion, monkeypatch):
    first = sample_dataset("fashion-mnist", per_class=2, source_dir=fake_fashion)
    monkeypatch.setattr(samples_module, "read_idx", lambda path: pytest.fail("read again"))
    assert sample_dataset("fashion-mnist", per_class=2, source_dir=fake_fashion) == first


def test_a_failed_write_leaves_nothing(fake_fashion, monkeypatch, private_cache):
    from PIL import Image

    calls = {"n": 0}
    real_save = Image.Image.save

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(28, "No space left on device")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(FinetuneError, match="No space left"):
        sample_dataset("fashion-mnist", per_class=2, source_dir=fake_fashion)
    assert list((private_cache / "samples").iterdir()) == []


def test_offline_without_files_says_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setattr(samples_module, "DEBIAN_FASHION_MNIST", tmp_path / "absent")

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(FinetuneError, match="apt-get install dataset-fashion-mnist") as info:
        sample_dataset("fashion-mnist")
    assert "could not be downloaded" in str(info.value)
    with pytest.raises(FinetuneError, match="cifar-10-python.tar.gz"):
        sample_dataset("cifar10")


def test_unknown_name_is_refused():
    with pytest.raises(FinetuneError, match="fashion-mnist"):
        sample_dataset("imagenet")


def test_bad_idx_file_is_a_clear_error(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x0d\x03garbage")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(FinetuneError, match="idx file"):
        sample_dataset("fashion-mnist", source_dir=tmp_path)


@pytest.mark.skipif(not samples_module.DEBIAN_FASHION_MNIST.is_dir(), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_package():
    root = sample_dataset("fashion-mnist", per_class=2)
    assert scan_folder(root).counts == dict.fromkeys(samples_module.FASHION_MNIST_CLASSES, 2)
