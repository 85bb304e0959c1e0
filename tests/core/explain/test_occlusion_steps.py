"""Occlusion and Integrated Gradients run as steps: one batch (or one noisy sample) per
step, with progress; closing the steps stops the run there. Occlusion equals Captum's
``Occlusion`` with a softmax forward, a grey baseline and the same windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alexnet_gui.core.explain import ExplainSettings, explain, explain_steps
from alexnet_gui.core.explain.occlusion import positions
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.weights import imagenet_categories

NAMES = imagenet_categories()


@pytest.mark.parametrize("patch, stride", [(32, 16), (56, 28)])
def test_occlusion_equals_captum(seeded_model, random_image, patch, stride):
    from captum.attr import Occlusion

    image = random_image(256, 256, seed=11)
    e = explain(seeded_model, NAMES, image, ExplainSettings(method="occlusion", patch=patch, stride=stride, batch=40))
    x = preprocess(image).unsqueeze(0)
    with torch.inference_mode():
        probs = torch.softmax(seeded_model(x), dim=1)
    ref = Occlusion(lambda inp: torch.softmax(seeded_model(inp), dim=1)).attribute(
        x, target=e.target.index, sliding_window_shapes=(3, patch, patch), strides=(3, stride, stride),
        baselines=0.0, perturbations_per_eval=64)[0, 0].numpy()
    assert e.target.index == int(probs.argmax())
    assert e.scale == pytest.approx(float(ref.max()), rel=1e-3, abs=1e-9)
    np.testing.assert_allclose(e.map * e.scale, np.clip(ref, 0, None), atol=1e-3 * float(np.abs(ref).max()))
    assert e.units == "drop in the class probability"


def test_occlusion_is_a_step_per_batch_with_progress(seeded_model, random_image):
    seen = []
    spots = len(positions(224, 32, 16)) ** 2  # 13 x 13
    steps = explain_steps(seeded_model, NAMES, random_image(224, 224), ExplainSettings(method="occlusion", batch=50),
                          progress=lambda done, total: seen.append((done, total)))
    count = 0
    with pytest.raises(StopIteration) as end:
        while True:
            next(steps)
            count += 1
    assert count == 3  # 169 windows: batches of 50, 50, 50 and the last 19 ends the run
    assert seen == [(50, spots), (100, spots), (150, spots), (spots, spots)]
    assert end.value.value.method == "occlusion"


def test_closing_the_steps_stops_the_run_at_the_batch(seeded_model, random_image, monkeypatch):
    forwards = []
    real = seeded_model.forward
    monkeypatch.setattr(seeded_model, "forward", lambda x: forwards.append(x.shape[0]) or real(x))
    steps = explain_steps(seeded_model, NAMES, random_image(224, 224), ExplainSettings(method="occlusion", batch=20))
    next(steps)
    next(steps)
    steps.close()
    assert forwards == [1, 20, 20]  # the image itself, then two batches: nothing after the close


def test_integrated_gradients_is_a_step_per_noisy_sample_and_seeded(seeded_model, random_image):
    image = random_image(224, 224, seed=2)
    settings = ExplainSettings(method="integrated-gradients", ig_steps=6, noise_samples=3, seed=4)
    seen = []
    steps = explain_steps(seeded_model, NAMES, image, settings, progress=lambda d, t: seen.append((d, t)))
    count = 0
    try:
        while True:
            next(steps)
            count += 1
    except StopIteration as end:
        first = end.value
    assert count == 2 and seen == [(1, 3), (2, 3), (3, 3)]
    again = explain(seeded_model, NAMES, image, settings)
    np.testing.assert_allclose(first.map, again.map, atol=1e-5)
    other_noise = explain(seeded_model, NAMES, image, ExplainSettings(**{**settings.as_dict(), "seed": 5}))
    assert np.abs(other_noise.map - first.map).max() > 1e-3


def test_integrated_gradients_without_noise_is_captums(seeded_model, random_image):
    from captum.attr import IntegratedGradients

    image = random_image(224, 224, seed=9)
    e = explain(seeded_model, NAMES, image, ExplainSettings(method="integrated-gradients", ig_steps=8,
                                                             noise_samples=1, noise=0.0))
    x = preprocess(image).unsqueeze(0)
    ref = IntegratedGradients(seeded_model).attribute(x, baselines=torch.zeros_like(x), target=e.target.index,
                                                      n_steps=8)[0].abs().sum(dim=0).numpy()
    np.testing.assert_allclose(e.map * e.scale, ref, atol=1e-3 * float(ref.max()))
