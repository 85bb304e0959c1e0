"""The layer table's rows and totals as plain data: computed in the model's process,
shown by the window's Model tab (this module imports no torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LayerRow:
    name: str  # state_dict prefix, e.g. "features.0"
    kind: str  # "Conv2d", "ReLU", ...
    output_shape: tuple[int, ...]  # (C, H, W) or (F,)
    params: int
    macs: int
    trainable: bool

    @property
    def is_conv(self) -> bool:
        return self.kind == "Conv2d"

    @property
    def is_fc(self) -> bool:
        return self.kind == "Linear"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["output_shape"] = list(self.output_shape)
        return d


@dataclass(frozen=True)
class LayerTotals:
    params: int
    conv_params: int
    fc_params: int
    macs: int
    trainable_params: int

    @property
    def fc_to_conv_ratio(self) -> float:
        return self.fc_params / self.conv_params


def totals(rows: list[LayerRow]) -> LayerTotals:
    return LayerTotals(
        params=sum(r.params for r in rows),
        conv_params=sum(r.params for r in rows if r.is_conv),
        fc_params=sum(r.params for r in rows if r.is_fc),
        macs=sum(r.macs for r in rows),
        trainable_params=sum(r.params for r in rows if r.trainable),
    )


def format_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)
