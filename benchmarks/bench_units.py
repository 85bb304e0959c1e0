"""What a unit sees: the top-9 scan, a second look, feature visualisation, and the window meanwhile.

Rows, in one run (seeded weights, N seeded 160x120 JPEGs in one flat folder):

1. Top-9 of one conv5 channel over the N images, first scan of the layer (a cold cache):
   ``core.units.run.top_images_steps`` as the worker runs it (hash each file, decode one
   batch ahead, forward as far as conv5, keep each channel's maximum and place in the
   cache, rank, cut the nine patches). Reference: a capable torchvision user's batched
   forward over the same images: a ``DataLoader`` (PIL open + the weights' transforms in
   worker processes, batch 64) feeding torchvision's ``alexnet()`` with channels-last
   weights under ``inference_mode``. Budget <= 1.3 x.
2. Again, another channel of the same layer (every summary in the cache): <= 0.5 s.
3. Feature visualisation of a conv5 channel, S steps (the Lucid recipe: Fourier colour
   parameterisation, jitter/scale/rotation each step), against S bare forward + backward
   passes at batch 1 of torchvision's ``features[:11]`` (the same layer) with respect to a
   224x224 input, the channel's mean as the loss. Budget <= 1.5 x.
4. GUI stall (a 10 ms timer on the window's GUI thread) while the real window's Units tab
   scans the folder in its worker process and then makes a picture, shown live: <= 50 ms.

The window runs first, before this process imports torch (it stands for the app's
torch-free window process); the core rows then run here with caches of their own.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    Heartbeat,
    channels_last,
    close_window,
    dataloader_reference_seconds,
    emit,
    isolate,
    loadavg,
    ms,
    on_gui,
    open_window,
    row,
    seeded_weights,
    shapes_folder,
    torchvision_reference,
    wait_model,
    wait_until,
)

SCAN_RATIO = 1.3
AGAIN_S = 0.5
VISUALIZE_RATIO = 1.5
STALL_MS = 50.0
LAYER, CHANNEL, OTHER = "features.10", 7, 200


def window_stall(folder: Path, steps: int) -> dict:
    """The window's worst stall while its Units tab scans ``folder`` and then makes a picture."""
    from alexnet_gui.ui.inside import unit_view

    app, window = open_window(seeded_weights(), "cpu")
    wait_model(window)
    view = window.unit_view
    unit_view.PICTURE_STEPS = steps
    seen = {}
    relays = [on_gui(view.top_shown, lambda top: seen.setdefault("top", top)),
              on_gui(view.picture_shown, lambda picture: seen.setdefault("picture", picture))]
    window.tabs.setCurrentWidget(view)
    view.set_folder(str(folder))
    view.set_unit(LAYER, CHANNEL)
    beat = Heartbeat().start()
    t0 = time.perf_counter()
    view.find_top()
    if not wait_until(lambda: "top" in seen, timeout_s=1800):
        raise RuntimeError(f"the Units tab found no top images: {view.status.text()}")
    t_top = time.perf_counter() - t0
    view.make_picture()
    if not wait_until(lambda: "picture" in seen, timeout_s=1800):
        raise RuntimeError(f"the Units tab made no picture: {view.status.text()}")
    stats = beat.stats()
    stats["seconds"] = time.perf_counter() - t0
    stats["scan_s"] = t_top
    beat.stop()
    del relays
    close_window(window)
    return stats


def scan_rows(paths: list[str], workers: int) -> dict:
    import torch

    from alexnet_gui.core.finetune.cache import FeatureCache
    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.units.run import run_to_end, top_images_steps

    reference, transform = torchvision_reference("cpu")
    ref_s = dataloader_reference_seconds(channels_last(reference), paths, transform, workers, 64, "cpu")
    model = build_model()
    model.load_state_dict(torch.load(seeded_weights(), weights_only=True))
    model.eval()
    cache = FeatureCache(Path(tempfile.mkdtemp(prefix="units-cache-", dir=os.environ["XDG_CACHE_HOME"])))
    with torch.inference_mode():
        model.features(torch.zeros(64, 3, 224, 224))  # warm, as the reference is
    t0 = time.perf_counter()
    first = run_to_end(top_images_steps(model, paths, LAYER, CHANNEL, "seeded", torch.device("cpu"), cache))
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = run_to_end(top_images_steps(model, paths, LAYER, OTHER, "seeded", torch.device("cpu"), cache))
    again_s = time.perf_counter() - t0
    ref_after = dataloader_reference_seconds(channels_last(reference), paths, transform, workers, 64, "cpu")
    if first.computed != len(paths) or again.computed != 0:
        raise RuntimeError(f"computed {first.computed} then {again.computed} of {len(paths)} images")
    return {"first_s": first_s, "again_s": again_s, "ref_s": (ref_s + ref_after) / 2, "ref_runs": [ref_s, ref_after],
            "model": model}


