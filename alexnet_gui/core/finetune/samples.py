"""Small sample data sets to try fine-tuning on, written once into the cache.

Each becomes ``cache_dir()/samples/<name>-<per_class>/<class>/<n>.png``, a
class-per-folder set of a few hundred images, written to a temp folder and
renamed into place, so the folder exists only when complete.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package (idx
files under /usr/share/datasets/fashion-mnist) or from the same files copied
into ``cache_dir()/datasets/fashion-mnist``; else its two test-set files are
downloaded from torchvision's mirror.
CIFAR-10 comes through torchvision (download, or ``cifar-10-python.tar.gz``
copied into ``cache_dir()/datasets``). Offline without the files raises a
FinetuneError that says how to get them.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from .cache import cache_dir
from .errors import FinetuneError

# The sets on offer, by the name ``sample_dataset`` takes, with the title people read.
SAMPLE_TITLES = {"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot",
)  # fmt: skip
FASHION_MNIST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")  # the test set: 1,000 images a class
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def datasets_dir() -> Path:
    """Where downloaded or hand-copied source data sets live."""
    return cache_dir() / "datasets"


def sample_dataset(name: str, per_class: int = 30, source_dir: str | os.PathLike | None = None) -> Path:
    """The folder of the sample set ``name`` ("fashion-mnist" or "cifar10"), made on first use.

    ``source_dir`` overrides where Fashion-MNIST's idx files are looked for.
    """
    if name not in SAMPLE_DATASETS:
        raise FinetuneError(f"unknown sample data set {name!r}: use one of {', '.join(SAMPLE_DATASETS)}")
    if per_class < 1:
        raise FinetuneError(f"per_class must be >= 1, got {per_class}")
    target = cache_dir() / "samples" / f"{name}-{per_class}"
    if target.is_dir():
        return target
    classes, pixels, labels = SAMPLE_DATASETS[name](source_dir)  # pixels: (N, H, W) or (N, H, W, 3) uint8
    _write_atomically(target, classes, pixels, labels, per_class)
    return target


def _write_atomically(target: Path, classes, pixels: np.ndarray, labels: np.ndarray, per_class: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        for label, name in enumerate(classes):
            folder = tmp / name
            folder.mkdir()
            for n, index in enumerate(np.flatnonzero(labels == label)[:per_class]):
                Image.fromarray(pixels[index]).save(folder / f"{name}-{n:03d}.png")
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # another process finishing first is fine; anything else is not
                raise
    except OSError as exc:
        raise FinetuneError(f"could not write the sample data set to {target.parent}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- Fashion-MNIST


def _fashion_mnist(source_dir: str | os.PathLike | None) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    places = [Path(source_dir)] if source_dir else [
        DEBIAN_FASHION_MNIST, datasets_dir() / "fashion-mnist", datasets_dir() / "FashionMNIST" / "raw",
    ]  # fmt: skip
    for folder in places:
        images, labels = (_idx_file(folder, stem) for stem in FASHION_MNIST_FILES)
        if images and labels:
            return FASHION_MNIST_CLASSES, read_idx(images), read_idx(labels)
    wanted = " and ".join(f"{stem}.gz" for stem in FASHION_MNIST_FILES)
    if source_dir:
        raise FinetuneError(f"{source_dir}: no Fashion-MNIST files found there (it needs {wanted})")

    def load():
        # Only the two test-set files the sample is drawn from (4.4 MB): torchvision's
        # FashionMNIST(download=True) would fetch the 26 MB training set first, and name it when it fails.
        from torchvision.datasets import FashionMNIST
        from torchvision.datasets.utils import download_and_extract_archive

        raw, md5 = datasets_dir() / "FashionMNIST" / "raw", dict(FashionMNIST.resources)
        for stem in FASHION_MNIST_FILES:
            name, errors = f"{stem}.gz", []
            for mirror in FashionMNIST.mirrors:
                try:
                    download_and_extract_archive(f"{mirror}{name}", str(raw), filename=name, md5=md5[name])
                    break
                except (RuntimeError, OSError) as exc:  # URLError is an OSError
                    errors.append(" ".join(str(exc).split()) or type(exc).__name__)
            else:
                raise RuntimeError(f"{name}: {errors[-1] if errors else 'no mirror to download from'}")
        return tuple(read_idx(raw / f"{stem}.gz") for stem in FASHION_MNIST_FILES)

    pixels, labels = _download(
        SAMPLE_TITLES["fashion-mnist"],
        load,
        f"install Debian's package (apt-get install dataset-fashion-mnist) or copy {wanted} "
        f"into {datasets_dir() / 'fashion-mnist'}",
    )
    return FASHION_MNIST_CLASSES, pixels, labels


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's format, optionally gzipped) as a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
        zero, dtype, ndim = struct.unpack_from(">HBB", data)
        if zero != 0 or dtype != 0x08:
            raise ValueError("not an unsigned-byte idx file")
        shape = struct.unpack_from(f">{ndim}I", data, 4)
        array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
        return array[: int(np.prod(shape))].reshape(shape)
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise FinetuneError(f"{path}: not a readable idx file ({exc})") from exc


# ---------------------------------------------------------------- CIFAR-10


def _cifar10(source_dir: str | os.PathLike | None) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    def load():
        from torchvision.datasets import CIFAR10

        ds = CIFAR10(root=str(source_dir or datasets_dir()), train=False, download=True)
        return ds.data, np.asarray(ds.targets)

    hint = f"copy cifar-10-python.tar.gz (from www.cs.toronto.edu/~kriz/cifar.html) into {source_dir or datasets_dir()}"
    pixels, labels = _download(SAMPLE_TITLES["cifar10"], load, hint)
    return CIFAR10_CLASSES, pixels, labels


def _download(title: str, load: Callable[[], tuple[np.ndarray, np.ndarray]], hint: str):
    try:
        datasets_dir().mkdir(parents=True, exist_ok=True)
        with contextlib.redirect_stdout(sys.stderr):  # torchvision prints; stdout may be JSON
            return load()
    except Exception as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FinetuneError(f"{title} is not on this machine and could not be downloaded ({cause}): {hint}") from exc


SAMPLE_DATASETS: dict[str, Callable] = {"fashion-mnist": _fashion_mnist, "cifar10": _cifar10}
