"""Exporting the app's AlexNet to ONNX: the whole network (with or without its fc7 features as a
second output), or cut at pool5 / fc7.

The exporter is torch.export's (``dynamo=True``, which needs onnxscript): the
TorchScript-based one is deprecated since torch 2.9. Opset 18, the batch axis
dynamic, height and width fixed at 224 (the app's crop). The model is exported
as it is placed (channels-last weights on the CPU give the same graph).
"""

from __future__ import annotations

import logging
import threading
import warnings

import torch
from torch import nn

from ..model import AlexNet
from ..preprocess import CROP_SIZE
from . import GRAPH_KINDS

OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAMES = {"logits": ["logits"], "engine": ["logits", "fc7"], "pool5": ["pool5"], "fc7": ["fc7"]}
# torch.export keeps tracing state per process: two exports at once (a background
# export of one model, a re-export of another) fail, so they take turns.
_EXPORT_LOCK = threading.Lock()


class Truncated(nn.Module):
    """AlexNet up to pool5 (B, 9216) or fc7 after its ReLU (B, 4096), as
    ``core.finetune.extract.backbone_features`` computes them in eval mode."""

    def __init__(self, model: AlexNet, layer: str) -> None:
        super().__init__()
        if layer not in ("pool5", "fc7"):
            raise ValueError(f"no truncated graph ends at {layer!r}")
        self.features, self.avgpool, self.layer = model.features, model.avgpool, layer
        self.head = model.classifier[:6] if layer == "fc7" else nn.Identity()  # dropout, fc6, relu, dropout, fc7, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)  # (B, 9216)
        return self.head(x)  # (B, 9216) or (B, 4096)


class WithFeatures(nn.Module):
    """AlexNet's logits and its fc7 features (after the ReLU) from one pass: the engine's
    graph. ONNX Runtime computes every node whichever outputs are asked for, so classifying
    costs the same as with the plain graph (measured), and the fine-tune's features need no
    second session holding another copy of fc6 and fc7 (218 MB) nor its start-up."""

    def __init__(self, model: AlexNet) -> None:
        super().__init__()
        self.features, self.avgpool = model.features, model.avgpool
        self.to_fc7, self.fc8 = model.classifier[:6], model.classifier[6]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fc7 = self.to_fc7(torch.flatten(self.avgpool(self.features(x)), 1))  # (B, 4096)
        return self.fc8(fc7), fc7


def graph_module(model: AlexNet, kind: str) -> nn.Module:
    if kind not in GRAPH_KINDS:
        raise ValueError(f"unknown graph {kind!r}: use {', '.join(GRAPH_KINDS)}")
    if kind == "logits":
        return model
    return (WithFeatures(model) if kind == "engine" else Truncated(model, kind)).eval()


def export_onnx_proto(model: AlexNet, kind: str = "logits"):
    """The ONNX graph of ``model`` (``kind``: logits, pool5 or fc7) as an ``onnx.ModelProto``."""
    module = graph_module(model, kind)
    module.eval()
    device = next(model.parameters()).device
    example = torch.zeros(2, 3, CROP_SIZE, CROP_SIZE, device=device)  # batch 2: a batch of 1 would be specialised
    batch = torch.export.Dim("batch", min=1, max=65536)
    with _EXPORT_LOCK, warnings.catch_warnings(), _quiet_exporter():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (example,), None, dynamo=True, opset_version=OPSET,
                                    input_names=[INPUT_NAME], output_names=OUTPUT_NAMES[kind],
                                    dynamic_shapes={"x": {0: batch}}, verbose=False)
    return program.model_proto


def export_onnx_bytes(model: AlexNet, kind: str = "logits") -> bytes:
    return export_onnx_proto(model, kind).SerializeToString()


class _quiet_exporter:  # noqa: N801 - a context manager used like a function
    """The exporter logs each of its passes at INFO on torch.onnx's logger; the app has its own lines.

    Its optimiser also shows a tqdm bar, and tqdm's first bar starts a monitor thread that
    wakes every 10 s for the life of the process: the app shows no such bars, so none starts."""

    def __enter__(self):
        try:
            import tqdm

            tqdm.tqdm.monitor_interval = 0
        except ImportError:
            pass
        self.logger = logging.getLogger("torch.onnx")
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)
        # The exporter imports torch's FLOP counter, which warns when triton is absent (the
        # standalone bundle leaves it out): the app never counts FLOPs with it.
        logging.getLogger("torch.utils.flop_counter").setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.setLevel(self.level)
