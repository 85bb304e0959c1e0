"""Resident memory of the app process with the model loaded.

This process is the app: it builds the real window (seeded weights, CPU),
waits for the model, and reads its own VmRSS from /proc/self/status; again
after one photo is classified, with the peak (VmHWM). For scale, a bare
process that imports torch+torchvision and builds torchvision's AlexNet with
the same weights is measured the same way.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
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
    rss_mb,
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
    shown = rss_mb()
    wait_model(window)
    idle(1.0)
    loaded = rss_mb()
    got: list[str] = []
    relay = on_gui(window.client.worker.predictions_ready, lambda _j, results: got.extend(r.path for r in results))
    drop_files(window, [photo])
    if not wait_until(lambda: photo in got, timeout_s=60):
        raise RuntimeError("no prediction")
    idle(0.5)
    after_one = rss_mb()
    peak = rss_mb(field="VmHWM")
    del relay
    close_window(window)
    rows = [row("resident memory with the model loaded (CPU)", f"{loaded:.0f} MB",
                f"{bare:.0f} MB (bare torch+torchvision AlexNet process)", loaded / bare, f"<= {BUDGET_MB:.0f} MB (1.6 GB)",
                loaded <= BUDGET_MB)]
    notes = [f"memory: RSS {shown:.0f} MB right after the window was built (torch still importing in the worker), "
             f"{loaded:.0f} MB with the model loaded, {after_one:.0f} MB after classifying one 1024x768 photo; "
             f"peak (VmHWM) {peak:.0f} MB. MB = MiB."]
    emit({"name": "memory", "rows": rows, "notes": notes, "rss_mb": {"shown": shown, "loaded": loaded,
          "after_one": after_one, "peak": peak, "bare": bare}, "load_before": load_before})


if __name__ == "__main__":
    main()