def visualize_rows(model, steps: int) -> dict:
    import torch

    from alexnet_gui.core.units import Unit, VisualizeSettings
    from alexnet_gui.core.units.run import run_to_end
    from alexnet_gui.core.units.visualize import visualize_steps

    reference, _ = torchvision_reference("cpu")
    cut = reference.features[:11]
    for p in cut.parameters():
        p.requires_grad_(False)
    x = torch.rand(1, 3, 224, 224, requires_grad=True)

    def bare(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            x.grad = None
            (-cut(x)[0, CHANNEL].mean()).backward()
        return time.perf_counter() - t0

    def app(steps_left, n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            next(steps_left)
        return time.perf_counter() - t0

    bare(4)
    run_to_end(visualize_steps(model, Unit(LAYER, CHANNEL), VisualizeSettings(steps=4)))  # warm
    # Alternating blocks of 16 steps, so a machine that gets busier slows both alike.
    steps_left = visualize_steps(model, Unit(LAYER, CHANNEL), VisualizeSettings(steps=steps))
    ref_s = app_s = 0.0
    for block in range(0, steps, 16):
        n = min(16, steps - block)
        ref_s += bare(n)
        app_s += app(steps_left, n)
    t0 = time.perf_counter()
    picture = run_to_end(steps_left)  # the final picture's score
    app_s += time.perf_counter() - t0
    return {"app_s": app_s, "ref_s": ref_s, "value": picture.value, "start": picture.start_value}


def result(scan: dict, vis: dict, stall: dict, n: int, steps: int, workers: int, load_before: float) -> dict:
    """The rows and notes from the measurements (seconds; the stall's statistics)."""
    scan_ratio = scan["first_s"] / scan["ref_s"]
    vis_ratio = vis["app_s"] / vis["ref_s"]
    rows = [
        row(f"top-9 of a conv5 channel over {n} images, first scan of the layer (CPU)", ms(scan["first_s"]),
            f"{ms(scan['ref_s'])} (torchvision DataLoader x{workers} + channels-last forward, batch 64)",
            scan_ratio, f"<= {SCAN_RATIO} x reference", scan_ratio <= SCAN_RATIO),
        row(f"again, another channel of conv5 over the same {n} images (from the cache)", ms(scan["again_s"]),
            f"{AGAIN_S} s", scan["again_s"] / AGAIN_S, f"<= {AGAIN_S} s", scan["again_s"] <= AGAIN_S),
        row(f"feature visualisation of a conv5 channel, {steps} steps (CPU)", ms(vis["app_s"]),
            f"{ms(vis['ref_s'])} ({steps} bare forward+backward passes to conv5 at batch 1)",
            vis_ratio, f"<= {VISUALIZE_RATIO} x reference", vis_ratio <= VISUALIZE_RATIO),
        row(f"GUI stall while the Units tab scans {n} images and makes a {steps}-step picture",
            f"{stall['max_stall_ms']} ms", f"{STALL_MS:.0f} ms", stall["max_stall_ms"] / STALL_MS,
            f"<= {STALL_MS:.0f} ms", stall["max_stall_ms"] <= STALL_MS),
    ]
    notes = [f"units: the reference ran before and after the scans ({', '.join(ms(s) for s in scan['ref_runs'])}; "
             f"their mean, bracketing the app's scans, counts); the picture reached {vis['value']:.4g} from "
             f"{vis['start']:.4g} (the channel's mean), its steps timed in blocks of 16 alternating with the reference's; "
             f"the window's scan took {stall['scan_s']:.1f} s in its worker process, {stall['stalls_over_50ms']} "
             f"stalls over 50 ms in {stall['seconds']:.1f} s (p99 {stall['p99_stall_ms']} ms)."]
    return {"name": "units-cpu", "rows": rows, "notes": notes, "load_before": load_before}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000, help="images in the folder (default 1,000)")
    ap.add_argument("--steps", type=int, default=256, help="feature visualisation steps (default 256)")
    ap.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4), help="the reference's DataLoader workers")
    args = ap.parse_args()
    isolate("units")
    load_before = loadavg()
    folder = shapes_folder(max(1, args.n // 4), flat=True)
    paths = sorted(str(p) for p in folder.iterdir())[: args.n]

    stall = window_stall(folder, args.steps)
    scan = scan_rows(paths, args.workers)
    vis = visualize_rows(scan.pop("model"), args.steps)

    emit(result(scan, vis, stall, len(paths), args.steps, args.workers, load_before))


if __name__ == "__main__":
    main()
