"""A unit's top images when the ranks of a ``torchrun`` launch each scanned a share of the files.

Every rank ranks its own share (``top_images_steps``) and rank 0 merges: the best ``k`` of the
union of the shares' best ``k`` are the best ``k`` of all the files (a file outside its share's
best ``k`` has ``k`` better ones there), ordered as one process orders them (highest first,
ties by path). No torch here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .top import TOP_K
from .types import TopImages


def merge_top_images(parts: Sequence[TopImages], k: int = TOP_K) -> TopImages:
    """One TopImages from every share's, as if one process had scanned all their files."""
    images = sorted((image for part in parts for image in part.images), key=lambda im: (-im.value, im.path))[:k]
    failed: dict[str, str] = {}
    for part in parts:
        failed.update(part.failed)
    return TopImages(parts[0].unit, images, sum(p.scanned for p in parts), sum(p.computed for p in parts), failed)
