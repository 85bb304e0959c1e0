"""Folder classify throughput, against the model-only batched forward.

Measured, on the same N seeded 160x120 JPEGs:
* window: a folder opened in the real window (``open_paths([folder])``), from
  the call until the job's ``job_finished``: decode, preprocess, forward in
  batches of 16, thumbnails, list updates;
* core: ``core.predict.classify_paths`` (what ``alexnet-cli classify`` runs),
  batch 32, decode included.
Reference: the model-only forward of the same images, preprocessed beforehand
(not timed), batch 64, torchvision's AlexNet with the same seeded weights. It
runs before and after the others; its mean is the reference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    channels_last_note, classify_folder, close_window, emit, idle, isolate, loadavg, model_only_forward_seconds,
    open_window, preprocessed, row, seeded_weights, shapes_folder, torchvision_reference, wait_model,
)

BUDGET_RATIO = 0.9


def core_seconds(folder: Path, device: str) -> float:
    from alexnet_gui.core.bundle import bundle_from_file
    from alexnet_gui.core.images import find_images
    from alexnet_gui.core.predict import classify_paths

    bundle = bundle_from_file(seeded_weights()).to(__import__("torch").device(device))
    paths = find_images(folder)
    t0 = time.perf_counter()
    preds = classify_paths(bundle.model, paths, bundle.class_names, batch_size=32)
    seconds = time.perf_counter() - t0
    assert all(p.ok for p in preds) and len(preds) == len(paths)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--per-class", type=int, default=128, help="images per shape; 4 shapes")
    args = ap.parse_args()
    isolate(f"throughput-{args.device}")
    load_before = loadavg()
    folder = shapes_folder(args.per_class, flat=True)
    n = 4 * args.per_class
    from alexnet_gui.core.images import find_images

    model, transform = torchvision_reference(args.device)
    x = preprocessed(find_images(folder), transform)  # (N, 3, 224, 224), not timed
    ref1 = model_only_forward_seconds(model, x, 64, args.device)

    app, window = open_window(seeded_weights(), args.device)
    wait_model(window)
    idle(0.5)
    win = classify_folder(window, folder, n)
    close_window(window)
    core = core_seconds(folder, args.device)
    ref2 = model_only_forward_seconds(model, x, 64, args.device)
    layout_note = channels_last_note(model, x, args.device)

    ref_rate = n / ((ref1 + ref2) / 2)
    win_rate, core_rate = n / win, n / core
    dev = "CPU" if args.device == "cpu" else "CUDA"
    rows = [
        row(f"folder classify throughput, window ({dev}, {n} images)", f"{win_rate:.1f} img/s",
            f"{ref_rate:.1f} img/s (model-only forward, batch 64)", win_rate / ref_rate,
            f">= {BUDGET_RATIO} x reference", win_rate / ref_rate >= BUDGET_RATIO),
        row(f"folder classify throughput, core classify_paths ({dev}, {n} images)", f"{core_rate:.1f} img/s",
            f"{ref_rate:.1f} img/s (model-only forward, batch 64)", core_rate / ref_rate,
            f">= {BUDGET_RATIO} x reference", core_rate / ref_rate >= BUDGET_RATIO),
    ]
    notes = [f"throughput ({dev}): reference runs {n / ref1:.1f} and {n / ref2:.1f} img/s (before/after); "
             f"window {win:.2f} s, classify_paths {core:.2f} s for {n} images of 160x120 (decode included)."
             + layout_note]
    emit({"name": f"throughput-{args.device}", "rows": rows, "notes": notes, "window_s": win, "core_s": core,
          "reference_s": [ref1, ref2], "load_before": load_before})


if __name__ == "__main__":
    main()
