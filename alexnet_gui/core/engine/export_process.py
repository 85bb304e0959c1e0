"""Exporting in a short-lived process of its own.

The exporter (torch.export, onnxscript, onnx) imports hundreds of megabytes of
modules and works in as much memory again; none of that is handed back to the
system by a long-lived process. The worker therefore exports in a spawned child
that loads the same weights and exits: the engine's graphs go into the cache
(``export_in_child``), a model the user takes away goes where they asked
(``export_model_in_child``, with its progress and report sent back).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..files import write_atomically


def _load_model(weights_file: str, num_classes: int):
    import torch

    from ..device import place_model
    from ..model import model_from_state_dict
    from ..weights import build_model_from_weights, load_weights

    if num_classes:  # a state dict saved for this export
        model = model_from_state_dict(torch.load(weights_file, weights_only=True), num_classes)
    else:  # the user's weights file
        model = build_model_from_weights(load_weights(weights_file))
    return place_model(model, torch.device("cpu")).eval()


def _graphs_child(weights_file: str, num_classes: int, kinds: list[str], key: str, cache_root: str, conn) -> None:
    try:
        from .cache import GraphCache

        model = _load_model(weights_file, num_classes)
        cache = GraphCache(Path(cache_root))
        for kind in kinds:
            cache.get_or_export(model, key, kind)
        conn.send(("done", None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which falls back to torch
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _model_child(weights_file: str, num_classes: int, class_names: list[str], description: str, fmt: str,
                 out: str, int8: bool, conn) -> None:
    try:
        from .export import ExportError, export_model

        model = _load_model(weights_file, num_classes)
        report = export_model(model, class_names, fmt, out, int8=int8, description=description,
                              progress=lambda what, fraction: conn.send(("progress", (what, fraction))))
        conn.send(("done", report))
    except ExportError as exc:
        conn.send(("refused", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def export_in_child(bundle, key: str, kinds: list[str], cache_root: Path, timeout_s: float = 600.0) -> None:
    """Write ``kinds`` of ``bundle``'s model into ``cache_root``'s graph cache from a spawned
    process; raises RuntimeError with the child's message when it failed."""
    from .cache import GraphCache

    cache = GraphCache(cache_root)
    kinds = [k for k in kinds if not cache.path(key, k).is_file()]
    if not kinds:
        return
    with _weights_for_child(bundle, cache.root) as (weights_file, num_classes):
        _run_child(_graphs_child, (weights_file, num_classes, kinds, key, str(cache_root)), "alexnet-gui-export",
                   timeout_s)


def export_model_in_child(bundle, fmt: str, out: str, int8: bool, progress: Callable[[str, float], None],
                          timeout_s: float = 1800.0):
    """``core.engine.export.export_model`` of ``bundle``'s model, run by a spawned process: the
    ExportReport, or ExportError (refused or failed; nothing at ``out``). It runs to its end
    (its temporary files are its own to clean up)."""
    from .export import ExportError

    scratch = Path(tempfile.gettempdir())
    with _weights_for_child(bundle, scratch) as (weights_file, num_classes):
        args = (weights_file, num_classes, list(bundle.class_names), bundle.describe(), fmt, str(out), bool(int8))
        try:
            return _run_child(_model_child, args, "alexnet-gui-export-model", timeout_s, progress)
        except RuntimeError as exc:
            raise ExportError(str(exc)) from None


@contextlib.contextmanager
def _weights_for_child(bundle, folder: Path) -> Iterator[tuple[str, int]]:
    """(weights file, num_classes): the bundle's own file, or, for a model held in memory only
    (a head fine-tuned just now), a temporary state-dict file in ``folder`` (num_classes > 0)."""
    if bundle.weights_path and bundle.sha256 and Path(bundle.weights_path).is_file():
        yield str(bundle.weights_path), 0
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".export-weights.", suffix=".pt", dir=folder)
    os.close(fd)
    try:
        _save_state(bundle.model, temp)
        yield temp, bundle.model.num_classes
    finally:
        Path(temp).unlink(missing_ok=True)


def _save_state(model, path: str) -> None:
    import torch

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_atomically(path, lambda f: torch.save(state, f), fsync=False)


def _run_child(target, args: tuple, name: str, timeout_s: float, progress=None):
    """Run ``target(*args, conn)`` in a spawned process; its ("progress", x) messages go to
    ``progress(*x)``, and its last message gives the result or raises RuntimeError."""
    import time

    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, theirs), name=name, daemon=True)
    end = time.monotonic() + timeout_s
    try:
        proc.start()
        theirs.close()
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0 or not mine.poll(remaining):  # a message, or the child gone (EOF)
                raise RuntimeError(f"the export did not finish within {timeout_s:.0f} s")
            kind, value = mine.recv()
            if kind == "progress":
                if progress is not None:
                    progress(*value)
                continue
            if kind == "done":
                return value
            raise RuntimeError(value)
    except EOFError:
        proc.join(5)
        raise RuntimeError(f"the export process stopped (exit code {proc.exitcode})") from None
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(1)
        mine.close()
