"""Exporting graphs in a short-lived process of its own.

The exporter (torch.export, onnxscript, onnx) imports hundreds of megabytes of
modules and works in as much memory again; none of that is handed back to the
system by a long-lived process. The worker therefore exports in a spawned child
that loads the same weights, writes the graphs into the cache and exits; the
worker then only reads the cache.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from pathlib import Path

from ..files import write_atomically


def _child(weights_file: str, num_classes: int, kinds: list[str], key: str, cache_root: str, conn) -> None:
    try:
        import torch

        from ..device import place_model
        from ..model import model_from_state_dict
        from ..weights import build_model_from_weights, load_weights
        from .cache import GraphCache

        if num_classes:  # a state dict saved for this export
            model = model_from_state_dict(torch.load(weights_file, weights_only=True), num_classes)
        else:  # the user's weights file
            model = build_model_from_weights(load_weights(weights_file))
        model = place_model(model, torch.device("cpu")).eval()
        cache = GraphCache(Path(cache_root))
        for kind in kinds:
            cache.get_or_export(model, key, kind)
        conn.send(None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back to torch
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def export_in_child(bundle, key: str, kinds: list[str], cache_root: Path, timeout_s: float = 600.0) -> None:
    """Write ``kinds`` of ``bundle``'s model into ``cache_root``'s graph cache from a spawned
    process; raises RuntimeError with the child's message when it failed. A model held in
    memory only (a head fine-tuned just now) goes to the child as a temporary state-dict file."""
    import torch

    from .cache import GraphCache

    cache = GraphCache(cache_root)
    kinds = [k for k in kinds if not cache.path(key, k).is_file()]
    if not kinds:
        return
    temp = None
    if bundle.weights_path and bundle.sha256 and Path(bundle.weights_path).is_file():
        weights_file, num_classes = str(bundle.weights_path), 0
    else:
        cache.root.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".export-weights.", suffix=".pt", dir=cache.root)
        os.close(fd)
        state = {k: v.detach().cpu().contiguous() for k, v in bundle.model.state_dict().items()}
        write_atomically(temp, lambda f: torch.save(state, f), fsync=False)
        del state
        weights_file, num_classes = temp, bundle.model.num_classes
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(weights_file, num_classes, kinds, key, str(cache_root), theirs),
                       name="alexnet-gui-export", daemon=True)
    try:
        proc.start()
        theirs.close()
        if not mine.poll(timeout_s):
            raise RuntimeError(f"the export did not finish within {timeout_s:.0f} s")
        error = mine.recv()
        if error:
            raise RuntimeError(error)
    except EOFError:
        raise RuntimeError(f"the export process stopped (exit code {proc.exitcode})") from None
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(1)
        mine.close()
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
