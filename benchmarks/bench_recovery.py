"""Worker killed -> the window working again with the model loaded, against a cold model load.

Measured, in the real window (seeded weights, CPU), once per run, each run a new
window (a second death within a minute stops the restarting, by design): the model
is loaded and one photo classified; then the worker process is killed with SIGKILL
(``os.kill(window.client.pid, SIGKILL)``, as the kernel's out-of-memory killer
would). The window notices (its reader thread sees the pipe close), fails what was
running, starts a new worker and has it load the same model. The clock runs from
the kill until ``model_loaded`` has arrived again and a photo dropped right after
it has its top-5. The GUI thread's heartbeat runs throughout (reported).

Reference, same run, alternating with the windows: the cold model load, a fresh
process that imports torch+torchvision and loads the same weights into
torchvision's AlexNet, timed from its spawn to the end of the load
(``time.perf_counter`` is the system-wide monotonic clock on Linux, the same in
both processes). Also noted: each window's own first start, from creating the
window to its first ``model_loaded``. Budget (issue #14): recovered <= the cold
model load + 1 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    Heartbeat,
    close_window,
    drop_files,
    emit,
    idle,
    isolate,
    loadavg,
    median,
    on_gui,
    open_window,
    photo_copies,
    row,
    seeded_weights,
    wait_until,
)

SLACK_S = 1.0  # issue #14: working again within the cold model-load time + 1 s

COLD_LOAD = """
import sys, time
import torch, torchvision
m = torchvision.models.alexnet()
m.load_state_dict(torch.load(sys.argv[1], weights_only=True))
print(time.perf_counter(), flush=True)
"""


def cold_load_seconds(weights: Path) -> float:
    """Spawn -> weights loaded, of a fresh process importing torch+torchvision."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", COLD_LOAD, str(weights)], capture_output=True, text=True,
                         check=True, timeout=240)
    return float(out.stdout.strip().splitlines()[-1]) - t0


class Watch:
    """What the window's worker said, with when (on the GUI thread)."""

    def __init__(self, window) -> None:
        events = window.client.worker
        self.loaded: list[float] = []
        self.stopped: list[tuple[float, str]] = []
        self.answered: dict[str, float] = {}
        self.relays = [
            on_gui(events.model_loaded, lambda _info: self.loaded.append(time.perf_counter())),
            on_gui(events.worker_stopped, lambda text: self.stopped.append((time.perf_counter(), text))),
            on_gui(events.predictions_ready, self._on_predictions),
        ]

    def _on_predictions(self, _job, results) -> None:
        for r in results:
            if r.prediction.ok:
                self.answered.setdefault(r.path, time.perf_counter())


def answer(window, watch: Watch, path: str) -> float:
    """Drop ``path`` on the window; perf_counter when its top-5 arrived."""
    drop_files(window, [path])
    if not wait_until(lambda: path in watch.answered, timeout_s=120):
        raise RuntimeError(f"no top-5 for {path}")
    return watch.answered[path]


def one_run(weights: Path, photos: list[str]) -> dict:
    t_create = time.perf_counter()
    app, window = open_window(weights)
    watch = Watch(window)
    if not wait_until(lambda: window.model_info is not None, [window.client.worker.model_loaded], 180):
        raise RuntimeError("the model did not load")
    first_start = time.perf_counter() - t_create
    answer(window, watch, photos[0])
    idle(0.5)
    pid = window.client.pid
    if not pid or pid == os.getpid():
        raise RuntimeError(f"the window's model does not run in a process of its own (pid {pid})")
    loads_before = len(watch.loaded)
    beat = Heartbeat().start()
    t_kill = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    if not wait_until(lambda: len(watch.loaded) > loads_before, timeout_s=180):
        raise RuntimeError(f"no model_loaded after the kill; the window said: {watch.stopped}")
    t_loaded = watch.loaded[loads_before]
    t_answered = answer(window, watch, photos[1])
    stall = beat.stats()
    beat.stop()
    new_pid = window.client.pid
    close_window(window)
    if not watch.stopped:
        raise RuntimeError("the window did not say that its worker stopped")
    return {"first_start_s": first_start, "recovered_s": t_answered - t_kill, "loaded_s": t_loaded - t_kill,
            "noticed_s": watch.stopped[0][0] - t_kill, "stall_ms": stall["max_stall_ms"],
            "message": watch.stopped[0][1], "new_pid": new_pid, "old_pid": pid}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    isolate("recovery")
    load_before = loadavg()
    weights = seeded_weights()
    photos = [str(p) for p in photo_copies(2 * args.runs)]
    cold_load_seconds(weights)  # warm-up: disk cache, .pyc files
    runs, colds = [], []
    for i in range(args.runs):
        colds.append(cold_load_seconds(weights))
        runs.append(one_run(weights, photos[2 * i: 2 * i + 2]))
    recovered, cold = median([r["recovered_s"] for r in runs]), median(colds)
    rows = [row("worker process killed (SIGKILL) -> model loaded again and a dropped photo answered (CPU)",
                f"{recovered:.2f} s", f"{cold:.2f} s (cold model load: a fresh process importing torch+torchvision "
                "and loading the weights)", recovered / cold, f"<= reference + {SLACK_S:g} s",
                recovered <= cold + SLACK_S)]

    def join(key: str, fmt: str = "{:.2f}") -> str:
        return ", ".join(fmt.format(r[key]) for r in runs)

    notes = [f"recovery: median of {len(runs)} runs, a new window each; after the kill the window said so after "
             f"{join('noticed_s', '{:.3f}')} s, model_loaded arrived after {join('loaded_s')} s, the photo dropped "
             f"then was answered after {join('recovered_s')} s; cold model loads {', '.join(f'{c:.2f}' for c in colds)}"
             f" s; each window's first start (window created -> model_loaded) {join('first_start_s')} s; GUI stall "
             f"from the kill to the answer {join('stall_ms', '{:.0f}')} ms. The window's message: "
             f"\"{runs[0]['message']}\""]
    emit({"name": "recovery", "rows": rows, "notes": notes, "runs": runs, "cold_load_s": colds,
          "load_before": load_before})


if __name__ == "__main__":
    main()
