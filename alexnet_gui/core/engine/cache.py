"""ONNX graphs on disk, keyed by the weights and every version that shapes the graph.

``cache_dir()/onnx/<kind>-<key>.onnx`` where the key hashes the weights' hash,
the graph kind and the torch, onnx, onnxscript and ONNX Runtime versions: other
weights, another head or an upgraded library never read a stale graph. Files
are written to a temp name and renamed (``write_atomically``), so a crash leaves
no half graph; a graph that fails to load is exported again.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import torch

from ..files import write_atomically
from ..paths import cache_dir
from . import GRAPH_KINDS

_FORMAT = "1"  # bump when the export itself changes (opset, names, cut points)
_VERSIONED = ("torch", "onnx", "onnxscript", "onnxruntime")


def library_versions() -> dict[str, str]:
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def model_digest(model: torch.nn.Module) -> str:
    """A hash of every tensor of ``model``'s state dict (names, shapes, values): the key of
    a model that has no file hash (the untrained model, a head fine-tuned just now)."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def graph_key(weights_key: str, kind: str) -> str:
    if kind not in GRAPH_KINDS:
        raise ValueError(f"unknown graph {kind!r}")
    versions = "|".join(f"{k}={v}" for k, v in sorted(library_versions().items()))
    return hashlib.sha256("|".join((_FORMAT, weights_key, kind, versions)).encode()).hexdigest()[:32]


class GraphCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_dir()) / "onnx"
        self.exports = 0  # graphs exported by this cache object (a hit exports none)

    def path(self, weights_key: str, kind: str) -> Path:
        return self.root / f"{kind}-{graph_key(weights_key, kind)}.onnx"

    def get_or_export(self, model, weights_key: str, kind: str) -> tuple[Path, bool]:
        """The graph's file and whether it was already there (a hit); exports on a miss."""
        path = self.path(weights_key, kind)
        if path.is_file() and path.stat().st_size > 0:
            return path, True
        from .graphs import export_onnx_bytes

        data = export_onnx_bytes(model, kind)
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda f: f.write(data), fsync=False)  # rebuilt when lost
        self.exports += 1
        return path, False

    def forget(self, weights_key: str, kind: str) -> None:
        """Drop a graph that failed to load or failed its gate, so the next load exports it again."""
        self.path(weights_key, kind).unlink(missing_ok=True)
