"""``auto``: which engine is faster on this machine, measured once and remembered.

The measurement is a few batch-1 and batch-8 forwards of each (best of a few
runs, after one warm-up), done the first time a machine meets a set of library
versions; the answer lives in ``cache_dir()/engine-choice.json`` keyed by the
processor, its thread count, the device and the versions. Thread settings are
one decision too: torch keeps its team, ONNX Runtime gets a team of the same
size whose threads spin for a while after a run (``runners.session_options``).
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..files import write_atomically
from ..paths import cache_dir
from .cache import library_versions

CHOICE_FILE = "engine-choice.json"
_REPEATS = 3


def engine_threads() -> int:
    """The intra-op thread count both engines use: torch's (set once per process)."""
    return max(1, torch.get_num_threads())


def machine_key(device: torch.device) -> str:
    versions = ",".join(f"{k}={v}" for k, v in sorted(library_versions().items()))
    return "|".join((platform.machine(), platform.processor() or "?", _cpu_model(), str(os.cpu_count()),
                     f"threads={engine_threads()}", str(device.type), versions))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _best_seconds(run: Callable[[np.ndarray], object], x: np.ndarray) -> float:
    run(x)  # warm-up: first-run allocations and kernel choices
    best = float("inf")
    for _ in range(_REPEATS):
        t0 = time.perf_counter()
        run(x)
        best = min(best, time.perf_counter() - t0)
    return best


def measure(torch_run, ort_run) -> dict[str, float]:
    """Seconds per image of each engine: batch 1 (a drop) plus batch 8 per image (folders), summed."""
    rng = np.random.default_rng(0)
    one = rng.standard_normal((1, 3, 224, 224), dtype=np.float32)
    eight = rng.standard_normal((8, 3, 224, 224), dtype=np.float32)
    return {name: _best_seconds(run, one) + _best_seconds(run, eight) / 8
            for name, run in (("torch", torch_run), ("onnxruntime", ort_run))}


class ChoiceStore:
    """The remembered answers, one per machine key."""

    def __init__(self, root: Path | None = None) -> None:
        self.path = (root or cache_dir()) / CHOICE_FILE

    def read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict | None:
        entry = self.read().get(key)
        return entry if isinstance(entry, dict) and entry.get("engine") in ("torch", "onnxruntime") else None

    def put(self, key: str, entry: dict) -> None:
        data = self.read()
        data[key] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, lambda f: f.write(json.dumps(data, indent=1).encode()), fsync=False)
        except OSError:
            pass  # measured again next time


def choose(device: torch.device, torch_run, ort_run, store: ChoiceStore | None = None) -> tuple[str, dict]:
    """("torch" | "onnxruntime", the entry with both timings): from the store, else measured and stored."""
    store = store or ChoiceStore()
    key = machine_key(device)
    entry = store.get(key)
    if entry is None:
        seconds = measure(torch_run, ort_run)
        entry = {"engine": min(seconds, key=seconds.get), "seconds_per_image": seconds, "measured": time.time()}
        store.put(key, entry)
    return entry["engine"], entry
