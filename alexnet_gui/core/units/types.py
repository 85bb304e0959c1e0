"""What a unit look-up answers, as plain data the window unpickles without torch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .layers import CLASS_LAYER, is_spatial, layer_label

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), ends exclusive


@dataclass(frozen=True)
class Unit:
    layer: str  # canonical, "features.10"
    channel: int  # channel of a feature layer, unit of an fc layer, class of fc8

    @property
    def spatial(self) -> bool:
        return is_spatial(self.layer)

    def describe(self, class_names: list[str] | None = None) -> str:
        if self.layer == CLASS_LAYER and class_names and 0 <= self.channel < len(class_names):
            return f"class {self.channel} ({class_names[self.channel]})"
        what = "channel" if self.spatial else "unit"
        return f"{layer_label(self.layer)} {what} {self.channel}"


@dataclass(frozen=True)
class TopImage:
    path: str
    value: float  # the channel's largest activation in the image (an fc unit's value)
    box: Box  # the receptive field around the maximum, in the image's own pixels (whole image for fc)
    crop_box: Box  # the same in pixels of the 224 crop the network saw
    position: tuple[int, int] | None  # (y, x) of the maximum in the layer's map; None for fc units
    patch: np.ndarray | None = None  # (h, w, 3) uint8: the crop's pixels inside crop_box

    def as_dict(self) -> dict:
        return {"path": self.path, "value": self.value, "box": list(self.box)}


@dataclass(frozen=True)
class TopImages:
    unit: Unit
    images: list[TopImage]  # highest first, ties by path
    scanned: int  # images looked at
    computed: int  # of them, images that went through the network (the rest came from the cache)
    failed: dict[str, str] = field(default_factory=dict)  # path -> why it could not be read

    def as_list(self) -> list[dict]:
        return [image.as_dict() for image in self.images]


@dataclass(frozen=True)
class VisualizeSettings:
    steps: int = 256
    seed: int = 0
    lr: float = 0.05
    size: int = 224
    every: int = 8  # a live picture every this many steps

    def key_text(self) -> str:
        # ``every`` changes only how often the picture is shown, not the picture
        return f"steps={self.steps}|seed={self.seed}|lr={self.lr!r}|size={self.size}"


@dataclass(frozen=True)
class UnitFrame:
    """A picture on its way: the image after ``step`` of ``total`` steps."""

    unit: Unit
    step: int
    total: int
    image: np.ndarray  # (size, size, 3) uint8


@dataclass(frozen=True)
class UnitPicture:
    """The image a unit wants: made by gradient ascent, and how much it excites the unit."""

    unit: Unit
    image: np.ndarray  # (size, size, 3) uint8
    value: float  # the objective on the final image: a channel's mean over positions, an fc unit's value
    start_value: float  # the same on the noise it started from
    settings: VisualizeSettings
    from_cache: bool = False
