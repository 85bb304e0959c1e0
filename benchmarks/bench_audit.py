"""The teaching loop on the CPU: retrain after adding 10 images, the dataset audit's lists,
and the dataset map, each on N seeded 160x120 JPEGs in 4 shape classes (default 1,000).

* retrain: ``core.finetune.run_finetune`` (mode "head", default settings) after 10 new
  images were copied into the folder with ``core.audit.corrections.copy_into_class``
  (what Retrain in the Fine-tune tab runs): scan, fc7 from the cache for the others,
  the 10 new ones through the network, 10 epochs. Budget <= 2 s. Reference (reported):
  torchvision's AlexNet forward of the same 10 images, preprocessed beforehand.
* audit lists: ``core.audit.audit_folder`` with every fc7 feature cached: scan, cache
  reads, 5-fold out-of-fold logistic regression, SHA-256 + pHash duplicates, leaks.
  Budget <= 5 s. Reference: what a capable user writes for the mislabel part alone,
  scikit-learn's ``cross_val_predict(LogisticRegression())`` on the same features.
* map: the folder's fc7 from the cache and ``core.audit.datamap.map_coordinates`` (PCA
  to 50, t-SNE). Budget <= 15 s. Reference: scikit-learn's ``TSNE(init="pca")`` straight
  on the same 4,096-dimension features.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_dir, emit, isolate, loadavg, preprocessed, row, seeded_weights, shapes_folder, torchvision_reference

RETRAIN_BUDGET_S = 2.0
AUDIT_BUDGET_S = 5.0
MAP_BUDGET_S = 15.0
ADDED = 10


def result(retrain: dict, audit: dict, datamap: dict, n: int, load_before: float) -> dict:
    """The three rows from the measured seconds (pure: the tests check the verdicts)."""
    rows = [
        row(f"retrain after adding {ADDED} images ({n} images, head, 10 epochs, cpu)", f"{retrain['seconds']:.2f} s",
            f"torchvision forward of the {ADDED} new images {retrain['ref_s']:.2f} s", None,
            f"<= {RETRAIN_BUDGET_S:g} s", retrain["seconds"] <= RETRAIN_BUDGET_S and retrain["computed"] == ADDED),
        row(f"audit lists, fc7 cached ({n + ADDED} images: mislabels, duplicates, leaks)", f"{audit['seconds']:.2f} s",
            f"cross_val_predict(LogisticRegression) {audit['ref_s']:.2f} s",
            audit["seconds"] / audit["ref_s"] if audit["ref_s"] else None, f"<= {AUDIT_BUDGET_S:g} s",
            audit["seconds"] <= AUDIT_BUDGET_S and audit["computed"] == 0),
        row(f"dataset map, fc7 cached ({n + ADDED} images: PCA 50 + t-SNE)", f"{datamap['seconds']:.2f} s",
            f"TSNE on the 4096-d features {datamap['ref_s']:.2f} s",
            datamap["seconds"] / datamap["ref_s"] if datamap["ref_s"] else None, f"<= {MAP_BUDGET_S:g} s",
            datamap["seconds"] <= MAP_BUDGET_S),
    ]
    return {"name": "audit-cpu", "rows": rows, "load_before": load_before,
            "notes": [f"retrain computed {retrain['computed']} images; the audit computed {audit['computed']}"]}


def measure_retrain(folder: Path, model, base: str) -> dict:
    import torch

    from alexnet_gui.core.audit.corrections import copy_into_class
    from alexnet_gui.core.finetune import FinetuneSettings, run_finetune

    run_finetune(folder, FinetuneSettings(), model, base)  # the first run: every feature computed and cached
    extra = shapes_folder(3, seed=1)
    new = sorted(extra.rglob("*.jpg"))[:ADDED]
    for path in new:
        copy_into_class(folder, path, path.parent.name)
    t0 = time.perf_counter()
    again = run_finetune(folder, FinetuneSettings(), model, base)
    seconds = time.perf_counter() - t0
    ref_model, transform = torchvision_reference()
    x = preprocessed(new, transform)
    with torch.inference_mode():
        ref_model(x)  # warm
        t0 = time.perf_counter()
        ref_model(x)
        ref_s = time.perf_counter() - t0
    return {"seconds": seconds, "computed": again.computed, "ref_s": ref_s}


def measure_audit(folder: Path, model, base: str) -> tuple[dict, object]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from alexnet_gui.core.audit import audit_folder

    t0 = time.perf_counter()
    audited = audit_folder(folder, model, base, trained=True)
    seconds = time.perf_counter() - t0
    x, y = cached_features(folder, model, base)
    t0 = time.perf_counter()
    cross_val_predict(LogisticRegression(max_iter=500), x, y, cv=5, method="predict_proba")
    ref_s = time.perf_counter() - t0
    assert np.isfinite(x).all()
    return {"seconds": seconds, "computed": audited.computed, "ref_s": ref_s}, audited


def cached_features(folder: Path, model, base: str):
    import numpy as np
    import torch

    from alexnet_gui.core.finetune import scan_folder
    from alexnet_gui.core.finetune.control import RunControl
    from alexnet_gui.core.finetune.extract import extract_features

    report = scan_folder(folder)
    entries = report.images
    ex = extract_features(model, entries, "fc7", {"plain": len(entries)}, base, torch.device("cpu"), RunControl())
    return ex.features["plain"], np.array([e.label for e in entries])


def measure_map(folder: Path, model, base: str) -> dict:
    from sklearn.manifold import TSNE

    from alexnet_gui.core.audit.datamap import map_coordinates

    t0 = time.perf_counter()
    x, _ = cached_features(folder, model, base)
    map_coordinates(x)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    TSNE(2, init="pca", random_state=0).fit_transform(x)
    ref_s = time.perf_counter() - t0
    return {"seconds": seconds, "ref_s": ref_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-class", type=int, default=250, help="images per class (4 classes)")
    args = ap.parse_args()
    isolate("audit-cpu")  # fresh: a cold feature cache
    load_before = loadavg()
    source = shapes_folder(args.per_class)
    folder = bench_dir() / "work" / "audit-dataset"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder)  # the retrain adds images to it
    n = sum(1 for _ in folder.rglob("*.jpg"))

    from alexnet_gui.core.bundle import load_bundle
    from alexnet_gui.core.untrained import base_key

    bundle = load_bundle(seeded_weights())
    model, base = bundle.model.eval(), base_key(bundle.sha256)
    retrain = measure_retrain(folder, model, base)
    audit, _ = measure_audit(folder, model, base)
    datamap = measure_map(folder, model, base)
    emit(result(retrain, audit, datamap, n, load_before))


if __name__ == "__main__":
    main()
