"""A layer's activations as plain data (no torch, no Qt): what crosses to the window.

The window unpickles these, which imports the module a class is defined in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerActivation:
    name: str  # "features.1"
    kind: str  # "ReLU"
    maps: np.ndarray  # (C, H, W) float32

    @property
    def label(self) -> str:
        c, h, w = self.maps.shape
        return f"{self.name} {self.kind} {c}x{h}x{w}"
