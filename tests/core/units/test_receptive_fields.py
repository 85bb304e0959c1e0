"""Receptive fields from the layer table, checked against the definition on every feature layer:
the input pixels a unit depends on, found by differentiating the unit with respect to the input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from alexnet_gui.core.model import build_model, meta_model
from alexnet_gui.core.units.layers import ALEXNET_GEOMETRY, model_geometry, receptive_fields

FEATURE_LAYERS = [f"features.{i}" for i in range(13)]


def test_the_geometry_is_read_from_the_models_layers():
    assert model_geometry(build_model(seed=0).features) == ALEXNET_GEOMETRY
    assert receptive_fields(model_geometry(build_model(seed=0).features)) == receptive_fields()


def dependency_stack(upto: int) -> nn.Sequential:
    """The feature layers' geometry with every path positive: convs of ones, ReLUs gone, each max
    pool an average pool of the same window (a max depends on exactly the pixels its window holds)."""
    layers, channels = [], 3
    for m in meta_model().features[: upto + 1]:
        if isinstance(m, nn.Conv2d):  # one channel is enough: every channel sees the same pixels
            conv = nn.Conv2d(channels, 1, m.kernel_size, m.stride, m.padding, bias=False)
            channels = 1
            nn.init.ones_(conv.weight)
            layers.append(conv)
        elif isinstance(m, nn.MaxPool2d):
            layers.append(nn.AvgPool2d(m.kernel_size, m.stride, m.padding))
    return nn.Sequential(*layers).double()


def depends_on(stack: nn.Sequential, y: int, x: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the input pixels whose gradient is non-zero for output (y, x), channel 0."""
    image = torch.ones(1, 3, 224, 224, dtype=torch.float64, requires_grad=True)
    stack(image)[0, 0, y, x].backward()
    rows = image.grad[0].abs().sum(0).sum(1).nonzero()[:, 0]
    cols = image.grad[0].abs().sum(0).sum(0).nonzero()[:, 0]
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


@pytest.mark.parametrize("layer", FEATURE_LAYERS)
def test_every_layers_box_is_the_set_of_pixels_its_unit_depends_on(layer):
    index = int(layer.split(".")[1])
    stack = dependency_stack(index)
    with torch.no_grad():
        _, _, h, w = stack(torch.zeros(1, 3, 224, 224, dtype=torch.float64)).shape
    field = receptive_fields()[layer]
    for y, x in {(0, 0), (h // 2, w // 3), (h - 1, w - 1), (1, w - 2)}:
        assert field.box(y, x) == depends_on(stack, y, x), (layer, y, x)
