"""Looking inside: learned kernels and the activations of every feature layer."""

from __future__ import annotations

import torch
from torch import nn

from .activations import LayerActivation
from .model import AlexNet, check_input_size

CONV_LAYERS = ("features.0", "features.3", "features.6", "features.8", "features.10")


def conv_layer(model: AlexNet, name: str) -> nn.Conv2d:
    if name not in CONV_LAYERS:
        raise ValueError(f"{name!r} is not a conv layer; choose one of {', '.join(CONV_LAYERS)}")
    return model.features[int(name.split(".")[1])]


def feature_layers(model: AlexNet) -> list[tuple[str, str]]:
    """(name, kind) of every module in ``features``, in order."""
    return [(f"features.{i}", type(m).__name__) for i, m in enumerate(model.features)]


def feature_maps(model: AlexNet, x: torch.Tensor) -> list[LayerActivation]:
    """Activations of every ``features`` layer for one image.

    ``x`` is (3, H, W) or (1, 3, H, W). Only ``features`` runs: the fully connected
    layers (two thirds of a batch-1 forward on a CPU, reading 234 MB of weights)
    are not needed for the maps. The ReLUs are in place, so a conv's output tensor
    is overwritten by the ReLU after it: each hook clones what it sees.
    """
    if x.dim() == 3:
        x = x.unsqueeze(0)
    check_input_size(x.shape[-2], x.shape[-1])
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
            model.features(x.to(device))
    finally:
        for h in handles:
            h.remove()
    return captured
