"""The on-disk feature cache: one small file per (image, base weights, layer, view).

Lives in ``cache_dir()/features``. The key is a SHA-256 over the image file's
content hash, the base weights' hash, ``PREPROCESS_ID``, the layer and the view,
so a changed image, other weights or another preprocessing never hit a stale
entry, while other epochs, learning rates or seeds reuse every entry.

An entry is a 48-byte header (magic, length, CRC-32 of the payload, the key's
digest) followed by float32 values. Reading one costs an open, a read and a
CRC (tens of microseconds), so 1,000 cached images load in well under a
second. A short, garbled or foreign file fails the checks, counts as a miss and
is rewritten. Writes go to a temp file that is renamed into place, and a
failing write (read-only or full disk) only turns caching off for the run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import write_atomically
from ..paths import cache_dir
from ..preprocess import PREPROCESS_ID

_MAGIC = b"ANGFEAT1"
_HEADER = struct.Struct("<8sII32s")  # magic, value count, crc32, key digest: 48 bytes
_SUFFIX = ".f32"
_VERSION = "1"  # bump to orphan every entry when the format or the maths changes


def feature_key(content_sha256: str, base_sha256: str, layer: str, view: str) -> str:
    text = "|".join((_VERSION, content_sha256, base_sha256, PREPROCESS_ID, layer, view))
    return hashlib.sha256(text.encode()).hexdigest()


class FeatureCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_dir()) / "features"
        self.writable = True
        self.write_error: str | None = None

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / (key + _SUFFIX)

    def get(self, key: str, dim: int) -> np.ndarray | None:
        """The (dim,) float32 vector stored under ``key``, or None when absent or invalid."""
        try:
            with open(self._path(key), "rb") as f:
                data = f.read()
        except OSError:
            return None
        if len(data) != _HEADER.size + 4 * dim:
            return None
        magic, count, crc, digest = _HEADER.unpack_from(data)
        payload = memoryview(data)[_HEADER.size :]
        if magic != _MAGIC or count != dim or digest != bytes.fromhex(key) or zlib.crc32(payload) != crc:
            return None
        return np.frombuffer(payload, dtype="<f4")

    def put(self, key: str, vector: np.ndarray) -> bool:
        """Store a (dim,) vector atomically; False (and caching off) when the disk refuses."""
        if not self.writable:
            return False
        payload = np.ascontiguousarray(vector, dtype="<f4").tobytes()
        header = _HEADER.pack(_MAGIC, len(payload) // 4, zlib.crc32(payload), bytes.fromhex(key))
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # No fsync: an entry lost in a crash is recomputed, and fsync per image is slow.
            write_atomically(path, lambda f: f.write(header + payload), fsync=False)
        except OSError as exc:
            self.writable = False
            self.write_error = f"{self.root}: {exc.strerror or exc}; features are not cached"
            return False
        return True


@dataclass(frozen=True)
class CacheInfo:
    path: str
    feature_entries: int
    feature_bytes: int
    sample_bytes: int


def cache_info() -> CacheInfo:
    root = cache_dir()
    entries, feature_bytes = _tally(root / "features", _SUFFIX)
    _, sample_bytes = _tally(root / "samples", "")
    return CacheInfo(str(root), entries, feature_bytes, sample_bytes)


def clear_cache(samples: bool = False) -> int:
    """Delete cached features and the pictures units want (and the sample data sets when
    ``samples``); bytes freed."""
    root = cache_dir()
    freed = 0
    for name in ("features", "units", "samples") if samples else ("features", "units"):
        folder = root / name
        freed += _tally(folder, "")[1]
        shutil.rmtree(folder, ignore_errors=True)
    return freed


def _tally(folder: Path, suffix: str) -> tuple[int, int]:
    count = size = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            try:
                size += os.stat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
            count += name.endswith(suffix)
    return count, size
