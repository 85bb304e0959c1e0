"""The fine-tune's features on several processes (torchrun, gloo) against one process, and
what gathering the features costs.

1. ``alexnet-cli finetune FOLDER --mode head --epochs 1`` over the same N seeded images
   (1,000 by default), each run with a fresh feature cache, so every image is decoded and
   goes through the network:
   - 2 processes x 1 thread (``torchrun --nproc-per-node 2``; torchrun gives each rank
     ``OMP_NUM_THREADS=1``): the measured thing;
   - 1 process x 2 threads: the reference, the same cores;
   - 1 process x 1 thread: for the scaling efficiency T(1x1) / (2 x T(2x1)).
   Timed by the command's own ``seconds`` (scan, features, gather, training: the run,
   without the interpreter's start and the weights' load) and by the wall clock.
2. Gathering N rows of features from 2 ranks to rank 0 (gloo, this machine): fc7
   (4,096 floats a row) and pool5 (9,216), ``Team.gather_rows`` (the app's: the counts,
   then one tensor gather of the padded rows) against ``gather_object`` (pickled arrays),
   median of rounds after a warm-up; reported per 1,000 images.

All rows are reported (no budget): the projection to 500,000 images on 4 nodes is in
benchmarks/README.md. ``--gather-probe`` is the torchrun target of part 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, emit, isolate, loadavg, median, ms, row, seeded_weights, shapes_folder

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]


def finetune_run(folder: Path, weights: Path, procs: int, threads: int, cache: Path) -> dict:
    """One fine-tune over ``folder`` with a fresh cache: its JSON, and the wall-clock seconds."""
    shutil.rmtree(cache, ignore_errors=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    out = cache.parent / f"model-{procs}x{threads}.pt"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), OMP_NUM_THREADS=str(threads), ALEXNET_GUI_ENGINE="torch")
    cli = ["finetune", str(folder), "--weights", str(weights), "--out", str(out), "--mode", "head", "--epochs", "1",
           "--device", "cpu", "--json"]
    cmd = (TORCHRUN if procs == 2 else [sys.executable]) + ["-m", "alexnet_gui.cli"] + cli
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=3600)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{procs}x{threads} failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return {"seconds": report["seconds"], "wall": wall, "val_accuracy": report["val_accuracy"],
            "world_size": report.get("world_size", 1)}


def gather_probe(rows: int, rounds: int) -> None:
    """torchrun target: each rank holds its half of ``rows`` rows; rank 0 prints the timings."""
    import numpy as np
    import torch.distributed as dist

    from alexnet_gui.core.distributed import Launch, Team

    with Team.start(Launch.from_environ(), "cpu") as team:
        lo, hi = team.bounds(rows)
        timings = {}
        for layer, dim in (("fc7", 4096), ("pool5", 9216)):
            mine = np.random.default_rng(team.rank).standard_normal((hi - lo, dim), dtype=np.float32)
            for way in ("rows", "object"):
                seen = []
                for _ in range(rounds + 1):  # the first is a warm-up
                    team.barrier()
                    t0 = time.perf_counter()
                    if way == "rows":
                        got = team.gather_rows(mine)
                    else:
                        got = team.gather_objects(mine)
                        got = np.concatenate(got) if got is not None else None
                    seen.append(time.perf_counter() - t0)
                    if team.is_root and got.shape != (rows, dim):
                        raise RuntimeError(f"gathered {got.shape}, expected {(rows, dim)}")
                timings[f"{layer}/{way}"] = median(seen[1:])
        dist.barrier()
        if team.is_root:
            print("GATHER " + json.dumps({"timings": timings, "rows": rows, "rounds": rounds}), flush=True)


def gather_costs(rows: int, rounds: int) -> dict:
    cmd = TORCHRUN + [str(Path(__file__).resolve()), "--gather-probe", "--probe-rows", str(rows),
                     "--rounds", str(rounds)]  # after the script, but torchrun reads an option it could abbreviate
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"gather probe failed ({done.returncode}): {done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("GATHER "))
    return json.loads(line[len("GATHER "):])


def result(runs: dict, gather: dict, n: int, load_before: float) -> dict:
    t21, t12, t11 = (runs[k]["seconds"] for k in ("2x1", "1x2", "1x1"))
    rows = [
        row(f"fine-tune features, head mode, 1 epoch, {n} images, fresh cache: 2 processes x 1 thread (torchrun, "
            "gloo) vs 1 process x 2 threads (the same cores)", f"{t21:.2f} s", f"{t12:.2f} s", t21 / t12,
            "reported", None),
        row(f"scaling efficiency, 1 -> 2 processes of 1 thread: T(1x1) / (2 x T(2x1)), {n} images",
            f"{t11 / (2 * t21) * 100:.0f} %", f"T(1x1) {t11:.2f} s", t11 / (2 * t21), "reported", None),
    ]
    g = gather["timings"]
    for layer, dim in (("fc7", 4096), ("pool5", 9216)):
        mine, ref = g[f"{layer}/rows"] * 1000 / gather["rows"], g[f"{layer}/object"] * 1000 / gather["rows"]
        rows.append(row(f"gather of {layer} features to rank 0 ({dim * 4 / 1000:.1f} KB an image), 2 ranks, gloo, "
                        "per 1,000 images: Team.gather_rows (one tensor gather)", ms(mine),
                        f"{ms(ref)} (gather_object, pickled)", mine / ref, "reported", None))
    notes = [
        "distributed: each run has a fresh feature cache (every image decoded and computed); seconds are the "
        "command's own (scan to saved result, rank 0's clock), wall clock incl. interpreter start and weights "
        "load: " + ", ".join(f"{k} {v['wall']:.1f} s" for k, v in runs.items())
        + "; validation accuracy " + ", ".join(f"{k} {v['val_accuracy']:.3f}" for k, v in runs.items()) + ".",
        f"gather: median of {gather['rounds']} rounds after a warm-up, {gather['rows']} rows split over 2 ranks; "
        "the measured time scales with the rows (per 1,000 images shown).",
    ]
    return {"name": "distributed", "rows": rows, "notes": notes, "runs": runs, "gather": gather,
            "images": n, "load_before": load_before}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000, help="images (a multiple of 4)")
    ap.add_argument("--rounds", type=int, default=5, help="gather rounds")
    ap.add_argument("--gather-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--probe-rows", type=int, default=1000, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gather_probe:
        return gather_probe(args.probe_rows, args.rounds)
    load_before = loadavg()
    home = isolate("distributed")
    folder = shapes_folder(max(1, args.n // 4))
    weights = seeded_weights()
    runs = {}
    for procs, threads in ((2, 1), (1, 2), (1, 1)):
        runs[f"{procs}x{threads}"] = finetune_run(folder, weights, procs, threads, home / "runs" / "cache")
    gather = gather_costs(args.n, args.rounds)
    emit(result(runs, gather, args.n, load_before))


if __name__ == "__main__":
    main()
