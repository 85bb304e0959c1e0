"""Filters and feature maps show what the network really holds and computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from float_paths import assert_close_to_scale
from kernels import conv1_filters, filter_ranges, kernel_tiles

from alexnet_gui.core.introspect import CONV_LAYERS, feature_layers, feature_maps


def test_conv1_filters_are_rgb_tiles_in_unit_range(seeded_model):
    tiles = conv1_filters(seeded_model)
    assert tiles.shape == (64, 11, 11, 3) and tiles.dtype == np.float32
    assert tiles.min() >= 0 and tiles.max() <= 1
    # per filter: each tile spans the whole range
    assert np.allclose(tiles.reshape(64, -1).min(1), 0) and np.allclose(tiles.reshape(64, -1).max(1), 1)


def test_per_filter_normalisation_reproduces_the_weights(seeded_model):
    tiles = conv1_filters(seeded_model, per_filter=True)
    ranges = np.array(filter_ranges(seeded_model))  # (64, 2) raw min, max
    lo, hi = ranges[:, 0, None, None, None], ranges[:, 1, None, None, None]
    weights = seeded_model.features[0].weight.detach().numpy().transpose(0, 2, 3, 1)  # (64, 11, 11, 3)
    assert np.allclose(tiles * (hi - lo) + lo, weights, atol=1e-6)


def test_shared_normalisation_uses_one_scale(seeded_model):
    tiles = conv1_filters(seeded_model, per_filter=False)
    w = seeded_model.features[0].weight.detach().numpy().transpose(0, 2, 3, 1)
    assert np.allclose(tiles, (w - w.min()) / (w.max() - w.min()), atol=1e-6)
    assert tiles.min() == 0 and tiles.max() == pytest.approx(1)


@pytest.mark.parametrize("layer,shape", [
    ("features.0", (64, 11, 11)), ("features.3", (192, 5, 5)), ("features.6", (384, 3, 3)),
    ("features.8", (256, 3, 3)), ("features.10", (256, 3, 3)),
])
def test_kernel_tiles_shapes(seeded_model, layer, shape):
    tiles = kernel_tiles(seeded_model, layer)
    assert tiles.shape == shape and tiles.dtype == np.float32
    assert tiles.min() >= 0 and tiles.max() <= 1
    mean = seeded_model.features[int(layer.split(".")[1])].weight.detach().numpy().mean(axis=1)
    first = mean[0]
    assert np.allclose(tiles[0], (first - first.min()) / (first.max() - first.min()), atol=1e-5)


def test_kernel_tiles_refuses_a_layer_that_is_not_a_conv(seeded_model):
    with pytest.raises(ValueError, match="features.1"):
        kernel_tiles(seeded_model, "features.1")
    assert CONV_LAYERS == ("features.0", "features.3", "features.6", "features.8", "features.10")


EXPECTED_SHAPES = [
    (64, 55, 55), (64, 55, 55), (64, 27, 27),
    (192, 27, 27), (192, 27, 27), (192, 13, 13),
    (384, 13, 13), (384, 13, 13), (256, 13, 13), (256, 13, 13), (256, 13, 13), (256, 13, 13),
    (256, 6, 6),
]


@pytest.fixture(scope="module")
def activations(seeded_model):
    x = torch.randn(3, 224, 224, generator=torch.Generator().manual_seed(5))
    return x, feature_maps(seeded_model, x)


def test_every_feature_layer_with_its_shape(seeded_model, activations):
    _, acts = activations
    assert [(a.name, a.kind) for a in acts] == feature_layers(seeded_model)
    assert [a.maps.shape for a in acts] == EXPECTED_SHAPES
    assert all(a.maps.dtype == np.float32 for a in acts)
    assert acts[0].label == "features.0 Conv2d 64x55x55"


def test_conv_outputs_are_not_overwritten_by_the_inplace_relu(seeded_model, activations):
    x, acts = activations
    by_index = {int(a.name.split(".")[1]): a for a in acts}
    with torch.inference_mode():
        for i, module in enumerate(seeded_model.features):
            if not isinstance(module, torch.nn.Conv2d):
                continue
            previous = x.unsqueeze(0) if i == 0 else torch.from_numpy(by_index[i - 1].maps).unsqueeze(0)
            expected = module(previous)[0].numpy()  # the conv alone, on what it was given
            got = by_index[i].maps
            assert_close_to_scale(got, expected, what=by_index[i].name)  # to the layer's own scale
            assert (got < 0).any(), f"{by_index[i].name} looks ReLU'd"
            assert np.array_equal(by_index[i + 1].maps, np.maximum(got, 0))


def test_the_last_map_is_what_the_whole_model_feeds_its_classifier(seeded_model, activations):
    """Only ``features`` runs; its last output is the one the full forward pools and classifies."""
    x, acts = activations
    seen = {}

    def keep(_module, _inputs, out):
        seen["pool5"] = out[0].clone()

    handle = seeded_model.features.register_forward_hook(keep)
    try:
        with torch.inference_mode():
            seeded_model(x.unsqueeze(0))
    finally:
        handle.remove()
    assert np.array_equal(acts[-1].maps, seen["pool5"].numpy())


def test_accepts_a_batched_input_and_leaves_no_hooks_behind(seeded_model):
    x = torch.randn(1, 3, 100, 130)
    acts = feature_maps(seeded_model, x)
    assert acts[0].maps.shape == (64, 24, 31)  # (130 + 4 - 11) // 4 + 1
    assert all(not m._forward_hooks for m in seeded_model.features)


def test_hooks_are_removed_even_when_the_forward_fails(seeded_model):
    from alexnet_gui.core.model import InputTooSmallError

    with pytest.raises(InputTooSmallError):
        feature_maps(seeded_model, torch.zeros(3, 40, 40))
    assert all(not m._forward_hooks for m in seeded_model.features)
