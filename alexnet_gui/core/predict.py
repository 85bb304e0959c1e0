"""Forward passes, softmax and top-k with class names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .images import ImageLoadError, load_image
from .model import AlexNet, InputTooSmallError
from .preprocess import preprocess


@dataclass(frozen=True)
class ClassScore:
    label: str
    index: int
    probability: float


@dataclass
class Prediction:
    """One image's result: ``top`` (highest first) or an ``error`` message."""

    path: str
    top: list[ClassScore] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0  # wall time of this image's forward (shared across a batch)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"path": self.path, "error": self.error}
        return {
            "path": self.path,
            "top": [{"label": s.label, "index": s.index, "probability": s.probability} for s in self.top],
        }


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


def classify_paths(
    model: AlexNet,
    paths: Iterable[str | Path],
    class_names: Sequence[str],
    k: int = 5,
    batch_size: int = 32,
    device: torch.device | None = None,
    on_batch: Callable[[list[Prediction]], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[Prediction]:
    """Classify image files in batches; a bad file becomes an error entry, never an exception.

    ``on_batch`` receives each batch's predictions (in input order) as soon as they exist;
    ``cancelled`` is checked before every batch.
    """
    import time

    results: list[Prediction] = []
    paths = [str(p) for p in paths]
    for start in range(0, len(paths), batch_size):
        if cancelled is not None and cancelled():
            break
        chunk = paths[start : start + batch_size]
        preds: list[Prediction | None] = [None] * len(chunk)
        tensors, slots = [], []
        for i, p in enumerate(chunk):
            try:
                tensors.append(preprocess(load_image(p)))
                slots.append(i)
            except ImageLoadError as exc:
                preds[i] = Prediction(p, error=str(exc))
        if tensors:
            t0 = time.perf_counter()
            logits = forward(model, torch.stack(tensors), device)
            dt = (time.perf_counter() - t0) / len(tensors)
            for slot, top in zip(slots, top_k(logits, class_names, k)):
                preds[slot] = Prediction(chunk[slot], top, seconds=dt)
        batch = [p for p in preds if p is not None]
        results.extend(batch)
        if on_batch is not None:
            on_batch(batch)
    return results


__all__ = ["ClassScore", "Prediction", "forward", "top_k", "classify_paths", "InputTooSmallError"]
