"""Sanity checks (Adebayo et al., 2018): a map that survives randomising the weights, or
that is the same for any class, explains nothing. Randomising the layers from the top
down must change the map (its rank correlation with the original falls well below that
of two runs of the same model), and another target class must give another map."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from alexnet_gui.core.explain import ExplainSettings, explain
from alexnet_gui.core.model import build_model

CLASSES = [f"class {i}" for i in range(1000)]
# From the top: fc8, fc7, fc6, conv5, conv4 (the layers Grad-CAM at relu3 depends on).
CASCADE = ("classifier.6", "classifier.4", "classifier.1", "features.10", "features.8")


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (ties broken by position)."""
    ra = np.argsort(np.argsort(a.ravel(), kind="stable"), kind="stable").astype(float)
    rb = np.argsort(np.argsort(b.ravel(), kind="stable"), kind="stable").astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def randomised(model, names: tuple[str, ...], seed: int):
    out = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in names:
            layer = out.get_submodule(name)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g) * layer.weight.std())
            layer.bias.zero_()
    return out


@pytest.fixture(scope="module")
def picture():
    """A structured picture (bright squares on a dark ground), not noise: its map has a shape."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (224, 224), (30, 30, 40))
    draw = ImageDraw.Draw(img)
    for x, y, colour in ((30, 40, (220, 40, 40)), (140, 60, (40, 200, 60)), (70, 150, (240, 240, 90))):
        draw.rectangle([x, y, x + 50, y + 50], fill=colour)
    return img


@pytest.mark.parametrize("method, layer", [("gradcam", "features.7"), ("integrated-gradients", "features.11")])
def test_cascading_randomisation_changes_the_map(picture, method, layer):
    model = build_model(num_classes=1000, seed=0)
    settings = ExplainSettings(method=method, layer=layer, target=3, ig_steps=8, noise_samples=2)
    first = explain(model, CLASSES, picture, settings)
    again = explain(model, CLASSES, picture, settings)
    same = rank_correlation(first.map, again.map)
    assert same > 0.99  # the same model, the same map (to float rounding)
    correlations = []
    for depth in range(1, len(CASCADE) + 1):
        changed = explain(randomised(model, CASCADE[:depth], seed=depth), CLASSES, picture, settings)
        correlations.append(rank_correlation(first.map, changed.map))
    assert max(correlations) < same - 0.2, correlations
    assert correlations[-1] < 0.6, correlations


@pytest.mark.parametrize("method", ["gradcam", "occlusion"])
def test_another_class_gives_another_map(seeded_model, picture, method):
    settings = ExplainSettings(method=method, patch=48, stride=24)
    top = explain(seeded_model, CLASSES, picture, settings)
    other_index = (top.target.index + 500) % 1000
    other = explain(seeded_model, CLASSES, picture, ExplainSettings(method=method, patch=48, stride=24,
                                                                      target=other_index))
    assert other.target.index == other_index
    assert rank_correlation(top.map, other.map) < 0.9
    assert np.abs(top.map - other.map).mean() > 0.05
