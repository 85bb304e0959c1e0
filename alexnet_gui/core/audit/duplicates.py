"""Duplicate pairs, three ways, each pair found once by the strongest test that finds it.

1. exact: identical bytes (the scan's SHA-256 of every file).
2. phash: the perceptual hashes differ in at most ``PHASH_MAX_BITS`` of 63 bits
   and the 4x4 colour thumbnails by at most ``COLOUR_MAX_LEVELS``: resized,
   re-compressed and slightly cropped copies, whatever the weights.
3. fc7: with trained weights only, the cosine of the images' fc7 features is
   at least ``FC7_MIN_COSINE``.

Why 12 bits and 8 levels: on the generated test pictures (64-96 px) a 1.5x
resize moved 2 bits, a JPEG re-encode at quality 80 moved 4, a 5 % crop off
two sides 12; two different pictures differ in about half the bits (median
32), but simple pictures (one shape on a plain ground) come as close as 2
bits, which is why the colour must match too: copies stayed within 5 levels
of 255 (the crop) and under 1 (resize, re-encode), while the distinct pictures
that shared a layout were 18 or more apart.

Why 0.95: fc7 comes after a ReLU, so every cosine is >= 0 and unrelated photos
already score around 0.2-0.5 with ImageNet weights, two photos of the same
class 0.5-0.85. A copy that was resized, re-encoded, lightly cropped or
colour-shifted moves fc7 by a few percent and keeps a cosine above 0.95,
where two distinct photos rarely reach it. With random (untrained) weights
fc7 is nearly the same direction for every image (cosines of 0.95-0.99 between
any two), so the test is skipped for untrained weights, and for any weights
whose median cosine between two images of the folder is above
``FC7_MAX_MEDIAN_COSINE`` (features that do not tell images apart).
"""

from __future__ import annotations

import numpy as np

from .phash import BITS, colour_distance_matrix, hamming_matrix
from .results import DuplicatePair

PHASH_MAX_BITS = 12
COLOUR_MAX_LEVELS = 8.0
FC7_MIN_COSINE = 0.95
FC7_MAX_MEDIAN_COSINE = 0.8


def exact_pairs(paths: list[str], digests: list[str]) -> list[DuplicatePair]:
    """Each file with identical bytes to an earlier one, paired with the first of its group."""
    first: dict[str, int] = {}
    pairs = []
    for i, digest in enumerate(digests):
        if digest in first:
            pairs.append(DuplicatePair(paths[first[digest]], paths[i], 1.0, "exact"))
        else:
            first[digest] = i
    return pairs


def _close_pairs(score: np.ndarray, keep: np.ndarray) -> list[tuple[int, int]]:
    """(i, j), i < j, where ``keep`` (N, N) holds, ordered by ``score`` best first."""
    i, j = np.nonzero(np.triu(keep, k=1))
    order = np.lexsort((j, i, -score[i, j]))
    return [(int(i[k]), int(j[k])) for k in order]


def phash_pairs(paths: list[str], hashes: list[tuple[np.ndarray, np.ndarray] | None],
                digests: list[str]) -> list[DuplicatePair]:
    """``hashes``: ``phash.phash_files`` of ``paths`` (None: not decodable)."""
    rows = [k for k, h in enumerate(hashes) if h is not None]
    if len(rows) < 2:
        return []
    distance = hamming_matrix(np.stack([hashes[k][0] for k in rows]))  # (N, N)
    colour = colour_distance_matrix(np.stack([hashes[k][1] for k in rows]))  # (N, N)
    pairs = []
    for a, b in _close_pairs(-distance, (distance <= PHASH_MAX_BITS) & (colour <= COLOUR_MAX_LEVELS)):
        ia, ib = rows[a], rows[b]
        if digests[ia] != digests[ib]:  # identical bytes are already exact pairs
            pairs.append(DuplicatePair(paths[ia], paths[ib], 1.0 - float(distance[a, b]) / BITS, "phash"))
    return pairs


def fc7_pairs(paths: list[str], features: np.ndarray, known: set[frozenset[str]]) -> list[DuplicatePair] | None:
    """Pairs whose (N, 4096) fc7 rows have a cosine >= FC7_MIN_COSINE, less those in ``known``;
    None when the features hardly differ between images (the test would pair everything)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.maximum(norms, 1e-12)
    cosine = unit @ unit.T  # (N, N)
    if len(paths) > 1 and np.median(cosine[np.triu_indices(len(paths), k=1)]) > FC7_MAX_MEDIAN_COSINE:
        return None
    pairs = []
    for a, b in _close_pairs(cosine, (cosine >= FC7_MIN_COSINE) & (norms > 0) & (norms.T > 0)):
        if frozenset((paths[a], paths[b])) not in known:
            pairs.append(DuplicatePair(paths[a], paths[b], float(min(cosine[a, b], 1.0)), "fc7"))
    return pairs


def leaks(pairs: list[DuplicatePair], val_paths: set[str]) -> list[DuplicatePair]:
    """The pairs with one image in train and one in val, turned so ``a`` is the train one."""
    out = []
    for p in pairs:
        if (p.a in val_paths) != (p.b in val_paths):
            out.append(p if p.b in val_paths else DuplicatePair(p.b, p.a, p.similarity, p.kind))
    return out
