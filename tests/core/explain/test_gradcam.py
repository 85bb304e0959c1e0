"""Grad-CAM equals its definition, written out here with hooks; the in-place ReLUs are
left as they were; the layer can be any conv block's ReLU and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from alexnet_gui.core.explain import LAYERS, ExplainSettings, LayerError, explain
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.weights import imagenet_categories

NAMES = imagenet_categories()


def reference_gradcam(model, x: torch.Tensor, layer: str, target: int) -> np.ndarray:
    """Grad-CAM from the paper's definition: hooks keep the block's output A and the gradient
    of the target logit with respect to it; the channel weights are that gradient averaged
    over space; the map is ReLU(sum_k w_k A_k), upsampled bilinearly to 224 and divided by its max."""
    module = model.features[int(layer.split(".")[1])]
    kept = {}

    def forward_hook(_m, _inp, out):
        out = out.clone()  # the next layer may not write into it; its gradient is taken here
        out.register_hook(lambda g: kept.__setitem__("grad", g))
        kept["act"] = out
        return out

    handle = module.register_forward_hook(forward_hook)
    try:
        logits = model(x)
        logits[0, target].backward()
    finally:
        handle.remove()
        model.zero_grad(set_to_none=True)
    weights = kept["grad"].mean(dim=(2, 3), keepdim=True)  # (1, K, 1, 1)
    cam = torch.relu((weights * kept["act"]).sum(dim=1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=(224, 224), mode="bilinear", align_corners=False)[0, 0].numpy()
    return cam / cam.max() if cam.max() > 0 else cam


@pytest.mark.parametrize("layer", ["features.11", "features.7", "features.1"])
def test_gradcam_equals_the_definition(seeded_model, random_image, layer):
    image = random_image(300, 260, seed=3)
    e = explain(seeded_model, NAMES, image, ExplainSettings(layer=layer))
    ref = reference_gradcam(seeded_model, preprocess(image).unsqueeze(0), layer, e.target.index)
    assert e.map.shape == (224, 224) and e.map.dtype == np.float32
    assert e.map.max() == pytest.approx(1.0)
    np.testing.assert_allclose(e.map, ref, atol=1e-4)
    assert e.peak == np.unravel_index(np.argmax(e.map), e.map.shape)


def test_default_is_relu5_and_the_top1_class(seeded_model, random_image):
    image = random_image(240, 240, seed=5)
    e = explain(seeded_model, NAMES, image)
    with torch.inference_mode():
        probs = torch.softmax(seeded_model(preprocess(image).unsqueeze(0)), dim=1)[0]
    assert e.layer == "features.11" and e.method == "gradcam"
    assert e.target.index == int(probs.argmax())
    assert e.target.label == NAMES[e.target.index]
    assert e.target.probability == pytest.approx(float(probs.max()), rel=1e-4)


def test_relu_aliases_name_the_same_block(seeded_model, random_image):
    image = random_image(230, 230, seed=6)
    a = explain(seeded_model, NAMES, image, ExplainSettings(layer="relu4"))
    b = explain(seeded_model, NAMES, image, ExplainSettings(layer="features.9"))
    assert a.layer == b.layer == "features.9"
    np.testing.assert_allclose(a.map, b.map, atol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "guided-gradcam", "integrated-gradients"])
def test_the_model_keeps_its_in_place_relus_and_its_answers(seeded_model, random_image, method):
    image = random_image(224, 224, seed=7)
    x = preprocess(image).unsqueeze(0)
    with torch.inference_mode():
        before = seeded_model(x)
    explain(seeded_model, NAMES, image, ExplainSettings(method=method, noise_samples=1, ig_steps=4))
    relus = [m for m in seeded_model.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and all(m.inplace for m in relus)
    assert not any(m._forward_hooks or m._backward_hooks for m in seeded_model.modules())
    assert all(p.grad is None for p in seeded_model.parameters())
    with torch.inference_mode():
        after = seeded_model(x)
    torch.testing.assert_close(after, before)


def test_guided_gradcam_is_guided_backprop_times_gradcam(seeded_model, random_image):
    """Where Grad-CAM is zero, Guided Grad-CAM is zero too; it is a finer map than Grad-CAM's."""
    image = random_image(260, 260, seed=8)
    cam = explain(seeded_model, NAMES, image, ExplainSettings(method="gradcam", layer="features.7"))
    guided = explain(seeded_model, NAMES, image, ExplainSettings(method="guided-gradcam", layer="features.7",
                                                                  target=cam.target.index))
    assert guided.map.max() == pytest.approx(1.0)
    assert np.all(guided.map[cam.map == 0] == 0)
    # Finer: many more distinct values between neighbours than a bilinear upsampling of 13 x 13.
    assert np.abs(np.diff(guided.map, axis=1)).mean() > 2 * np.abs(np.diff(cam.map, axis=1)).mean()


@pytest.mark.parametrize("layer", ["features.0", "features.12", "features.11x", "classifier.6", "relu6", ""])
def test_a_layer_that_is_not_a_conv_block_is_refused_by_name(seeded_model, random_image, layer):
    with pytest.raises(LayerError) as info:
        explain(seeded_model, NAMES, random_image(100, 100), ExplainSettings(layer=layer))
    message = str(info.value)
    assert repr(layer) in message and "convolution block" in message
    assert all(name in message for name in LAYERS)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["gradcam", "guided-gradcam", "occlusion", "integrated-gradients"])
def test_on_cuda_the_maps_are_the_cpus(seeded_state_dict, random_image, method):
    from alexnet_gui.core.device import place_model
    from alexnet_gui.core.model import build_model

    cpu = build_model()
    cpu.load_state_dict(seeded_state_dict)
    gpu = place_model(build_model(), torch.device("cuda"))
    gpu.load_state_dict(seeded_state_dict)
    image = random_image(256, 256, seed=12)
    settings = ExplainSettings(method=method, target=5, ig_steps=8, noise_samples=2, batch=64)
    a = explain(cpu.eval(), NAMES, image, settings)
    b = explain(gpu.eval(), NAMES, image, settings)
    assert b.map.shape == (224, 224) and b.target.index == 5
    assert np.abs(a.map - b.map).mean() < 0.02  # TF32 and other kernels: close, not equal
