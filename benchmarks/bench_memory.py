"""Resident memory of the app with the model loaded: the window's process and its
worker process, together.

This process is the app's window: it builds the real window (seeded weights,
CPU), waits for the model, and reads VmRSS from /proc of itself and of the
worker process (``window.client.pid``); again after one photo is classified,
with the peaks (VmHWM). The budget is on the sum. That the window's process
never imported torch is checked and noted. For scale, a bare process that
imports torch+torchvision and builds torchvision's AlexNet with the same
weights is measured the same way.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    app_rss_mb,
    close_window,
    drop_files,
    emit,
    idle,
    isolate,
    loadavg,
    on_gui,
    open_window,
    photo_copies,
    row,
    seeded_weights,
    wait_model,
    wait_until,
)

BUDGET_MB = 1.6e9 / 2**20  # the design: <= 1.6 GB resident (MB here are MiB, as /proc reports)

BARE = """
import json, sys, torch, torchvision
m = torchvision.models.alexnet()
m.load_state_dict(torch.load(sys.argv[1], weights_only=True))
m.eval()
with torch.inference_mode():
    m(torch.zeros(1, 3, 224, 224))
rss = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmRSS:")][0]
print(json.dumps({"rss_mb": rss}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.parse_args()
    isolate("memory")
    load_before = loadavg()
    weights = seeded_weights()
    photo = str(photo_copies(1)[0])
    bare = json.loads(subprocess.run([sys.executable, "-c", BARE, str(weights)], capture_output=True, text=True,
                                     check=True, timeout=300).stdout.strip().splitlines()[-1])["rss_mb"]
    app, window = open_window(weights)
    shown = app_rss_mb(window)["window"]
    wait_model(window)
    idle(1.0)
    loaded = app_rss_mb(window)
    got: list[str] = []
    relay = on_gui(window.client.worker.predictions_ready, lambda _j, results: got.extend(r.path for r in results))
    drop_files(window, [photo])
    if not wait_until(lambda: photo in got, timeout_s=60):
        raise RuntimeError("no prediction")
    idle(0.5)
    after_one = app_rss_mb(window)
    peak = app_rss_mb(window, field="VmHWM")
    torch_here = "torch" in sys.modules
    del relay
    close_window(window)
    total = loaded["total"]
    rows = [row("resident memory with the model loaded, window + worker process (CPU)",
                f"{total:.0f} MB ({loaded['window']:.0f} + {loaded['worker']:.0f})",
                f"{bare:.0f} MB (bare torch+torchvision AlexNet process)", total / bare,
                f"<= {BUDGET_MB:.0f} MB (1.6 GB)", total <= BUDGET_MB)]

    def both(r: dict) -> str:
        return f"{r['total']:.0f} MB (window {r['window']:.0f} + worker {r['worker']:.0f})"

    notes = [f"memory: the window's process {shown:.0f} MB right after the window was built (the worker still "
             f"importing torch); with the model loaded {both(loaded)}; after classifying one 1024x768 photo "
             f"{both(after_one)}; peaks (VmHWM, each process's own, summed) {both(peak)}. "
             f"The window's process {'HAS imported torch' if torch_here else 'has not imported torch'} "
             f"('torch' in sys.modules: {torch_here}). MB = MiB."]
    emit({"name": "memory", "rows": rows, "notes": notes, "rss_mb": {"shown": shown, "loaded": loaded,
          "after_one": after_one, "peak": peak, "bare": bare}, "window_has_torch": torch_here,
          "load_before": load_before})

if __name__ == "__main__":
    main()
