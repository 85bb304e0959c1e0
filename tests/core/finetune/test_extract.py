"""Extraction computes exactly what classification sees."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from alexnet_gui.core.finetune.extract import backbone_features
from alexnet_gui.core.preprocess import normalized_batch, preprocess, resized_crop


def test_split_preprocessing_is_bit_identical_to_preprocess():
    rng = np.random.default_rng(0)
    sizes = [(64, 96), (300, 200), (17, 500), (224, 224), (999, 1000)]
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in sizes]
    batch = normalized_batch([resized_crop(im) for im in images])
    assert torch.equal(batch, torch.stack([preprocess(im) for im in images]))


def test_fc7_and_pool5_are_the_models_own_activations(seeded_model):
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        fc7 = backbone_features(seeded_model, x, "fc7")
        pool5 = backbone_features(seeded_model, x, "pool5")
        logits = seeded_model(x)
        assert fc7.shape == (2, 4096) and pool5.shape == (2, 9216)
        assert (fc7 >= 0).all()  # after fc7's ReLU
        torch.testing.assert_close(seeded_model.classifier[6](fc7), logits)
        torch.testing.assert_close(seeded_model.classifier[:6](pool5), fc7)
