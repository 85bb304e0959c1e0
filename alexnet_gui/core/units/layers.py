"""Which layers have units, their short names, and each feature layer's receptive field.

Torch-free: the window's unit picker reads the names, and the receptive fields are
worked out from the layers' kernel, stride and padding (read from the model's modules,
or from the fixed AlexNet table below when there is no model at hand), not from a
forward pass.

A receptive field here is the square of input pixels (of the 224 crop) that a unit at
output position (y, x) can depend on: rows ``offset + y * stride`` up to
``offset + y * stride + size`` (exclusive), the same for columns, clipped to the crop.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..preprocess import CROP_SIZE

# state-dict name -> the short name people use
UNIT_LAYERS = {
    "features.0": "conv1", "features.1": "relu1", "features.2": "pool1",
    "features.3": "conv2", "features.4": "relu2", "features.5": "pool2",
    "features.6": "conv3", "features.7": "relu3",
    "features.8": "conv4", "features.9": "relu4",
    "features.10": "conv5", "features.11": "relu5", "features.12": "pool5",
    "classifier.1": "fc6", "classifier.2": "relu6",
    "classifier.4": "fc7", "classifier.5": "relu7",
    "classifier.6": "fc8",
}
CLASS_LAYER = "classifier.6"  # its units are the classes (logits)
_ALIASES = {short: name for name, short in UNIT_LAYERS.items()} | {"logits": CLASS_LAYER, "class": CLASS_LAYER}

# (kernel, stride, padding) of each feature layer of the AlexNet in core/model.py; ReLUs are (1, 1, 0).
ALEXNET_GEOMETRY = {
    "features.0": (11, 4, 2), "features.1": (1, 1, 0), "features.2": (3, 2, 0),
    "features.3": (5, 1, 2), "features.4": (1, 1, 0), "features.5": (3, 2, 0),
    "features.6": (3, 1, 1), "features.7": (1, 1, 0),
    "features.8": (3, 1, 1), "features.9": (1, 1, 0),
    "features.10": (3, 1, 1), "features.11": (1, 1, 0), "features.12": (3, 2, 0),
}


class UnitError(ValueError):
    """A unit that does not exist: the message names the choices."""


def canonical_layer(name: str) -> str:
    """"conv5", "features.10" -> "features.10"; an unknown name raises UnitError."""
    layer = _ALIASES.get(name.strip().lower(), name.strip())
    if layer not in UNIT_LAYERS:
        choices = ", ".join(f"{short} ({n})" for n, short in UNIT_LAYERS.items())
        raise UnitError(f"no layer named {name!r}; choose one of {choices}")
    return layer


def is_spatial(layer: str) -> bool:
    """Feature layers have a map per channel; fully connected ones a value per unit."""
    return layer.startswith("features.")


def layer_label(layer: str) -> str:
    return f"{UNIT_LAYERS.get(layer, layer)} ({layer})"


@dataclass(frozen=True)
class ReceptiveField:
    size: int  # side of the square, in crop pixels
    stride: int  # crop pixels between neighbouring output positions
    offset: int  # crop row/column of the first output position's first pixel (negative: in the padding)

    def box(self, y: int, x: int, limit: int = CROP_SIZE) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in crop pixels, ends exclusive, clipped to the crop."""
        def span(i: int) -> tuple[int, int]:
            start = self.offset + i * self.stride
            return max(0, start), min(limit, start + self.size)

        (x0, x1), (y0, y1) = span(x), span(y)
        return x0, y0, x1, y1


def receptive_fields(geometry: dict[str, tuple[int, int, int]] | None = None) -> dict[str, ReceptiveField]:
    """Each feature layer's receptive field, from (kernel, stride, padding) in order.

    A layer with kernel k, stride s, padding p over an input whose units each see
    ``size`` pixels ``stride`` apart starting at ``offset``: its units see
    ``size + (k - 1) * stride`` pixels, ``stride * s`` apart, from ``offset - p * stride``."""
    size, stride, offset = 1, 1, 0
    fields = {}
    for name, (k, s, p) in (geometry or ALEXNET_GEOMETRY).items():
        size, offset, stride = size + (k - 1) * stride, offset - p * stride, stride * s
        fields[name] = ReceptiveField(size, stride, offset)
    return fields


def model_geometry(features) -> dict[str, tuple[int, int, int]]:
    """(kernel, stride, padding) of each module of a ``features`` Sequential (no torch import:
    the modules' own attributes are read; a module without a kernel, a ReLU, is 1/1/0)."""
    def first(v) -> int:
        return int(v[0] if isinstance(v, (tuple, list)) else v)

    geometry = {}
    for i, m in enumerate(features):
        k = getattr(m, "kernel_size", None)
        geometry[f"features.{i}"] = (1, 1, 0) if k is None else (first(k), first(m.stride), first(m.padding))
    return geometry
