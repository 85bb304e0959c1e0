"""Integrated Gradients (Sundararajan et al.) with SmoothGrad noise, as steps.

Each step is Captum's ``IntegratedGradients`` on one noisy copy of the crop (noise
std a fraction of the input's range, seeded), from a grey baseline (zeros: the
ImageNet mean colour), all ``ig_steps`` points of the path in one batch; the steps'
attributions are averaged, as Captum's ``NoiseTunnel`` in "smoothgrad" mode does.
The map is the magnitude of the averaged attribution summed over the colours.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import torch
from torch import nn


def integrated_steps(model: nn.Module, x: torch.Tensor, target: int, ig_steps: int, samples: int, noise: float,
                     seed: int, progress: Callable[[int, int], None] | None = None,
                     ) -> Generator[None, None, torch.Tensor]:
    """Yields after each noisy sample; returns the (224, 224) map (CPU float32)."""
    from captum.attr import IntegratedGradients

    generator = torch.Generator().manual_seed(seed)
    std = float(noise) * float(x.max() - x.min())
    ig = IntegratedGradients(model)
    acc = torch.zeros_like(x, dtype=torch.float32)
    for i in range(samples):
        eps = torch.randn(x.shape, generator=generator).to(x.device) * std
        attr = ig.attribute(x + eps, baselines=torch.zeros_like(x), target=target, n_steps=ig_steps,
                            internal_batch_size=ig_steps)
        acc += attr.detach().float()
        if progress is not None:
            progress(i + 1, samples)
        if i + 1 < samples:
            yield
    return (acc[0] / samples).abs().sum(dim=0).cpu()
