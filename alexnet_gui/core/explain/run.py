"""One explanation, from an image to an ``Explanation``, as steps.

``explain_steps`` yields between batches (occlusion, integrated gradients) so the
model's worker answers other requests meanwhile; Grad-CAM is one step. Closing the
generator (a cancel) stops it at the step it is on. ``explain`` runs it to its end
(the command line, tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import numpy as np
import torch
from torch import nn

from ..model import MIN_INPUT_SIZE
from ..prediction import ClassScore
from ..preprocess import denormalize, preprocess
from .gradcam import gradcam, guided_gradcam
from .hooks import model_device, probabilities
from .integrated import integrated_steps
from .occlusion import occlusion_steps
from .types import UNITS, ExplainImageError, ExplainSettings, Explanation, crop_to_image, map_peak, resolve_target

Progress = Callable[[int, int], None]


def load_for_explain(path: str):
    """The image as RGB, or ExplainImageError naming the file and the cause."""
    from ..images import ImageLoadError, load_image

    try:
        img = load_image(path)
    except ImageLoadError as exc:
        raise ExplainImageError(str(exc)) from None
    if min(img.size) < MIN_INPUT_SIZE:
        raise ExplainImageError(f"{path}: {img.size[0]}x{img.size[1]} pixels is too small to explain: "
                                f"AlexNet needs at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}")
    return img


def explain_steps(model: nn.Module, class_names: list[str], image, settings: ExplainSettings | None = None,
                  path: str = "", progress: Progress | None = None, description: str = "",
                  ) -> Generator[None, None, Explanation]:
    """Explain ``image`` (a PIL image, or a path) for ``settings.target`` (default: top-1)."""
    t0 = time.perf_counter()
    settings = (settings or ExplainSettings()).validate()
    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        path = path or str(image)
        image = load_for_explain(image)
    elif min(image.size) < MIN_INPUT_SIZE:
        raise ExplainImageError(f"{path or 'the image'}: {image.size[0]}x{image.size[1]} pixels is too small "
                                f"to explain: AlexNet needs at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}")
    model.eval()
    x = preprocess(image).unsqueeze(0).to(model_device(model))  # (1, 3, 224, 224)
    if settings.method == "gradcam":
        raw, probs, target = _gradcam_once(model, class_names, x, settings, progress)
    else:
        raw, probs, target = yield from _method_steps(model, class_names, x, settings, progress)
    heat = raw.numpy().astype(np.float32)
    peak = map_peak(heat)
    top = float(heat.max())
    scaled = np.clip(heat / top, 0.0, 1.0).astype(np.float32) if top > 0 else np.zeros_like(heat)
    crop = (denormalize(x[0].cpu()).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    width, height = image.size
    return Explanation(
        path=path, method=settings.method,
        layer=settings.layer if settings.method in ("gradcam", "guided-gradcam") else None,
        target=ClassScore(class_names[target], target, float(probs[target])),
        map=scaled, scale=max(top, 0.0), units=UNITS[settings.method], peak=peak,
        peak_in_image=crop_to_image(*peak, width, height), image_size=(width, height), crop=crop,
        model=description, settings=settings.as_dict(), seconds=time.perf_counter() - t0)


def _gradcam_once(model, class_names, x, s: ExplainSettings, progress):
    """Grad-CAM's one step: (raw map, probabilities, target) from one forward and backward."""
    wanted = None if s.target in (None, "") else resolve_target(s.target, class_names, None)
    raw, logits, target = gradcam(model, x, s.layer, wanted)
    if progress is not None:
        progress(1, 1)
    return raw.cpu(), torch.softmax(logits, dim=0), target


def _method_steps(model, class_names, x, s: ExplainSettings, progress):
    """(raw map (224, 224) CPU float32, probabilities (C,), target index) for the other methods."""
    probs = probabilities(model, x)
    target = resolve_target(s.target, class_names, probs.numpy())
    if s.method == "guided-gradcam":
        raw = guided_gradcam(model, x, s.layer, target).cpu()
        if progress is not None:
            progress(1, 1)
    elif s.method == "occlusion":
        raw = yield from occlusion_steps(model, x, target, float(probs[target]), s.patch, s.stride, s.batch, progress)
    else:
        raw = yield from integrated_steps(model, x, target, s.ig_steps, s.noise_samples, s.noise, s.seed, progress)
    return raw, probs, target


def explain(model: nn.Module, class_names: list[str], image, settings: ExplainSettings | None = None,
            path: str = "", progress: Progress | None = None, description: str = "") -> Explanation:
    """``explain_steps`` run to its end."""
    steps = explain_steps(model, class_names, image, settings, path, progress, description)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
