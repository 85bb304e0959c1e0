"""The inference engine: AlexNet's forward passes in ONNX Runtime or in torch.

This package's init is torch-free (the window imports the choices and labels);
the modules that export, run and gate graphs import torch and ONNX Runtime
lazily, and only the worker and the command line use them.
"""

from __future__ import annotations

ENGINE_CHOICES = ("auto", "torch", "onnxruntime")  # what a user may ask for
ENGINE_NAMES = ("torch", "onnxruntime")  # what can actually run
ENGINE_LABELS = {"auto": "Automatic (the faster here)", "torch": "PyTorch", "onnxruntime": "ONNX Runtime"}

# The graphs exported from one model: the whole network ("logits", what File › Export writes);
# the engine's graph, the same network giving its fc7 features (after the ReLU) as a second
# output, so one session classifies and feeds the fine-tune; and the two truncated ones
# (pool5 flattened, fc7).
GRAPH_KINDS = ("logits", "engine", "pool5", "fc7")


def check_engine_choice(choice: str) -> str:
    choice = (choice or "auto").strip().lower()
    if choice not in ENGINE_CHOICES:
        raise ValueError(f"unknown engine {choice!r}: use {', '.join(ENGINE_CHOICES)}")
    return choice


def engine_label(name: str) -> str:
    return ENGINE_LABELS.get(name, name)
