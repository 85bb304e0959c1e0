"""Folder classify throughput, decode included, against what a torchvision user writes.

Measured, on the same N seeded 160x120 JPEGs:
* window: a folder opened in the real window (``open_paths([folder])``), from
  the call until the job's ``job_finished``: decode, preprocess, forward in
  batches, thumbnails, list updates;
* core: ``core.predict.classify_paths`` (what ``alexnet-cli classify`` runs),
  batch 32, decode included.

Reference (the budget rows, first): a capable user's torchvision script over the
same files: a ``Dataset`` over the paths (the folder is flat, so not
``ImageFolder``) with PIL open + convert("RGB") +
``AlexNet_Weights.IMAGENET1K_V1.transforms()``, a ``DataLoader`` with decode
worker processes (batch 64, pinned memory on CUDA), torchvision's ``alexnet()``
with the same seeded weights and its conv weights channels-last, under
``inference_mode``, argmax per batch; timed from creating the loader to the
last batch's result (``common.dataloader_reference_seconds``). It runs with
1..min(cores, 4) workers (``--workers``), each before and after the app's runs;
the fastest count's mean is the reference (a user would pick the best).

Second reference (today's row, kept): the model-only forward of the same images,
preprocessed beforehand (not timed), batch 64, default layout; before and after,
mean.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    channels_last,
    channels_last_note,
    classify_folder,
    close_window,
    dataloader_reference_seconds,
    emit,
    engine_note,
    idle,
    isolate,
    loadavg,
    model_only_forward_seconds,
    open_window,
    preprocessed,
    row,
    seeded_weights,
    shapes_folder,
    torchvision_reference,
    wait_model,
)

BUDGET_RATIO = 1.2  # the design: >= 1.2 x torchvision DataLoader + channels-last, decode included
MODEL_ONLY_RATIO = 0.9  # the older row, against the model-only forward (kept as a second reference)


def core_seconds(folder: Path, device: str) -> float:
    from alexnet_gui.core.bundle import bundle_from_file
    from alexnet_gui.core.engine.engine import build_engine
    from alexnet_gui.core.images import find_images
    from alexnet_gui.core.predict import classify_paths

    bundle = bundle_from_file(seeded_weights()).to(__import__("torch").device(device))
    engine = build_engine(bundle.model, __import__("torch").device(device), "auto", bundle.sha256)  # as the app loads
    paths = find_images(folder)
    t0 = time.perf_counter()
    preds = classify_paths(bundle.model, paths, bundle.class_names, batch_size=32, engine=engine)
    seconds = time.perf_counter() - t0
    assert all(p.ok for p in preds) and len(preds) == len(paths)
    return seconds


def main() -> None:
    import os

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--per-class", type=int, default=128, help="images per shape; 4 shapes")
    ap.add_argument("--workers", default=",".join(str(w) for w in range(1, min(os.cpu_count() or 1, 4) + 1)),
                    help="DataLoader worker counts the reference tries (comma-separated); the fastest is the reference")
    args = ap.parse_args()
    isolate(f"throughput-{args.device}")
    load_before = loadavg()
    folder = shapes_folder(args.per_class, flat=True)
    n = 4 * args.per_class
    worker_counts = [int(w) for w in args.workers.split(",")]
    from alexnet_gui.core.images import find_images

    paths = find_images(folder)
    model, transform = torchvision_reference(args.device)
    fast = channels_last(model)
    loader_s: dict[int, list[float]] = {w: [] for w in worker_counts}

    def loader_runs() -> None:
        for w in worker_counts:
            loader_s[w].append(dataloader_reference_seconds(fast, paths, transform, w, 64, args.device))

    loader_runs()
    x = preprocessed(paths, transform)  # (N, 3, 224, 224), not timed
    ref1 = model_only_forward_seconds(model, x, 64, args.device)

    app, window = open_window(seeded_weights(), args.device)
    wait_model(window)
    idle(0.5)
    win = classify_folder(window, folder, n)
    engine_text = engine_note(window)
    close_window(window)
    core = core_seconds(folder, args.device)
    ref2 = model_only_forward_seconds(model, x, 64, args.device)
    loader_runs()
    layout_note = channels_last_note(model, x, args.device)

    loader_rates = {w: n / (sum(v) / len(v)) for w, v in loader_s.items()}
    best = max(loader_rates, key=loader_rates.get)
    loader_rate = loader_rates[best]
    ref_rate = n / ((ref1 + ref2) / 2)
    win_rate, core_rate = n / win, n / core
    dev = "CPU" if args.device == "cpu" else "CUDA"
    loader_text = (f"{loader_rate:.1f} img/s (torchvision DataLoader, {best} decode worker{'s' * (best != 1)}, "
                   f"channels-last weights, batch 64, decode included)")
    model_only_text = f"{ref_rate:.1f} img/s (model-only forward, preprocessed beforehand, batch 64)"
    rows = [
        row(f"folder classify throughput, window, decode included ({dev}, {n} images)", f"{win_rate:.1f} img/s",
            loader_text, win_rate / loader_rate, f">= {BUDGET_RATIO} x reference", win_rate / loader_rate >= BUDGET_RATIO),
        row(f"folder classify throughput, core classify_paths, decode included ({dev}, {n} images)",
            f"{core_rate:.1f} img/s", loader_text, core_rate / loader_rate, f">= {BUDGET_RATIO} x reference",
            core_rate / loader_rate >= BUDGET_RATIO),
        row(f"folder classify throughput, window, against the model-only forward ({dev}, {n} images)",
            f"{win_rate:.1f} img/s", model_only_text, win_rate / ref_rate, f">= {MODEL_ONLY_RATIO} x reference",
            win_rate / ref_rate >= MODEL_ONLY_RATIO),
    ]
    per_count = "; ".join(f"{w} worker{'s' * (w != 1)}: " + " and ".join(f"{n / s:.1f}" for s in v) + " img/s"
                          for w, v in loader_s.items())
    notes = [f"throughput ({dev}): torchvision DataLoader reference before/after the app's runs, {per_count} "
             f"(the fastest count's mean is the reference); model-only reference {n / ref1:.1f} and "
             f"{n / ref2:.1f} img/s; window {win:.2f} s, classify_paths {core:.2f} s for {n} images of 160x120 "
             f"(decode included); classify_paths against the model-only forward {core_rate / ref_rate:.2f}x."
             + layout_note + engine_text]
    emit({"name": f"throughput-{args.device}", "rows": rows, "notes": notes, "window_s": win, "core_s": core,
          "reference_s": [ref1, ref2], "dataloader_s": {str(w): v for w, v in loader_s.items()},
          "load_before": load_before})


if __name__ == "__main__":
    main()
