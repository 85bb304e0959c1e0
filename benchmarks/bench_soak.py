"""Soak: a folder of 1,000 images classified twice in the window.

The real window (seeded weights, CPU) opens the same folder twice, one pass
after the other (the second re-queues every listed image, as a user's second
drop does). Measured: this process's VmRSS after each pass (growth after the
first pass must stay small: nothing per image may pile up) and the GUI
thread's 10 ms heartbeat throughout both passes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    Heartbeat,
    classify_folder,
    close_window,
    emit,
    idle,
    isolate,
    loadavg,
    open_window,
    row,
    rss_mb,
    seeded_weights,
    shapes_folder,
    wait_model,
)

GROWTH_BUDGET_MB = 50
STALL_BUDGET_MS = 20  # the design: GUI stall through the soak <= 20 ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-class", type=int, default=250, help="images per class (4 classes)")
    args = ap.parse_args()
    isolate("soak")
    load_before = loadavg()
    folder = shapes_folder(args.per_class)
    n = 4 * args.per_class
    app, window = open_window(seeded_weights())
    wait_model(window)
    idle(1.0)
    rss = {"loaded": rss_mb()}
    beat = Heartbeat().start()
    seconds, stalls = [], []
    for k in (1, 2):
        if k == 2:  # the same 1000 files again, as a user does: Edit > Clear images, then open the folder
            window.actions["clear"].trigger()
        beat.mark()
        seconds.append(classify_folder(window, folder, n))
        stalls.append(beat.stats())
        idle(1.0)
        rss[f"pass{k}"] = rss_mb()
    beat.stop()
    done = sum(e.status == "done" for e in window.classify_view.images.entries())
    close_window(window)
    growth = rss["pass2"] - rss["pass1"]
    stall = max(s["max_stall_ms"] for s in stalls)
    rows = [
        row(f"soak: RSS growth, second pass over {n} images", f"{growth:+.1f} MB",
            f"{rss['pass1']:.0f} MB after the first pass", None, f"<= {GROWTH_BUDGET_MB} MB",
            growth <= GROWTH_BUDGET_MB),
        row(f"soak: GUI stall through both passes ({2 * n} classifications)", f"{stall:.0f} ms", "10 ms heartbeat",
            None, f"<= {STALL_BUDGET_MS} ms", stall <= STALL_BUDGET_MS),
    ]
    notes = [f"soak: RSS {rss['loaded']:.0f} MB loaded, {rss['pass1']:.0f} MB after pass 1, {rss['pass2']:.0f} MB "
             f"after pass 2; passes took {seconds[0]:.1f} s and {seconds[1]:.1f} s ({n / seconds[0]:.1f} and "
             f"{n / seconds[1]:.1f} img/s); stalls per pass: max "
             + ", ".join(f"{s['max_stall_ms']} ms (p99 {s['p99_stall_ms']}, {s['stalls_over_50ms']} over 50 ms)"
                         for s in stalls) + f"; {done} of {n} listed images done."]
    emit({"name": "soak", "rows": rows, "notes": notes, "rss_mb": rss, "seconds": seconds, "stalls": stalls,
          "load_before": load_before})


if __name__ == "__main__":
    main()
