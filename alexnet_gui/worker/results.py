"""Plain data the worker process sends to the window (no Qt, no torch tensors): what
the window unpickles must import without torch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass
class ModelInfo:
    description: str  # "ImageNet weights (alexnet-owt-7be5be79.pth)"
    source: str  # "imagenet" | "finetuned" | "state_dict" | "untrained"
    trained: bool
    class_names: list[str]
    weights_path: str | None
    sha256: str | None
    device: str  # "CPU", "CUDA 0 (…)"
    device_spec: str  # "cpu", "cuda:0"
    conv_weights: dict[str, np.ndarray]  # "features.0" -> (C_out, C_in, k, k) float32
    meta: dict = field(default_factory=dict)
    cuda_available: bool = False
    base_description: str | None = None  # set when a fine-tuned head is active and the base is kept for comparison
    layer_tables: dict[int, list] = field(default_factory=dict)  # input size -> core.layer_rows.LayerRow list
    engine: str = "torch"  # what runs the forward passes now: "torch" | "onnxruntime"
    engine_reason: str | None = None  # why torch runs although ONNX Runtime was asked for (or is being checked)
    engine_choice: str = "auto"  # what was asked for: "auto" | "torch" | "onnxruntime"
    engine_ready: bool = True  # False while graphs are still being exported or checked in the background


@dataclass
class EngineInfo:
    """What runs the forward passes now (``engine_changed``; ModelInfo carries the same at a load)."""

    engine: str  # "torch" | "onnxruntime"
    reason: str | None  # why torch runs although ONNX Runtime was asked for (or is being checked)
    choice: str  # "auto" | "torch" | "onnxruntime"
    ready: bool  # False while graphs are still being exported or checked in the background


@dataclass
class ImageResult:
    """One image of a classify job: ``prediction`` is a core ``Prediction``."""

    path: str
    prediction: Any
    compare: Any = None  # the base model's Prediction when comparing
    thumbnail: np.ndarray | None = None  # (h, w, 3) uint8
    preview: np.ndarray | None = None  # (h, w, 3) uint8
    size: tuple[int, int] | None = None  # original (width, height)
    pictures_pending: bool = False  # thumbnail and preview follow in a second update


@dataclass
class PicturesResult:
    """An image's thumbnail and large preview alone, without a forward pass (an image
    of a folder job, which got only its thumbnail, being shown large)."""

    path: str
    thumbnail: np.ndarray | None = None  # (h, w, 3) uint8
    preview: np.ndarray | None = None  # (h, w, 3) uint8
    error: str | None = None  # why the pictures could not be made (e.g. the file was moved)


@dataclass
class FeatureMapsResult:
    path: str
    layers: list[Any]  # core.introspect.LayerActivation, in network order
    preview: np.ndarray  # (224, 224, 3) uint8: the crop the network saw


@dataclass(frozen=True)
class ValItem:
    """One validation image and what the fine-tuned model said about it."""

    path: str
    true_index: int
    predicted_index: int
    confidence: float | None = None  # softmax probability of the predicted class


@dataclass
class FinetuneOutcome:
    """A finished run. ``result`` is the core's FinetuneResult: in the worker with its
    state dict, in the window without it (``without_weights``); the window hands the
    run back by ``token`` to the use and save jobs."""

    result: Any
    base_sha256: str
    folder: str
    val_items: list[ValItem] = field(default_factory=list)
    saved_path: str | None = None  # set once the save job has written it
    token: int = 0  # the run's token: how the window names this run to the worker

    def cell(self, true_index: int, predicted_index: int) -> list[ValItem]:
        return [v for v in self.val_items if v.true_index == true_index and v.predicted_index == predicted_index]

    def without_weights(self) -> FinetuneOutcome:
        """A copy for the window: the same run, its 61 M parameters left in the worker."""
        return replace(self, result=replace(self.result, state_dict=None))
