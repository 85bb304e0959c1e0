"""Grad-CAM and Guided Grad-CAM with Captum, each one step.

Grad-CAM (Selvaraju et al.): the gradient of the target logit with respect to a
conv block's activations, averaged over space, weights each channel; the map is
the ReLU of the weighted sum of the channels, upsampled bilinearly to 224 x 224.
Captum's LayerGradCam runs the forward and the backward once: the forward it runs
is a function that also keeps the logits (the probability shown) and picks the
top-1 class when none was asked for, so no second forward is needed.
Guided Grad-CAM multiplies that map with guided backprop's input gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..preprocess import CROP_SIZE
from .hooks import block, relus_not_inplace


def upsample(cam: torch.Tensor) -> torch.Tensor:
    """(1, 1, h, w) -> (224, 224), bilinear (align_corners False), as the test's reference does."""
    return F.interpolate(cam, size=(CROP_SIZE, CROP_SIZE), mode="bilinear", align_corners=False)[0, 0]


def gradcam(model: nn.Module, x: torch.Tensor, layer: str, target: int | None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(map (224, 224) raw, logits (C,), target index) for one image ``x`` (1, 3, 224, 224)."""
    from captum.attr import LayerGradCam

    kept: dict[str, torch.Tensor] = {}

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        logits = model(inputs)
        kept["logits"] = logits.detach()
        index = int(logits[0].argmax()) if target is None else target
        kept["target"] = index
        return logits[:, index]  # one number per image: Captum's gradient is of this

    with relus_not_inplace(model):
        cam = LayerGradCam(forward, block(model, layer)).attribute(x, target=None, relu_attributions=True)
    return upsample(cam.detach().float()), kept["logits"][0].float().cpu(), kept["target"]


def guided_gradcam(model: nn.Module, x: torch.Tensor, layer: str, target: int) -> torch.Tensor:
    """(224, 224) raw: the largest |guided gradient x Grad-CAM| over the colour channels."""
    import warnings

    from captum.attr import GuidedGradCam

    x = x.detach().clone().requires_grad_(True)
    with relus_not_inplace(model), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")  # removed after, as it says
        attr = GuidedGradCam(model, block(model, layer)).attribute(x, target=target, interpolate_mode="bilinear")
    return attr.detach().float()[0].abs().amax(dim=0)
