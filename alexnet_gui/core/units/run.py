"""A unit's top images and its picture, each as steps: what the worker's jobs and the
command line run. The picture is read from its cache when it was made before."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import TypeVar

import torch

from ..finetune.cache import FeatureCache
from ..model import AlexNet
from .picture_cache import PictureCache
from .scan import Progress, check_unit, scan_steps
from .top import TOP_K, ranked, top_image
from .types import TopImages, Unit, UnitFrame, UnitPicture, VisualizeSettings
from .visualize import visualize_steps

T = TypeVar("T")


def top_images_steps(model: AlexNet, paths: Sequence[str], layer: str, channel: int, weights: str,
                     device: torch.device, cache: FeatureCache | None = None, progress: Progress | None = None,
                     batch_size: int | None = None, k: int = TOP_K) -> Generator[None, None, TopImages]:
    """Scan ``paths`` at the unit's layer (cached summaries first), then rank the unit's images and
    cut their patches, a step per image (a big photo's decode is a step of its own)."""
    unit = Unit(check_unit(model, layer, channel), channel)
    scan = yield from scan_steps(model, paths, [unit.layer], weights, device, cache, batch_size, progress)
    images = []
    for path, value, position in ranked(scan, unit, k):
        images.append(top_image(path, value, unit.layer, position))
        yield
    return TopImages(unit, images, len(scan.paths), scan.computed, dict(scan.failed))


def picture_steps(model: AlexNet, layer: str, channel: int, weights: str, settings: VisualizeSettings | None = None,
                  cache: PictureCache | None = None) -> Generator[UnitFrame | None, None, UnitPicture]:
    """The unit's picture: from the cache when made before with these weights and settings,
    else made by ``visualize_steps`` (frames on the way) and stored."""
    settings = settings or VisualizeSettings()
    unit = Unit(check_unit(model, layer, channel), channel)
    cache = cache or PictureCache()
    kept = cache.get(weights, unit, settings)
    if kept is not None:
        return kept
    picture = yield from visualize_steps(model, unit, settings)
    cache.put(weights, picture)
    return picture


def real_values_steps(model: AlexNet, paths: Sequence[str], layer: str, channel: int, device: torch.device,
                      batch_size: int = 32) -> Generator[None, None, tuple[dict[str, float], dict[str, str]]]:
    """The unit's objective (as the picture is scored: a channel's mean, an fc unit's value) for each
    readable image of ``paths``, a batch per step; and the causes for the others."""
    from ..finetune.extract import decode_crops, even_batches
    from ..prefetch import prepared_ahead
    from ..preprocess import normalized_batch
    from .visualize import unit_objective

    unit = Unit(check_unit(model, layer, channel), channel)
    paths = [str(p) for p in paths]
    values: dict[str, float] = {}
    failed: dict[str, str] = {}
    batches = even_batches(list(range(len(paths))), batch_size)
    model.eval()
    with prepared_ahead(decode_crops, [[paths[i] for i in b] for b in batches], name="unit-decode") as decoded:
        for batch in batches:
            crops, errors = next(decoded)
            failed.update({paths[batch[j]]: why for j, why in errors.items()})
            rows = [paths[i] for j, i in enumerate(batch) if j not in errors]
            if rows:
                with torch.inference_mode():
                    got = unit_objective(model, normalized_batch(crops).to(device), unit).float().cpu().tolist()
                values.update(zip(rows, got))
            yield
    return values, failed


def run_to_end(steps: Iterator, stop=lambda: False) -> T:
    """Step ``steps`` to the end and return its value; KeyboardInterrupt when ``stop()`` turns true."""
    while True:
        if stop():
            raise KeyboardInterrupt
        try:
            next(steps)
        except StopIteration as done:
            return done.value
