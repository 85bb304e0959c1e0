"""The image a unit wants: gradient ascent from noise, the Lucid recipe.

The image is not optimised pixel by pixel but through a decorrelated parameterisation
(Olah et al., "Feature Visualization", Distill 2017): its 2-D Fourier spectrum, scaled by
1/frequency so that every frequency learns at the same pace, and its colours through
the square root of ImageNet's colour correlation, squashed by a sigmoid into [0, 1].
Each step the network sees it padded, jittered, scaled and rotated a little at random
(one affine resampling), so the image cannot excite the unit through pixel-exact noise.

The objective is a channel's mean over positions (Lucid's channel objective), or an fc
unit's (a class logit's) value. The network runs only as far as the unit's layer, so a
conv layer is read before its in-place ReLU.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator

import numpy as np
import torch
import torch.nn.functional as F

from ..model import AlexNet
from ..preprocess import IMAGENET_MEAN, IMAGENET_STD
from .types import Unit, UnitFrame, UnitPicture, VisualizeSettings

# sqrt of ImageNet's colour correlation (Lucid's color_correlation_svd_sqrt)
_COLOR_SQRT = np.asarray([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)
_COLOR = _COLOR_SQRT / np.max(np.linalg.norm(_COLOR_SQRT, axis=0))
# ReLU and pool layers -> the conv or fc layer whose output they pass on, channel for channel
_BEFORE_RELU = {"features.1": "features.0", "features.2": "features.0", "features.4": "features.3",
                "features.5": "features.3", "features.7": "features.6", "features.9": "features.8",
                "features.11": "features.10", "features.12": "features.10", "classifier.2": "classifier.1",
                "classifier.5": "classifier.4"}
PAD = 12  # pixels of grey around the image before jitter, scale and rotation
JITTER = 12  # largest shift in pixels (Lucid: 8, then 4 after the rotation)
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.9 ... 1.1
ANGLES = tuple(range(-10, 11))  # degrees


class FourierImage(torch.nn.Module):
    """(1, 3, size, size) in [0, 1] from a spectrum parameter; ``seed`` draws the starting noise."""

    def __init__(self, size: int, seed: int, device: torch.device) -> None:
        super().__init__()
        fy = np.fft.fftfreq(size)[:, None]
        fx = np.fft.rfftfreq(size)[None, :]
        freqs = np.sqrt(fx * fx + fy * fy)  # (size, size // 2 + 1)
        scale = 1.0 / np.maximum(freqs, 1.0 / size) * size  # 1/f, and sqrt(h * w)
        generator = torch.Generator().manual_seed(seed)
        spectrum = torch.randn((1, 3, *freqs.shape, 2), generator=generator) * 0.01
        self.spectrum = torch.nn.Parameter(spectrum.to(device))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32, device=device))
        self.register_buffer("color", torch.as_tensor(_COLOR.T, device=device))
        self.size = size

    def forward(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self.scale  # (1, 3, size, size // 2 + 1)
        x = torch.fft.irfft2(spectrum, s=(self.size, self.size)) / 4  # (1, 3, size, size); 1/N as Lucid
        x = (self.color.T @ x.reshape(3, -1)).reshape(1, 3, self.size, self.size)  # decorrelated -> RGB
        return torch.sigmoid(x)


def unit_objective(model: AlexNet, x: torch.Tensor, unit: Unit) -> torch.Tensor:
    """(B,) the unit's activation for normalised images ``x`` (B, 3, H, W): a channel's mean over
    positions, an fc unit's value. Runs the network only as far as the unit's layer."""
    kind, index = unit.layer.split(".")
    for i, module in enumerate(model.features):
        x = module(x)
        if kind == "features" and i == int(index):
            return x[:, unit.channel].mean(dim=(1, 2))
    x = torch.flatten(model.avgpool(x), 1)
    for i, module in enumerate(model.classifier):
        x = module(x)
        if i == int(index):
            return x[:, unit.channel]
    raise ValueError(f"no layer {unit.layer}")


def normalize(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [0, 1] -> the network's input."""
    mean = torch.tensor(IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=images.device).view(1, 3, 1, 1)
    return (images - mean) / std


def picture_value(model: AlexNet, image: np.ndarray, unit: Unit) -> float:
    """The unit's activation for an (H, W, 3) uint8 picture, as the network sees it (no resize)."""
    device = next(model.parameters()).device
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255).to(device)
    with torch.inference_mode():
        return float(unit_objective(model, normalize(x), unit)[0])


def visualize_steps(model: AlexNet, unit: Unit, settings: VisualizeSettings | None = None
                    ) -> Generator[UnitFrame | None, None, UnitPicture]:
    """Gradient ascent, a step per iteration: yields a UnitFrame every ``settings.every`` steps
    (and at the last), None otherwise; returns the UnitPicture. Seeded: the same settings on
    the same weights give the same picture on one machine. The model's parameters are left
    untouched (and their ``requires_grad`` as it was)."""
    s = settings or VisualizeSettings()
    device = next(model.parameters()).device
    rng = random.Random(s.seed)
    image = FourierImage(s.size, s.seed, device)
    start = _to_uint8(image())
    optimizer = torch.optim.Adam(image.parameters(), lr=s.lr, fused=True)  # one kernel, not six passes
    model.eval()
    frozen = [(p, p.requires_grad) for p in model.parameters()]
    try:
        for p, _ in frozen:
            p.requires_grad_(False)
        # The high frequencies' gradients are tiny, and Adam's running squares of them would be
        # denormal floats, which the CPU handles ~10x slower: flushed to zero while this runs.
        torch.set_flush_denormal(True)
        for step in range(1, s.steps + 1):
            optimizer.zero_grad(set_to_none=True)
            x = _transformed(image(), rng)
            # Scaled by the pixel count, undoing the inverse FFT's 1/N: the spectrum's gradients are
            # then far above Adam's epsilon (and clear of denormal floats, which run ~4x slower).
            loss = -unit_objective(model, normalize(x), _ascent_unit(unit)).sum() * (s.size * s.size)
            loss.backward()
            optimizer.step()
            yield UnitFrame(unit, step, s.steps, _to_uint8(image())) if step % s.every == 0 or step == s.steps else None
    finally:
        torch.set_flush_denormal(False)
        for p, was in frozen:
            p.requires_grad_(was)
    final = _to_uint8(image())
    return UnitPicture(unit, final, picture_value(model, final, unit), picture_value(model, start, unit), s)


def _ascent_unit(unit: Unit) -> Unit:
    """The unit whose gradient is followed: a ReLU's or pool's channel is pushed up through the
    layer before its ReLU (the same channel), whose gradient a dead ReLU does not stop."""
    return Unit(_BEFORE_RELU.get(unit.layer, unit.layer), unit.channel)


def _transformed(x: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Pad, then one resampling that jitters, scales and rotates a window of the input's size out of it."""
    out = x.shape[-1]
    x = F.pad(x, (PAD,) * 4, mode="constant", value=0.5)
    side = x.shape[-1]
    angle = math.radians(rng.choice(ANGLES))
    zoom = 1 / rng.choice(SCALES)  # the grid reads a smaller window to scale the image up
    dx, dy = (rng.randint(-JITTER // 2, JITTER // 2) * 2 / side for _ in range(2))
    ratio = out / side
    cos, sin = math.cos(angle) * zoom * ratio, math.sin(angle) * zoom * ratio
    theta = torch.tensor([[[cos, -sin, dx], [sin, cos, dy]]], dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta, [1, 3, out, out], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> (H, W, 3) uint8."""
    return (x.detach()[0].permute(1, 2, 0).clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
