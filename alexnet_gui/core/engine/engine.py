"""The engine a model runs its forward passes in: ONNX Runtime when it passed its
gate (and, for ``auto``, measured faster here), torch otherwise, with the reason.

``build_engine`` does the slow part once per model: the ONNX graph from the cache
or exported (the network with its fc7 features as a second output), a session,
the parity gate of both outputs, the choice. The pool5 graph, which the fine-tune's
other modes read, is made and gated on its first use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..model import AlexNet
from . import check_engine_choice
from .cache import GraphCache, model_digest
from .choose import ChoiceStore, choose, engine_threads
from .parity import ParityReport, check_parity, parity_inputs
from .runners import OrtRunner, TorchRunner, ort_available, ort_providers

log = logging.getLogger("alexnet_gui.engine")


@dataclass
class EngineSetup:
    """Where the pieces come from: the graph cache, the remembered choice, the gate's images."""

    cache: GraphCache | None = None
    store: ChoiceStore | None = None
    parity_images: Sequence | None = None  # None: the bundled samples


class InferenceEngine:
    def __init__(self, model: AlexNet, device: torch.device, weights_key: str, requested: str = "torch",
                 runner: OrtRunner | None = None, reason: str | None = None, parity: ParityReport | None = None,
                 setup: EngineSetup | None = None) -> None:
        self.model, self.device, self.weights_key, self.requested = model, device, weights_key, requested
        self.setup = setup or EngineSetup()
        self.ort = runner
        self.reason = reason  # why torch runs although ONNX Runtime was possible or asked for
        self.parity = parity
        self.timings: dict | None = None  # auto's measurement, seconds per image
        self._features: dict[str, OrtRunner | None] = {}  # layer -> gated truncated graph, None: torch
        self.feature_reasons: dict[str, str] = {}

    @property
    def name(self) -> str:
        return "onnxruntime" if self.ort is not None else "torch"

    def forward(self, batch) -> torch.Tensor:
        """(B, 3, 224, 224) -> (B, C) float32 logits on the CPU."""
        if self.ort is not None:
            return torch.from_numpy(self.ort(batch))
        from ..predict import forward

        x = batch if isinstance(batch, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(batch))
        return forward(self.model, x, self.device)

    def features_runner(self, layer: str) -> OrtRunner | None:
        """The gated ONNX Runtime graph ending at ``layer``, or None when torch must compute it."""
        if self.ort is None:
            return None
        if layer not in self._features:
            self._features[layer] = self._gated_truncated(layer)
        return self._features[layer]

    def features(self, batch, layer: str) -> np.ndarray:
        """pool5 (B, 9216) or fc7 (B, 4096) features as float32 NumPy."""
        runner = self.features_runner(layer)
        return runner(batch) if runner is not None else TorchRunner(self.model, layer, self.device)(batch)

    def gate_features(self, layer: str, runner: OrtRunner, inputs=None) -> OrtRunner | None:
        """``runner`` computes ``layer``'s features from now on if it matches torch on the gate's
        inputs; otherwise torch does, and ``feature_reasons`` says why."""
        if inputs is None:
            inputs = parity_inputs(images=self.setup.parity_images)
        report = check_parity(TorchRunner(self.model, layer, self.device), runner, inputs, logits=False)
        if not report.ok:
            self.feature_reasons[layer] = report.reason() or "failed its check"
            log.warning("%s features run in torch: %s", layer, self.feature_reasons[layer])
            runner = None
        self._features[layer] = runner
        return runner

    def _gated_truncated(self, layer: str) -> OrtRunner | None:
        cache = self.setup.cache or GraphCache()
        try:
            path, _ = cache.get_or_export(self.model, self.weights_key, layer)
            runner = OrtRunner(path, ort_providers(self.device), engine_threads())
        except Exception as exc:  # noqa: BLE001 - any failure means torch computes these features
            self.feature_reasons[layer] = _first_line("ONNX Runtime could not load the graph", exc)
            cache.forget(self.weights_key, layer)
            log.warning("%s features run in torch: %s", layer, self.feature_reasons[layer])
            return None
        return self.gate_features(layer, runner)


def torch_engine(model: AlexNet, device: torch.device, reason: str | None = None, requested: str = "torch",
                 weights_key: str = "") -> InferenceEngine:
    return InferenceEngine(model, device, weights_key, requested, None, reason)


def build_engine(model: AlexNet, device: torch.device, requested: str = "auto", weights_key: str | None = None,
                 setup: EngineSetup | None = None) -> InferenceEngine:
    """The engine for ``model`` on ``device``. Never raises for ONNX Runtime's sake: every
    failure (not installed, no provider, export, load, gate) gives torch and a reason."""
    requested = check_engine_choice(requested)
    setup = setup or EngineSetup()
    key = weights_key or model_digest(model)
    if requested == "torch":
        return InferenceEngine(model, device, key, requested, setup=setup)

    def fallback(reason: str, parity: ParityReport | None = None) -> InferenceEngine:
        log.warning("classification runs in torch: %s", reason)
        return InferenceEngine(model, device, key, requested, None, reason, parity, setup)

    if not ort_available():
        return fallback("ONNX Runtime is not installed")
    providers = ort_providers(device)
    if providers is None:
        return fallback("ONNX Runtime has no CUDA provider here: torch runs on the GPU")
    cache = setup.cache or GraphCache()
    try:
        path, _ = cache.get_or_export(model, key, "engine")
        runner = OrtRunner(path, providers, engine_threads(), output="logits")
    except Exception as exc:  # noqa: BLE001 - whatever broke, torch still classifies
        cache.forget(key, "engine")
        return fallback(_first_line("ONNX Runtime could not load the model", exc))
    torch_runner = TorchRunner(model, "logits", device)
    inputs = parity_inputs(images=setup.parity_images)
    report = check_parity(torch_runner, runner, inputs)
    if not report.ok:
        cache.forget(key, "engine")
        return fallback(report.reason() or "failed its check", report)
    engine = InferenceEngine(model, device, key, requested, runner, None, report, setup)
    engine.gate_features("fc7", runner.output("fc7"), inputs)  # the same session's second output
    if requested == "auto":
        chosen, entry = choose(device, torch_runner, runner, setup.store)
        engine.timings = entry.get("seconds_per_image")
        if chosen == "torch":
            engine.ort = None
            engine.reason = "torch measured faster on this machine"
    return engine


def _first_line(what: str, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return f"{what} ({text})"
