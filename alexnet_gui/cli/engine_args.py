"""``--engine auto|torch|onnxruntime``: which engine runs the forward passes."""

from __future__ import annotations

import os

from .common import eprint


def add_engine_arg(p) -> None:
    from ..core.engine import ENGINE_CHOICES

    p.add_argument("--engine", choices=ENGINE_CHOICES, default=os.environ.get("ALEXNET_GUI_ENGINE", "auto"),
                   help="what runs the forward passes: auto (default: the faster here, measured once and "
                   "remembered), torch, or onnxruntime (the model exported to ONNX, cached, checked against torch)")


def engine_for_cli(bundle, device, choice: str):
    """The engine for ``bundle``; a fallback to torch is said on stderr with its reason."""
    from ..core.engine.engine import build_engine

    engine = build_engine(bundle.model, device, choice, bundle.sha256)
    if engine.reason and choice != "torch":
        eprint(f"note: classifying with torch: {engine.reason}")
    return engine
