"""What the Filters view and `alexnet-cli filters` should show, computed straight from a
model's weights with the core's renderer: the tests' reference for kernel tiles."""

from __future__ import annotations

import numpy as np

from alexnet_gui.core.introspect import conv_layer
from alexnet_gui.core.render import conv1_tiles, kernel_mean_tiles


def weights_of(model, layer: str) -> np.ndarray:
    return conv_layer(model, layer).weight.detach().float().cpu().numpy()  # (C_out, C_in, k, k)


def conv1_filters(model, per_filter: bool = True) -> np.ndarray:
    """(64, 11, 11, 3) float32 in [0, 1]: conv1's kernels as RGB tiles."""
    return conv1_tiles(weights_of(model, "features.0"), per_filter)


def kernel_tiles(model, layer: str, per_filter: bool = True) -> np.ndarray:
    """(C_out, k, k) float32 in [0, 1]: each kernel's mean over its inputs."""
    return kernel_mean_tiles(weights_of(model, layer), per_filter)


def filter_ranges(model, layer: str = "features.0") -> list[tuple[float, float]]:
    """(min, max) raw weight of each output channel's kernel."""
    flat = weights_of(model, layer).reshape(conv_layer(model, layer).out_channels, -1)
    return list(zip(flat.min(axis=1).tolist(), flat.max(axis=1).tolist()))
