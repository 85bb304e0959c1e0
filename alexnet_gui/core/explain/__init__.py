"""Why the model decided: heat maps over the input crop (Grad-CAM, Guided Grad-CAM,
Occlusion, Integrated Gradients with SmoothGrad), computed with Captum.

Importing this package does not import torch: the settings, the result type and
the errors are plain data the window reads. ``explain_steps`` and ``explain``
(``run``) load torch and Captum on first use. ``picture`` draws a map over its
crop with a colour scale, for the window and the command line alike.
"""

from __future__ import annotations

import importlib

from .types import (
    DEFAULT_LAYER,
    LAYERS,
    METHOD_TITLES,
    METHODS,
    ExplainError,
    ExplainImageError,
    ExplainSettings,
    Explanation,
    LayerError,
    UnknownClassError,
    canonical_layer,
    crop_to_image,
    resolve_target,
)

_NEEDS_TORCH = {"explain_steps": ".run", "explain": ".run", "load_for_explain": ".run"}


def __getattr__(name: str):
    if name in _NEEDS_TORCH:
        return getattr(importlib.import_module(_NEEDS_TORCH[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_LAYER",
    "LAYERS",
    "METHODS",
    "METHOD_TITLES",
    "ExplainError",
    "ExplainImageError",
    "ExplainSettings",
    "Explanation",
    "LayerError",
    "UnknownClassError",
    "canonical_layer",
    "crop_to_image",
    "explain",
    "explain_steps",
    "load_for_explain",
    "resolve_target",
]
