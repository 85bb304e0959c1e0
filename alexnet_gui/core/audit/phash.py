"""A perceptual hash (DCT pHash) for spotting resized, re-encoded or slightly cropped copies.

The picture is reduced to 32x32 grey, its 2-D DCT taken, and the 8x8 lowest
frequencies (the DC term left out) compared with their median: 63 bits that
describe the picture's coarse layout of light and dark. Resizing, JPEG
re-compression and a crop of a few percent move few of them; two different
pictures differ in about half. Pictures with little structure (a shape on a
plain ground) can share a layout without being copies, so a pair must also
match in colour: the 4x4 RGB thumbnail (``colour_signature``), which a resize,
re-encode or small crop barely moves. numpy and Pillow only (no torch, no Qt).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
from PIL import Image

from ..images import ImageLoadError, load_image

HASH_SIZE = 32  # the grey picture's side
LOW = 8  # the low-frequency block kept
BITS = LOW * LOW - 1  # 63: the DC term carries only the mean brightness


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    """(32, 32) orthonormal DCT-II: C @ x @ C.T is the 2-D transform of x."""
    n = HASH_SIZE
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    c = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    c[0] /= np.sqrt(2)
    return c


def phash_bits(img: Image.Image) -> np.ndarray:
    """(63,) bool: the picture's perceptual hash."""
    grey = img.convert("L").resize((HASH_SIZE, HASH_SIZE), Image.Resampling.BOX)
    x = np.asarray(grey, dtype=np.float64)  # (32, 32)
    c = _dct_matrix()
    low = (c @ x @ c.T)[:LOW, :LOW].ravel()[1:]  # (63,) without the DC term
    return low > np.median(low)


def colour_signature(img: Image.Image) -> np.ndarray:
    """(48,) float32: the picture's 4x4 RGB thumbnail, 0-255."""
    return np.asarray(img.convert("RGB").resize((4, 4), Image.Resampling.BOX), dtype=np.float32).ravel()


def phash_file(path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(hash bits, colour signature) of the image at ``path``, None when it cannot be decoded."""
    try:
        img = load_image(path)
    except ImageLoadError:
        return None
    return phash_bits(img), colour_signature(img)


def phash_files(paths: list[str]) -> list[tuple[np.ndarray, np.ndarray] | None]:
    # Decoding releases the GIL: two threads keep a core and the disk busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(phash_file, paths))


def hamming_matrix(bits: np.ndarray) -> np.ndarray:
    """(N, 63) bool -> (N, N) number of differing bits."""
    b = bits.astype(np.float32)
    return b @ (1 - b).T + (1 - b) @ b.T


def colour_distance_matrix(signatures: np.ndarray) -> np.ndarray:
    """(N, 48) -> (N, N) mean absolute difference of the thumbnails, in 0-255 levels."""
    return np.abs(signatures[:, None, :] - signatures[None, :, :]).mean(axis=2)
