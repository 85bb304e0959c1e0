"""Soak: a folder of 1,000 images classified twice in the window.

The real window (seeded weights, CPU) opens the same folder twice, one pass
after the other (the list is cleared between them, so the second pass
classifies every image again). Measured: the app's VmRSS after each pass, the
window's process and its worker process together (growth after the first pass
must stay small: nothing per image may pile up in either), and the GUI
thread's 10 ms heartbeat throughout both passes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    Heartbeat,
    app_rss_mb,
    classify_folder,
    close_window,
    emit,
    idle,
    isolate,
    loadavg,
    open_window,
    row,
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
    rss = {"loaded": app_rss_mb(window)}
    beat = Heartbeat().start()
    seconds, stalls = [], []
    for k in (1, 2):
        if k == 2:  # the same 1000 files again, as a user does: Edit > Clear images, then open the folder
            window.actions["clear"].trigger()
        beat.mark()
        t0 = beat.last
        seconds.append(classify_folder(window, folder, n))
        stalls.append(beat.stats())
        stalls[-1]["max_stall_began"] -= t0  # seconds into the pass
        idle(1.0)
        rss[f"pass{k}"] = app_rss_mb(window)
    beat.stop()
    done = sum(e.status == "done" for e in window.classify_view.images.entries())
    close_window(window)
    growth = rss["pass2"]["total"] - rss["pass1"]["total"]
    stall = max(s["max_stall_ms"] for s in stalls)
    rows = [
        row(f"soak: RSS growth, window + worker process, second pass over {n} images", f"{growth:+.1f} MB",
            f"{rss['pass1']['total']:.0f} MB after the first pass", None, f"<= {GROWTH_BUDGET_MB} MB",
            growth <= GROWTH_BUDGET_MB),
        row(f"soak: GUI stall through both passes ({2 * n} classifications)", f"{stall:.0f} ms", "10 ms heartbeat",
            None, f"<= {STALL_BUDGET_MS} ms", stall <= STALL_BUDGET_MS),
    ]

    def both(r: dict) -> str:
        return f"{r['total']:.0f} MB (window {r['window']:.0f} + worker {r['worker']:.0f})"

    notes = [f"soak: RSS {both(rss['loaded'])} loaded, {both(rss['pass1'])} after pass 1, {both(rss['pass2'])} "
             f"after pass 2; passes took {seconds[0]:.1f} s and {seconds[1]:.1f} s ({n / seconds[0]:.1f} and "
             f"{n / seconds[1]:.1f} img/s); stalls per pass: max "
             + ", ".join(f"{s['max_stall_ms']} ms ({s['max_stall_began']:.2f} s into the pass; p99 "
                         f"{s['p99_stall_ms']}, {s['stalls_over_50ms']} over 50 ms)"
                         for s in stalls) + f"; {done} of {n} listed images done."]
    emit({"name": "soak", "rows": rows, "notes": notes, "rss_mb": rss, "seconds": seconds, "stalls": stalls,
          "load_before": load_before})


if __name__ == "__main__":
    main()
