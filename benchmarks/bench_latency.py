"""Drop -> top-5 shown for one image (warm), against a bare torchvision forward.

Measured: a synthesised drag and drop of one 1024x768 JPEG on the real window, from the
drop event until the top-5 bars hold the new prediction and the paint pass that
drew them has finished (the worker decodes, preprocesses and runs the model; the
GUI thread lists the image, fills the bars and paints; thumbnail and preview
follow in a second update, not timed). Several drops per round, each of its own copy:

* the enter and the drop in the same instant (a hover of 0 ms): nothing can start
  before the drop, so this row times the whole path (decode, forward, hand-offs,
  drawing). It is what a user gets whenever nothing could start early, the
  like-for-like comparison with the reference, and the budget row (first);
* dragged over the window for each of ``--hovers`` (default 150 and 30 ms; drag
  moves every 16 ms), then dropped. The window classifies a single dragged image
  from the drag-enter on (``ui/early_classify.py``), so the top-5 can be ready when
  the drop lands: these rows need that head start, say so in their names, and
  are reported (no budget); the hovers show how the time depends on it.

Reference, same image, same run, same seeded weights, in a process of its own
(``reference_child.py``; why: see there): ``torchvision.models.alexnet()`` +
``AlexNet_Weights.IMAGENET1K_V1.transforms()``: PIL open + convert("RGB") +
transform + forward under ``inference_mode`` (no softmax/top-k, no drawing).
The two alternate image by image, after warm-up rounds, and each is the median
of N.

The model runs in the window's worker process: the request crosses the pipe,
the worker decodes, preprocesses and runs the model, and its answer crosses
back, is read and unpickled by the window's reader thread and dispatched on the
GUI thread. The notes split the time at the answer's arrival (read off the
pipe in the window's process) and at the bars' paint.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    ReferenceProcess,
    close_window,
    drop_files,
    emit,
    engine_note,
    idle,
    isolate,
    loadavg,
    median,
    ms,
    on_gui,
    open_window,
    photo_copies,
    row,
    seeded_weights,
    wait_model,
    wait_until,
)

# Enter and drop at once, warm, against torchvision open + transform + forward: issue #14 (the model in
# its own process) asked <= 1.05 x, issue #15 (the ONNX Runtime engine) <= 0.9 x, stretch 0.7 x. The
# stricter, later one holds; the stretch is named in the notes.
BUDGET_RATIO = 0.9
STRETCH_RATIO = 0.7


class ShownProbe:
    """Notes when the window's top-5 shows ``path``: the bars filled, then the end of the
    paint pass that drew them."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import QEvent, QObject, Qt, QTimer

        self.window = window
        self.path = None
        self.painting = False
        self.t_result = self.t_painted = None
        self.forward_s = None
        self.arrived: dict[str, float] = {}  # path -> first predictions_ready on the GUI thread
        self.read: dict[str, float] = {}  # path -> its top-5's message read off the pipe (reader thread)
        probe = self

        class PaintSpy(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt override
                # The paint may come before the relay below has run (the worker's one emit
                # queues a call per receiver, and the view's runs first): check the bars here.
                if event.type() == QEvent.Type.Paint and not probe.painting and probe.filled():
                    probe.painting = True
                    probe.t_result = probe.t_result or time.perf_counter()
                    # Shown = this paint pass finished (every dirty widget drawn, the frame
                    # flushed): a zero timer runs once the event being handled has returned.
                    QTimer.singleShot(0, probe.frame_done)
                return False

        self.spy = PaintSpy()
        window.classify_view.bars.chart.installEventFilter(self.spy)
        self.relay = on_gui(window.client.worker.predictions_ready, self._on_predictions)
        # The client's reader thread posts every message it has read and unpickled with this
        # (private) signal; a direct slot runs in that thread, before the GUI thread sees it.
        window.client._arrived.connect(self._on_read, Qt.ConnectionType.DirectConnection)

    def arm(self, path: str) -> None:
        self.path, self.t_result, self.t_painted, self.forward_s = path, None, None, None
        self.painting = False

    def frame_done(self) -> None:
        self.t_painted = time.perf_counter()

    def filled(self) -> bool:
        """The bars hold ``path``'s prediction (a drop clears them until it arrives)."""
        view = self.window.classify_view
        entry = view.images.entry_for(self.path) if self.path else None
        return (entry is not None and entry.result is not None and view.current_path() == self.path
                and bool(view.bars.texts()))

    def _on_read(self, item) -> None:  # in the window's reader thread, as a message is posted
        now = time.perf_counter()
        _generation, message = item
        if len(message) == 3 and message[1] == "predictions_ready":
            for r in message[2][1]:
                self.read.setdefault(r.path, now)

    def _on_predictions(self, _job, results) -> None:
        for r in results:
            self.arrived.setdefault(r.path, time.perf_counter())
            if r.path == self.path and r.prediction.ok:
                self.forward_s = self.forward_s or r.prediction.seconds
                if self.t_result is None and self.filled():
                    self.t_result = time.perf_counter()

    def done(self) -> bool:
        # Painted, or (a platform that paints nothing) 200 ms after the bars were filled.
        return self.t_painted is not None or (self.t_result is not None and time.perf_counter() - self.t_result > 0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--hovers", default="0.15,0.03",
                    help="comma-separated seconds the file is dragged over the window before the drop, one reported "
                         "row each (the budget row, enter and drop at once, is always measured)")
    args = ap.parse_args()
    isolate(f"latency-{args.device}")
    load_before = loadavg()
    hovers = [float(h) for h in args.hovers.split(",") if h.strip() and float(h) > 0]
    rounds = args.n + args.warmup
    per_round = 1 + len(hovers)
    copies = [str(p) for p in photo_copies(per_round * rounds)]
    reference = ReferenceProcess(seeded_weights(), args.device)
    app, window = open_window(seeded_weights(), args.device)
    wait_model(window)
    probe = ShownProbe(window)
    idle(0.5)

    def dropped(path: str, hover_s: float) -> tuple[float, float]:
        """(seconds from the drop until the top-5 is shown, the drop's perf_counter)."""
        nonlocal painted
        probe.arm(path)
        t0 = drop_files(window, [path], hover_s)
        if not wait_until(lambda: probe.done() and path in probe.arrived, timeout_s=60):
            raise RuntimeError(f"no top-5 shown for {path}")
        painted += probe.t_painted is not None
        return (probe.t_painted or probe.t_result) - t0, t0

    refs, ref_pres, apps, firsts, forwards, reads, trips, painted = [], [], [], [], [], [], [], 0
    hovered: dict[float, list[float]] = {h: [] for h in hovers}
    for i in range(rounds):
        mine = copies[per_round * i: per_round * (i + 1)]
        path = mine[0]
        ref = reference.seconds(path)
        idle(0.1)
        after_hover = {}
        for h, held in zip(hovers, mine[1:]):
            after_hover[h], _ = dropped(held, h)
            idle(0.1)
        shown, t0 = dropped(path, 0.0)
        first, read = probe.t_result - t0, probe.read[path] - t0
        idle(0.1)
        # Diagnostic: the round trip alone (request sent -> its answer read off the pipe in
        # the window's process), no drop, no drawing.
        probe.read.pop(path, None)
        t1 = time.perf_counter()
        window.client.classify([path])
        wait_until(lambda: path in probe.read, timeout_s=60)
        trip = probe.read[path] - t1
        idle(0.1)
        if i >= args.warmup:
            refs.append(ref)
            ref_pres.append(reference.before_forward)
            apps.append(shown)
            for h in hovers:
                hovered[h].append(after_hover[h])
            firsts.append(first)
            forwards.append(probe.forward_s or 0.0)
            reads.append(read)
            trips.append(trip)
    engine_text = engine_note(window)
    close_window(window)
    reference.close()

    app_s, ref_s = median(apps), median(refs)
    ratio = app_s / ref_s
    dev = args.device.upper() if args.device == "cpu" else "CUDA"
    reference_text = f"{ms(ref_s)} (torchvision open+transform+forward)"
    rows = [
        row(f"drop -> top-5 shown, one 1024x768 JPEG, enter and drop at once: the whole path after the drop, "
            f"warm ({dev})", ms(app_s), reference_text, ratio, f"<= {BUDGET_RATIO} x reference", ratio <= BUDGET_RATIO),
    ]
    for h in hovers:
        rows.append(row(f"drop -> top-5 shown, the same image dragged over the window for {h * 1000:.0f} ms first "
                        f"(classified from the drag-enter), warm ({dev})", ms(median(hovered[h])), reference_text,
                        median(hovered[h]) / ref_s, "reported", None))
    hover_text = "".join(f"dragged for {h * 1000:.0f} ms: window min/max {ms(min(v))}/{ms(max(v))}; "
                         for h, v in hovered.items())
    notes = [
        f"latency ({dev}): median of {len(apps)} alternating rounds after {args.warmup} warm-up rounds; "
        f"{hover_text}enter and drop at once: window min/max {ms(min(apps))}/{ms(max(apps))}, "
        f"reference min/max {ms(min(refs))}/{ms(max(refs))}; "
        f"the reference's median open+convert+transform {ms(median(ref_pres))}, its forward pass "
        f"{ms(median(r - p for r, p in zip(refs, ref_pres)))}; "
        f"medians after the drop: the top-5's message is read off the pipe in the window's process (reader "
        f"thread, unpickled) at {ms(median(reads))} (stamped by a direct slot that the reader thread calls "
        f"right after posting the message to the GUI thread: when the GUI thread takes the message at once, "
        f"the stamp can fall after the bars are filled; the worker's normalisation + forward pass inside that: "
        f"{ms(median(forwards))}), the bars are filled and their paint begins at {ms(median(firsts))}, the paint "
        f"pass ends at {ms(app_s)} (the measured value); the round trip alone (client.classify -> the answer "
        f"read in the window's process, no drop, no drawing) {ms(median(trips))}; "
        f"{painted} of {per_round * rounds} drops ended on a paint of the bars (else 200 ms after they were filled); "
        f"the split above is of the drops with enter and drop at once; against the stretch goal (<= "
        f"{STRETCH_RATIO} x) the ratio {ratio:.2f} {'meets it' if ratio <= STRETCH_RATIO else 'does not'}."
        + engine_text,
    ]
    emit({"name": f"latency-{args.device}", "rows": rows, "notes": notes, "app_s": apps,
          "hovered_s": {f"{h:g}": v for h, v in hovered.items()}, "reference_s": refs, "load_before": load_before})


if __name__ == "__main__":
    main()
