"""Explain: Grad-CAM and Occlusion against bare torchvision forwards, the GUI stall while
explanations run in the window, and a drop during an Occlusion.

Compute rows, in a child process (this one holds the window and imports no torch):
the app's model placed as the worker places it, the seeded weights, one 1024x768
photo resized and cropped to 224 once (not timed).

* Grad-CAM, warm: ``core.explain.gradcam.gradcam`` at relu5 for the top-1 class (one
  forward that keeps the logits, the backward to relu5, the weighted sum, the bilinear
  upsampling) against one torchvision ``alexnet()`` forward of the same tensor under
  ``inference_mode``. Alternating, median of N. Budget <= 2.5 x.
* Occlusion, patch 32, stride 16 on 224 x 224 (13 x 13 = 169 occluded copies in batches
  of 32, the app's steps run to their end) against 169 bare batched forwards (batches
  of 32, torchvision, ``inference_mode``) of the same copies. Median of N. Budget <= 1.2 x.

Window rows (the real window, its worker process): a photo classified, then the Explain
tab shows Grad-CAM, Occlusion and Integrated Gradients of it in turn; a 10 ms heartbeat
on the GUI thread gives the longest stall while they run (budget 50 ms). Then an
occlusion job runs (Classify shown) and, once its first batch is done, a second photo
is dropped on the window: the drop's top-5 must arrive before the occlusion's next
batch but one (answered after the batch running at the drop); the time is reported.
"""

from __future__ import annotations

import argparse
import json
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
    isolate,
    loadavg,
    median,
    ms,
    on_gui,
    open_window,
    photo_copies,
    row,
    seeded_weights,
    sync,
    torchvision_reference,
    wait_model,
    wait_until,
)

GRADCAM_BUDGET, OCCLUSION_BUDGET, STALL_BUDGET_MS = 2.5, 1.2, 50.0
PATCH, STRIDE, BATCH = 32, 16, 32


# ---------------------------------------------------------------- compute (child process)


def compute(n: int, device: str) -> dict:
    import torch

    from alexnet_gui.core.device import place_model
    from alexnet_gui.core.explain.gradcam import gradcam
    from alexnet_gui.core.explain.occlusion import occlusion_steps, positions
    from alexnet_gui.core.images import load_image
    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.preprocess import preprocess

    dev = torch.device(device)
    model = build_model()
    model.load_state_dict(torch.load(seeded_weights(), weights_only=True))
    model = place_model(model.eval(), dev)
    reference, _ = torchvision_reference(device)
    x = preprocess(load_image(photo_copies(1)[0])).unsqueeze(0).to(dev)
    with torch.inference_mode():
        target = int(model(x)[0].argmax())
        base_p = float(torch.softmax(model(x), 1)[0, target])
    spots = [(t, left) for t in positions(224, PATCH, STRIDE) for left in positions(224, PATCH, STRIDE)]
    copies = x.expand(len(spots), -1, -1, -1).clone()
    for i, (t, left) in enumerate(spots):
        copies[i, :, t:t + PATCH, left:left + PATCH] = 0.0

    def timed(fn) -> float:
        sync(dev)
        t0 = time.perf_counter()
        fn()
        sync(dev)
        return time.perf_counter() - t0

    def bare_forward():
        with torch.inference_mode():
            reference(x)

    def bare_batches():
        with torch.inference_mode():
            for start in range(0, len(spots), BATCH):
                reference(copies[start:start + BATCH])

    def occlusion():
        steps = occlusion_steps(model, x, target, base_p, PATCH, STRIDE, BATCH)
        for _ in steps:
            pass

    for _ in range(3):  # warm-up: oneDNN's kernels, Captum's import
        timed(bare_forward)
        timed(lambda: gradcam(model, x, "features.11", None))
    grad_app, grad_ref = [], []
    for _ in range(n * 4):
        grad_ref.append(timed(bare_forward))
        grad_app.append(timed(lambda: gradcam(model, x, "features.11", None)))
    timed(occlusion)
    timed(bare_batches)
    occ_app, occ_ref = [], []
    for _ in range(n):
        occ_ref.append(timed(bare_batches))
        occ_app.append(timed(occlusion))
    return {"gradcam_app": grad_app, "gradcam_ref": grad_ref, "occlusion_app": occ_app, "occlusion_ref": occ_ref,
            "windows": len(spots), "threads": torch.get_num_threads()}


