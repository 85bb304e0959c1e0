"""What an explanation is, as plain data (no torch, no Qt): the window unpickles these.

An ``Explanation`` holds the heat map over the network's 224 x 224 input crop as a
float32 array in [0, 1] (``map``): 1 stands for ``scale`` in ``units`` (the
largest value of the method's raw map), 0 for nothing. The peak is given in crop
coordinates and in the original image's pixels (resize the shorter side to 256,
centre-crop 224: ``crop_to_image``).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

import numpy as np

from ..prediction import ClassScore
from ..preprocess import CROP_SIZE, RESIZE_SIZE

METHODS = ("gradcam", "guided-gradcam", "occlusion", "integrated-gradients")
METHOD_TITLES = {"gradcam": "Grad-CAM", "guided-gradcam": "Guided Grad-CAM", "occlusion": "Occlusion",
                 "integrated-gradients": "Integrated Gradients (SmoothGrad)"}
# The conv blocks Grad-CAM may look at: the ReLU after each convolution (what the next
# layer sees). The Grad-CAM paper's AlexNet layer is relu5, features.11.
LAYERS = {"features.1": "relu1", "features.4": "relu2", "features.7": "relu3", "features.9": "relu4",
          "features.11": "relu5"}
DEFAULT_LAYER = "features.11"
UNITS = {"gradcam": "ReLU of the gradient-weighted activations", "guided-gradcam": "guided gradient x Grad-CAM",
         "occlusion": "drop in the class probability", "integrated-gradients": "|integrated gradient|, averaged"}


class ExplainError(ValueError):
    """A request that cannot be explained; the message says why in words for the user."""


class UnknownClassError(ExplainError):
    pass


class LayerError(ExplainError):
    pass


class ExplainImageError(ExplainError):
    pass


@dataclass(frozen=True)
class ExplainSettings:
    method: str = "gradcam"
    layer: str = DEFAULT_LAYER  # Grad-CAM and Guided Grad-CAM
    target: str | int | None = None  # a class index, a label, or None for the top-1 class
    patch: int = 32  # occlusion: the grey square's side, in crop pixels
    stride: int = 16  # occlusion: how far it moves each time
    batch: int = 32  # occlusion: occluded copies per forward (one step each)
    ig_steps: int = 16  # integrated gradients: points on the path from the baseline
    noise_samples: int = 6  # SmoothGrad: noisy copies, one step each
    noise: float = 0.1  # SmoothGrad: noise std as a fraction of the input's range
    seed: int = 0  # SmoothGrad's noise

    def validate(self) -> ExplainSettings:
        """Raise ExplainError naming the first bad value; returns the settings with the layer's
        canonical name ("relu5" -> "features.11")."""
        if self.method not in METHODS:
            raise ExplainError(f"unknown method {self.method!r}: use one of {', '.join(METHODS)}")
        layer = canonical_layer(self.layer)
        if not 1 <= self.patch <= CROP_SIZE:
            raise ExplainError(f"occlusion patch must be 1..{CROP_SIZE} pixels, got {self.patch}")
        if not 1 <= self.stride <= CROP_SIZE:
            raise ExplainError(f"occlusion stride must be 1..{CROP_SIZE} pixels, got {self.stride}")
        for name in ("batch", "ig_steps", "noise_samples"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ExplainError(f"{name.replace('_', ' ')} must be a whole number >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.noise <= 1:
            raise ExplainError(f"noise must be within 0..1 of the input's range, got {self.noise!r}")
        return ExplainSettings(**{**asdict(self), "layer": layer})

    def as_dict(self) -> dict:
        return asdict(self)


def canonical_layer(name: str) -> str:
    """"features.11" or "relu5" -> "features.11"; anything else raises LayerError."""
    by_alias = {alias: layer for layer, alias in LAYERS.items()}
    layer = by_alias.get(str(name).strip().lower(), str(name).strip())
    if layer not in LAYERS:
        choices = ", ".join(f"{k} ({v})" for k, v in LAYERS.items())
        raise LayerError(f"{name!r} is not a convolution block: choose one of {choices}")
    return layer


def resolve_target(target: str | int | None, class_names: list[str], probabilities) -> int:
    """The class index for ``target``: None -> the most probable class; an int or a string of
    digits -> that index; otherwise a class name (case does not matter)."""
    if target is None or target == "":
        return int(np.argmax(probabilities))
    if isinstance(target, (int, np.integer)) or str(target).strip().isdigit():
        index = int(target)
        if not 0 <= index < len(class_names):
            raise UnknownClassError(f"class {index} does not exist: this model has classes 0..{len(class_names) - 1}")
        return index
    wanted = str(target).strip().lower()
    for i, name in enumerate(class_names):
        if name.lower() == wanted:
            return i
    close = difflib.get_close_matches(str(target), class_names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownClassError(f"no class named {str(target)!r} in this model's {len(class_names)} classes{hint}")


def crop_box(width: int, height: int) -> tuple[float, float, int, int]:
    """How the crop sits in the image: (x scale, y scale, top, left) of the resized image,
    as torchvision's resize (shorter side to 256) and centre crop (224) place it."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = RESIZE_SIZE, int(RESIZE_SIZE * long / short)
    rw, rh = (new_short, new_long) if width <= height else (new_long, new_short)
    top = int(round((rh - CROP_SIZE) / 2.0))
    left = int(round((rw - CROP_SIZE) / 2.0))
    return rw / width, rh / height, top, left


def crop_to_image(y: int, x: int, width: int, height: int) -> tuple[int, int]:
    """Crop pixel (y, x) -> the original image's pixel (y, x) whose centre it came from."""
    sx, sy, top, left = crop_box(width, height)
    iy = (y + top + 0.5) / sy - 0.5
    ix = (x + left + 0.5) / sx - 0.5
    return min(max(int(round(iy)), 0), height - 1), min(max(int(round(ix)), 0), width - 1)


def map_peak(heat: np.ndarray) -> tuple[int, int]:
    """(y, x) of the largest value (the first one in row order when tied)."""
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    return int(y), int(x)


@dataclass
class Explanation:
    """One heat map: which pixels of the crop drove ``target`` for ``method``."""

    path: str
    method: str
    layer: str | None  # the conv block (Grad-CAM and Guided Grad-CAM), else None
    target: ClassScore  # the class explained and the model's probability for it
    map: np.ndarray  # (224, 224) float32 in [0, 1]
    scale: float  # the raw value that 1.0 stands for
    units: str
    peak: tuple[int, int]  # (y, x) in the crop
    peak_in_image: tuple[int, int]  # (y, x) in the original image
    image_size: tuple[int, int]  # original (width, height)
    crop: np.ndarray  # (224, 224, 3) uint8: what the network saw
    model: str = ""  # which model: its description
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def title(self) -> str:
        where = f" at {LAYERS[self.layer]}" if self.layer else ""
        return f"{METHOD_TITLES[self.method]}{where}"

    def as_dict(self) -> dict:
        """What ``alexnet-cli explain --json`` prints."""
        return {"path": self.path,
                "target": {"label": self.target.label, "index": self.target.index,
                           "probability": self.target.probability},
                "method": self.method, "layer": self.layer, "map_size": list(self.map.shape),
                "peak": list(self.peak), "peak_in_image": list(self.peak_in_image)}
