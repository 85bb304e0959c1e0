"""Occlusion (Zeiler & Fergus) as steps: a grey square slid over the crop, a batch of
occluded copies per step.

Each pixel's value is the drop in the class probability, averaged over the positions
of the square that cover it; what Captum's ``Occlusion`` computes with a softmax
forward, a zero baseline (the ImageNet mean colour: grey) and windows of
(3, patch, patch) moved by (3, stride, stride); the tests check the two agree. It is
written out here because Captum's call runs every batch to its end, and the worker
must answer a drop between two batches and stop a cancelled run at the next.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import torch
from torch import nn


def positions(size: int, patch: int, stride: int) -> list[int]:
    """Where the square's top (or left) edge goes, as Captum places its windows."""
    return list(range(0, size - patch + 1, stride))


def occlusion_steps(model: nn.Module, x: torch.Tensor, target: int, base_probability: float, patch: int,
                    stride: int, batch: int, progress: Callable[[int, int], None] | None = None,
                    ) -> Generator[None, None, torch.Tensor]:
    """Yields after each batch; returns the (224, 224) map of probability drops (CPU float32)."""
    _, _, h, w = x.shape
    spots = [(t, left) for t in positions(h, patch, stride) for left in positions(w, patch, stride)]
    total = torch.zeros(h, w, dtype=torch.float32, device=x.device)
    count = torch.zeros(h, w, dtype=torch.float32, device=x.device)
    for start in range(0, len(spots), batch):
        chunk = spots[start:start + batch]
        xs = x.expand(len(chunk), -1, -1, -1).clone()
        for i, (t, left) in enumerate(chunk):
            xs[i, :, t:t + patch, left:left + patch] = 0.0
        with torch.inference_mode():
            probs = torch.softmax(model(xs).float(), dim=1)[:, target]
        drops = base_probability - probs
        for i, (t, left) in enumerate(chunk):
            total[t:t + patch, left:left + patch] += drops[i]
            count[t:t + patch, left:left + patch] += 1.0
        done = start + len(chunk)
        if progress is not None:
            progress(done, len(spots))
        if done < len(spots):
            yield
    return (total / count.clamp(min=1.0)).cpu()
