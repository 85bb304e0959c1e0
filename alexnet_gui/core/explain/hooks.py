"""What every method needs around the model: the layer by name, ReLUs that are not in
place while an attribution runs, and the class probabilities of one forward."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from .types import LAYERS, canonical_layer


def block(model: nn.Module, layer: str) -> nn.Module:
    """The ReLU module ``layer`` ("features.11" or "relu5") of ``model``."""
    return model.features[int(canonical_layer(layer).split(".")[1])]


@contextlib.contextmanager
def relus_not_inplace(model: nn.Module) -> Iterator[None]:
    """The model's ReLUs work in place (they overwrite the conv's output). Guided backprop
    and layer hooks need the tensors they saw intact, so for the duration of one step
    every ReLU makes a new tensor; the flags are put back after, whatever happens."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU) and m.inplace]
    for m in relus:
        m.inplace = False
    try:
        yield
    finally:
        for m in relus:
            m.inplace = True


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def probabilities(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(C,) softmax of one image's logits, on the CPU."""
    with torch.inference_mode():
        return torch.softmax(model(x).float(), dim=1)[0].cpu()


__all__ = ["LAYERS", "block", "model_device", "probabilities", "relus_not_inplace"]
