"""Plain data the worker sends to the window (no Qt, no torch tensors)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