def compute_in_child(n: int, device: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", "--n", str(n), "--device", device],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- window


def explain_in_view(window, method: str) -> None:
    view = window.explain_view
    shown = []
    relay = on_gui(view.shown, lambda e: shown.append(e.method))
    if view.controls.method() == method:
        view.run()
    else:
        view.controls.set_method(method)  # the view asks again for the image shown
    if not wait_until(lambda: method in shown and not view.is_running(), timeout_s=300):
        raise RuntimeError(f"no {method} map: {view.main_pane.message()}")
    del relay


def stall_while_explaining(window, photo: str) -> dict:
    view = window.explain_view
    got = set()
    relay = on_gui(window.client.worker.predictions_ready, lambda _j, rs: got.update(r.path for r in rs))
    window.open_paths([photo])
    if not wait_until(lambda: photo in got, timeout_s=120):
        raise RuntimeError("no top-5 for the photo")
    window.tabs.setCurrentWidget(view)
    if not wait_until(lambda: view.main_pane.explanation is not None and not view.is_running(), timeout_s=120):
        raise RuntimeError("no Grad-CAM when the tab was shown")
    beat = Heartbeat().start()
    t0 = time.perf_counter()
    for method in ("gradcam", "occlusion", "integrated-gradients"):
        explain_in_view(window, method)
    stats = beat.stats()
    beat.stop()
    del relay
    stats["seconds"] = time.perf_counter() - t0
    stats["worst_at_s"] = stats["max_stall_began"] - t0
    return stats


def drop_during_occlusion(window, photo: str, other: str) -> dict:
    window.tabs.setCurrentWidget(window.classify_view)
    job = window.client.explain(photo, {"method": "occlusion", "patch": PATCH, "stride": STRIDE, "batch": BATCH})
    batches: list[float] = []
    answered: dict = {}
    relays = [on_gui(job.progressed, lambda done, total: batches.append(time.perf_counter())),
              on_gui(window.client.worker.predictions_ready,
                     lambda _j, rs: answered.setdefault("t", time.perf_counter()) if any(r.path == other for r in rs)
                     else None)]
    if not wait_until(lambda: len(batches) >= 1, timeout_s=120):
        raise RuntimeError("the occlusion job reported no batch")
    t_drop = drop_files(window, [other])
    if not wait_until(lambda: "t" in answered, timeout_s=120):
        raise RuntimeError("the drop was not answered")
    batches_at_drop = sum(t <= t_drop for t in batches)
    batches_by_answer = sum(t <= answered["t"] for t in batches)
    wait_until(lambda: job.done(), timeout_s=300)
    del relays
    gaps = [b - a for a, b in zip(batches, batches[1:])]
    return {"answer_s": answered["t"] - t_drop, "batches_between": batches_by_answer - batches_at_drop,
            "batch_s": median(gaps) if gaps else float("nan"), "finished": job.state == "finished"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(compute(args.n, args.device)))
        return
    isolate(f"explain-{args.device}")
    load_before = loadavg()
    c = compute_in_child(args.n, args.device)
    photo, other = (str(p) for p in photo_copies(2))
    app, window = open_window(seeded_weights(), args.device)
    wait_model(window)
    stall = stall_while_explaining(window, photo)
    drop = drop_during_occlusion(window, photo, other)
    close_window(window)
    emit(result(c, stall, drop, args, load_before))


def result(c: dict, stall: dict, drop: dict, args, load_before) -> dict:
    dev = "CPU" if args.device == "cpu" else "CUDA"
    g_app, g_ref = median(c["gradcam_app"]), median(c["gradcam_ref"])
    o_app, o_ref = median(c["occlusion_app"]), median(c["occlusion_ref"])
    rows = [
        row(f"Grad-CAM at relu5, one image, warm ({dev})", ms(g_app), f"{ms(g_ref)} (one torchvision forward)",
            g_app / g_ref, f"<= {GRADCAM_BUDGET} x reference", g_app / g_ref <= GRADCAM_BUDGET),
        row(f"Occlusion patch {PATCH} stride {STRIDE} on 224, {c['windows']} copies in batches of {BATCH} ({dev})",
            ms(o_app), f"{ms(o_ref)} ({c['windows']} bare batched torchvision forwards)", o_app / o_ref,
            f"<= {OCCLUSION_BUDGET} x reference", o_app / o_ref <= OCCLUSION_BUDGET),
        row("GUI stall while Grad-CAM, Occlusion and Integrated Gradients run in the Explain tab",
            f"{stall['max_stall_ms']:.1f} ms", "-", None, f"<= {STALL_BUDGET_MS:.0f} ms",
            stall["max_stall_ms"] <= STALL_BUDGET_MS),
        row("a drop during an Occlusion: drop -> its top-5 (answered after the current batch)",
            ms(drop["answer_s"]), f"{ms(drop['batch_s'])} (one occlusion batch of {BATCH})", None,
            "answered before the next batch but one", drop["batches_between"] <= 1),
    ]
    notes = [f"explain ({dev}): Grad-CAM median of {len(c['gradcam_app'])} alternating runs (min app "
             f"{ms(min(c['gradcam_app']))}, min reference {ms(min(c['gradcam_ref']))}); occlusion median of "
             f"{len(c['occlusion_app'])}; torch threads {c['threads']}. Stall over {stall['seconds']:.1f} s of "
             f"explaining (worst began {stall['worst_at_s']:.2f} s in, {stall['stalls_over_50ms']} ticks over 50 ms). "
             f"The drop's answer came after {drop['batches_between']} more occlusion batch(es); the occlusion "
             f"{'finished' if drop['finished'] else 'did not finish'} afterwards."]
    return {"name": f"explain-{args.device}", "rows": rows, "notes": notes, "load_before": load_before,
            "compute": c, "stall": stall, "drop": drop}


if __name__ == "__main__":
    main()
