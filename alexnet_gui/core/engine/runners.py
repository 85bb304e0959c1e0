"""The two ways to run a graph: ONNX Runtime sessions and the torch model itself.

Both take a (B, 3, 224, 224) float32 batch (NumPy or a CPU tensor) and return
float32 NumPy: logits (B, C), or pool5 (B, 9216) / fc7 (B, 4096) features.
ONNX Runtime is imported here only, so only the worker and the command line load it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from ..model import AlexNet
from .thread_priority import lower_to_idle, new_threads

CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"


def as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    return np.ascontiguousarray(x, dtype=np.float32)


def ort_available() -> bool:
    try:
        import onnxruntime  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


def ort_providers(device: torch.device) -> list[str] | None:
    """The providers for ``device``, or None when ONNX Runtime cannot run there (CUDA without its provider)."""
    import onnxruntime as ort

    if device.type == "cpu":
        return [CPU_PROVIDER]
    if device.type == "cuda" and CUDA_PROVIDER in ort.get_available_providers():
        return [(CUDA_PROVIDER, {"device_id": device.index or 0}), CPU_PROVIDER]
    return None


def session_options(threads: int, spinning: bool = True):
    """One team of ``threads`` intra-op threads (torch's count: the two engines never have
    more threads than cores between them) that spin for a while after a run, ONNX
    Runtime's default. In the app, threads that sleep at once made a dropped photo's
    forward pass as slow as one thread (13.5 ms against 9 ms: each operator waited for a
    sleeping thread to wake, and the window painting meanwhile took its core). The
    spin's price is ~35 ms of a core after each run, which ``OrtRunner`` gives to any
    other thread that wants it (``thread_priority``); bench_engine.py measures both.
    ``spinning=False`` makes them sleep, for that comparison."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3  # errors only
    return options


class OrtRunner:
    """An ONNX Runtime session over one graph file, giving its first output (or ``output``)."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, providers: list, threads: int, output: str | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        with new_threads() as pool:
            self.session = ort.InferenceSession(str(path), session_options(threads), providers=providers)
        self.pool_threads = pool
        lower_to_idle(pool)  # their spin after a run yields to every other thread
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = output or self.session.get_outputs()[0].name

    def __call__(self, x) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: as_array(x)})[0]

    def output(self, name: str) -> OrtRunner:
        """The same session giving its output ``name`` (the engine graph's "fc7")."""
        other = copy.copy(self)
        other.output_name = name
        return other


class TorchRunner:
    """The torch model, eval mode and inference mode; ``kind`` logits, pool5 or fc7."""

    name = "torch"

    def __init__(self, model: AlexNet, kind: str = "logits", device: torch.device | None = None) -> None:
        from .graphs import graph_module

        self.module = graph_module(model, kind)
        self.device = device or next(model.parameters()).device

    def __call__(self, x) -> np.ndarray:
        x = torch.from_numpy(as_array(x)) if not isinstance(x, torch.Tensor) else x
        self.module.eval()
        with torch.inference_mode():
            return self.module(x.to(self.device, non_blocking=True)).float().cpu().numpy()
