"""Forward passes, softmax and top-k with class names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import torch

from .images import ImageLoadError, load_image
from .model import AlexNet, InputTooSmallError
from .prediction import ClassScore, Prediction
from .prefetch import prepared_ahead
from .preprocess import normalized_batch, resized_crop


def forward(model: AlexNet, batch: torch.Tensor, device: torch.device | None = None) -> torch.Tensor:
    """(B, 3, H, W) -> (B, num_classes) logits on the CPU, eval mode, no autograd."""
    device = device or next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        return model(batch.to(device, non_blocking=True)).float().cpu()


def top_k(logits: torch.Tensor, class_names: Sequence[str], k: int = 5) -> list[list[ClassScore]]:
    """(B, C) logits -> for each row the ``k`` most probable classes, highest first."""
    probs = torch.softmax(logits.float(), dim=1)
    k = max(1, min(k, probs.shape[1]))
    values, indices = probs.topk(k, dim=1)
    out = []
    for vals, idxs in zip(values.tolist(), indices.tolist()):
        out.append([ClassScore(_name(class_names, i), i, p) for p, i in zip(vals, idxs)])
    return out


def _name(class_names: Sequence[str], index: int) -> str:
    return class_names[index] if index < len(class_names) else f"class {index}"


@dataclass
class LoadedBatch:
    """One batch ready for the model: crops for the images that loaded, errors for the rest."""

    paths: list[str]
    crops: list[np.ndarray]  # (224, 224, 3) uint8 per image that loaded
    slots: list[int]  # index into ``paths`` of each crop
    errors: dict[int, str]  # index into ``paths`` -> message
    images: dict[int, "object"]  # index -> RGB PIL image, kept when ``keep_images``

    @cached_property
    def tensors(self) -> torch.Tensor | None:
        """(n, 3, 224, 224) normalised; made on first use, on the thread that runs the model.

        Not on the decoding thread: float batches (19 MB for 32 images) allocated there
        and freed here grew the process by ~200 MB per 1,000 images (glibc keeps
        per-thread arenas); uint8 crops are an eighth of that and stay put."""
        return normalized_batch(self.crops) if self.crops else None


def load_batch(paths: Sequence[str], keep_images: bool = False) -> LoadedBatch:
    """Decode, resize and crop (Pillow only: runs well on a decoding thread)."""
    crops, slots, errors, images = [], [], {}, {}
    for i, p in enumerate(paths):
        try:
            img = load_image(p)
            crops.append(resized_crop(img))
            slots.append(i)
            if keep_images:
                images[i] = img
        except ImageLoadError as exc:
            errors[i] = str(exc)
    return LoadedBatch(list(paths), crops, slots, errors, images)


def iter_batches(paths: Sequence[str], batch_size: int = 32, keep_images: bool = False):
    """Yield :class:`LoadedBatch` es in order; the next batch is decoded on a helper
    thread while the caller runs the model on the current one (``prefetch``)."""
    chunks = [list(paths[i : i + batch_size]) for i in range(0, len(paths), batch_size)]
    with prepared_ahead(partial(load_batch, keep_images=keep_images), chunks) as batches:
        yield from batches


def predictions_for(batch: LoadedBatch, logits: torch.Tensor | None, class_names: Sequence[str],
                    k: int = 5, seconds: float = 0.0) -> list[Prediction]:
    """Merge a batch's logits and load errors back into input order."""
    out: list[Prediction | None] = [None] * len(batch.paths)
    for i, msg in batch.errors.items():
        out[i] = Prediction(batch.paths[i], error=msg)
    if logits is not None:
        per_image = seconds / max(len(batch.slots), 1)
        for slot, top in zip(batch.slots, top_k(logits, class_names, k)):
            out[slot] = Prediction(batch.paths[slot], top, seconds=per_image)
    return [p for p in out if p is not None]


def classify_paths(
    model: AlexNet,
    paths: Iterable[str | Path],
    class_names: Sequence[str],
    k: int = 5,
    batch_size: int = 32,
    device: torch.device | None = None,
    on_batch: Callable[[list[Prediction]], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    engine=None,
) -> list[Prediction]:
    """Classify image files in batches; a bad file becomes an error entry, never an exception.

    ``on_batch`` receives each batch's predictions (in input order) as soon as they exist;
    ``cancelled`` is checked before every batch. ``engine`` (a ``core.engine`` InferenceEngine)
    runs the forward passes when given; else torch on ``model``.
    """
    import time

    results: list[Prediction] = []
    for batch in iter_batches([str(p) for p in paths], batch_size):
        if cancelled is not None and cancelled():
            break
        logits, t0 = None, time.perf_counter()
        if batch.tensors is not None:
            logits = engine.forward(batch.tensors) if engine is not None else forward(model, batch.tensors, device)
        preds = predictions_for(batch, logits, class_names, k, time.perf_counter() - t0)
        results.extend(preds)
        if on_batch is not None:
            on_batch(preds)
    return results


__all__ = ["ClassScore", "Prediction", "LoadedBatch", "load_batch", "iter_batches", "predictions_for",
           "forward", "top_k", "classify_paths", "InputTooSmallError"]
