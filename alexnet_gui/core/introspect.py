"""Looking inside: learned kernels and the activations of every feature layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .model import AlexNet
from .render import conv1_tiles, kernel_mean_tiles

CONV_LAYERS = ("features.0", "features.3", "features.6", "features.8", "features.10")


def conv1_filters(model: AlexNet, per_filter: bool = True) -> np.ndarray:
    """(64, 11, 11, 3) float32 in [0, 1]: conv1's kernels as RGB tiles."""
    w = model.features[0].weight.detach().float().cpu().numpy()  # (64, 3, 11, 11)
    return conv1_tiles(w, per_filter)


def filter_ranges(model: AlexNet, layer: str = "features.0") -> list[tuple[float, float]]:
    """(min, max) raw weight of each output channel's kernel."""
    w = conv_layer(model, layer).weight.detach().float().cpu()
    flat = w.reshape(w.shape[0], -1)
    return list(zip(flat.min(dim=1).values.tolist(), flat.max(dim=1).values.tolist()))


def conv_layer(model: AlexNet, name: str) -> nn.Conv2d:
    if name not in CONV_LAYERS:
        raise ValueError(f"{name!r} is not a conv layer; choose one of {', '.join(CONV_LAYERS)}")
    return model.features[int(name.split(".")[1])]


def kernel_tiles(model: AlexNet, layer: str, per_filter: bool = True) -> np.ndarray:
    """(C_out, k, k) float32 in [0, 1]: each output channel's kernel averaged over
    its input channels, as grayscale. For conv1 the RGB tiles of :func:`conv1_filters`
    are more telling."""
    w = conv_layer(model, layer).weight.detach().float().cpu().numpy()  # (C_out, C_in, k, k)
    return kernel_mean_tiles(w, per_filter)


@dataclass(frozen=True)
class LayerActivation:
    name: str  # "features.1"
    kind: str  # "ReLU"
    maps: np.ndarray  # (C, H, W) float32

    @property
    def label(self) -> str:
        c, h, w = self.maps.shape
        return f"{self.name} {self.kind} {c}x{h}x{w}"


def feature_layers(model: AlexNet) -> list[tuple[str, str]]:
    """(name, kind) of every module in ``features``, in order."""
    return [(f"features.{i}", type(m).__name__) for i, m in enumerate(model.features)]


def feature_maps(model: AlexNet, x: torch.Tensor) -> tuple[list[LayerActivation], torch.Tensor]:
    """Activations of every ``features`` layer for one image, plus the logits.

    ``x`` is (3, H, W) or (1, 3, H, W). The ReLUs are in place, so a conv's output
    tensor is overwritten by the ReLU after it: each hook clones what it sees.
    """
    if x.dim() == 3:
        x = x.unsqueeze(0)
    device = next(model.parameters()).device
    captured: list[LayerActivation] = []
    handles = []
    for name, kind in feature_layers(model):
        module = model.features[int(name.split(".")[1])]

        def hook(_m, _inp, out, name=name, kind=kind):
            maps = out[0].detach().float().cpu().clone(memory_format=torch.contiguous_format)  # (C, H, W)
            captured.append(LayerActivation(name, kind, maps.numpy()))

        handles.append(module.register_forward_hook(hook))
    try:
        model.eval()
        with torch.inference_mode():
            logits = model(x.to(device)).float().cpu()
    finally:
        for h in handles:
            h.remove()
    return captured, logits
