"""The inference engine: ONNX Runtime against torchvision, forward passes only, and the
parity of its logits on every benchmark image.

The app's model (seeded weights) is exported as the app exports it (``core.engine``:
the dynamo exporter, opset 18, dynamic batch) and run by ONNX Runtime's CPU provider
with the app's thread settings (intra-op threads = torch's, one team whose threads
spin for a while after a run). References in the same process and run: torchvision's ``alexnet()``
with the same weights, eager (contiguous weights) and channels-last, under
``inference_mode``. Inputs are preprocessed beforehand (not timed).

* batch 1 and batch 64 forwards: median of N (batch 1) / M (batch 64) runs, the three
  alternating run by run, after a warm-up of each;
* parity: ONNX Runtime's logits against torch's (the app's model, float32) on every
  benchmark image (seeded 160x120 JPEGs of the shapes set, plus seeded noise):
  max |dlogit| within 1e-4 x max(1, max |logit|), and the top-5 identical on every image;
* thread settings, ONNX Runtime's threads spinning for a while after a run (its default
  and the app's setting) against sleeping at once: a batch-1 forward after 100 ms idle
  (a drop; in this quiet process the two are close, in the app's worker, with the
  window painting meanwhile, sleeping threads took 13.5 ms against 9: see
  bench_latency's notes), the CPU time used in the 100 ms after a run (the spin's
  price), and a torch batch-1 forward right after an ONNX Runtime one (its other
  price); and
  ONNX Runtime with all the machine's cores as its team (its default) against torch's
  thread count;
* the export itself (cold: a fresh cache) and a load from the cache, reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import channels_last, emit, isolate, loadavg, median, ms, row, seeded_weights, shapes_folder, torchvision_reference

TOLERANCE = 1e-4  # the gate's: max |dlogit| <= 1e-4 x max(1, max |logit|)


def timed(fn, x) -> float:
    t0 = time.perf_counter()
    fn(x)
    return time.perf_counter() - t0


def alternate(runs: dict, x, n: int) -> dict[str, list[float]]:
    """Each of ``runs`` on ``x``, warmed once, then ``n`` rounds alternating."""
    for fn in runs.values():
        fn(x)
    out = {name: [] for name in runs}
    for _ in range(n):
        for name, fn in runs.items():
            out[name].append(timed(fn, x))
    return out


def torch_run(model):
    import torch

    def run(x):
        with torch.inference_mode():
            return model(x).numpy()

    return run


def ort_run(runner):
    return lambda x: runner(x.numpy())


def benchmark_inputs(images: int):
    """(N, 3, 224, 224): ``images`` shapes-set JPEGs preprocessed as the app does, and 4 seeded noise inputs."""
    import numpy as np
    import torch

    from alexnet_gui.core.engine.parity import parity_inputs
    from alexnet_gui.core.images import find_images

    paths = find_images(shapes_folder(max(1, images // 4)))[:images]
    x = np.concatenate([parity_inputs(noise=4, images=[]), parity_inputs(noise=0, images=paths)])
    return torch.from_numpy(x), len(paths)


def parity(app_model, runner, x) -> dict:
    import numpy as np
    import torch

    from alexnet_gui.core.engine.parity import top5

    with torch.inference_mode():
        ref = np.concatenate([app_model(x[s : s + 32]).numpy() for s in range(0, len(x), 32)])
    got = np.concatenate([runner(x[s : s + 32].numpy()) for s in range(0, len(x), 32)])
    diff = float(np.abs(ref - got).max())
    scale = max(1.0, float(np.abs(ref).max()))
    same = (top5(ref) == top5(got)).all(axis=1)
    return {"max_abs_diff": diff, "scale": scale, "top5_identical": int(same.sum()), "inputs": len(x)}


def thread_settings(path, threads: int, torch_model, x1, n: int) -> dict[str, float]:
    """Medians, with ONNX Runtime's threads spinning after a run (the app's setting) and sleeping:
    ORT batch 1 after 100 ms idle (a drop's case), the CPU time the process uses in the 100 ms
    after an ORT run, a torch forward right after an ORT one; and ORT back to back with torch's
    thread count / all the cores."""
    import onnxruntime as ort

    from alexnet_gui.core.engine.runners import CPU_PROVIDER, OrtRunner, session_options

    app = OrtRunner(path, [CPU_PROVIDER], threads)  # the app's: spinning after a run
    sleeping = ort.InferenceSession(str(path), session_options(threads, spinning=False), providers=[CPU_PROVIDER])
    all_cores = ort.InferenceSession(str(path), providers=[CPU_PROVIDER])  # its defaults: a thread per core, spinning
    name = app.input_name
    xn = x1.numpy()
    run_torch = torch_run(torch_model)
    ways = {"spinning": lambda: app(xn), "sleeping": lambda: sleeping.run(None, {name: xn})}
    out: dict[str, list[float]] = {f"{what} ({way})": [] for way in ways
                                   for what in ("ORT after idle", "CPU after a run", "torch after ORT")}
    out |= {"ORT, torch's threads": [], "ORT, all cores": []}
    for fn in (*ways.values(), lambda: all_cores.run(None, {name: xn})):
        fn()
    run_torch(x1)
    for _ in range(n):
        for way, fn in ways.items():
            time.sleep(0.2)  # every other session's spinning threads have stopped
            fn()
            c0 = time.process_time()
            time.sleep(0.1)
            out[f"CPU after a run ({way})"].append(time.process_time() - c0)
            out[f"ORT after idle ({way})"].append(timed(lambda _, fn=fn: fn(), None))
            out[f"torch after ORT ({way})"].append(timed(run_torch, x1))
        out["ORT, torch's threads"].append(timed(lambda _: app(xn), None))
        out["ORT, all cores"].append(timed(lambda _: all_cores.run(None, {name: xn}), None))
    return {k: median(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=30, help="batch-1 rounds")
    ap.add_argument("--batches", type=int, default=5, help="batch-64 rounds")
    ap.add_argument("--images", type=int, default=256, help="benchmark images for the parity rows")
    args = ap.parse_args()
    home = isolate("engine")  # fresh: a cold graph cache
    load_before = loadavg()
    import torch

    from alexnet_gui.core.bundle import bundle_from_file
    from alexnet_gui.core.engine.cache import GraphCache
    from alexnet_gui.core.engine.engine import build_engine
    from alexnet_gui.core.engine.runners import CPU_PROVIDER, OrtRunner

    threads = torch.get_num_threads()
    device = torch.device("cpu")
    eager, _transform = torchvision_reference("cpu")
    fast = channels_last(eager)
    app = bundle_from_file(seeded_weights()).to(device)  # the app's model, channels-last on the CPU
    t0 = time.perf_counter()
    engine = build_engine(app.model, device, "onnxruntime", app.sha256)
    export_s = time.perf_counter() - t0
    if engine.name != "onnxruntime":
        raise RuntimeError(f"ONNX Runtime did not pass its gate: {engine.reason}")
    cache = GraphCache()
    t0 = time.perf_counter()
    path, hit = cache.get_or_export(app.model, engine.weights_key, "logits")
    runner = OrtRunner(path, [CPU_PROVIDER], threads)
    cached_s = time.perf_counter() - t0

    x, n_images = benchmark_inputs(args.images)
    p = parity(app.model, runner, x)
    runs = {"ort": ort_run(runner), "eager": torch_run(eager), "channels-last": torch_run(fast)}
    one = {k: median(v) for k, v in alternate(runs, x[:1].contiguous(), args.n).items()}
    x64 = x[:64].contiguous() if len(x) >= 64 else x[torch.arange(64) % len(x)].contiguous()
    many = {k: median(v) for k, v in alternate(runs, x64, args.batches).items()}
    threads_s = thread_settings(path, threads, eager, x[:1].contiguous(), args.n)

    ok_diff = p["max_abs_diff"] <= TOLERANCE * p["scale"]
    ok_top5 = p["top5_identical"] == p["inputs"]
    rows = []
    for label, t in (("batch 1", one), ("batch 64", many)):
        rows.append(row(f"forward, {label}, CPU: ONNX Runtime (the app's engine) against torchvision channels-last",
                        ms(t["ort"]), f"{ms(t['channels-last'])} (torchvision channels-last)",
                        t["ort"] / t["channels-last"], "< 1 x reference (faster, or the engine is not worth it)",
                        t["ort"] < t["channels-last"]))
        rows.append(row(f"forward, {label}, CPU: ONNX Runtime against torchvision eager", ms(t["ort"]),
                        f"{ms(t['eager'])} (torchvision eager)", t["ort"] / t["eager"], "reported", None))
    rows += [
        row(f"parity: max |dlogit|, ONNX Runtime against torch float32, {p['inputs']} inputs "
            f"({n_images} benchmark images + 4 noise)", f"{p['max_abs_diff']:.3g}",
            f"max |logit| scale {p['scale']:.3g}", None, f"<= {TOLERANCE:g} x max(1, max |logit|)", ok_diff),
        row("parity: top-5 identical (same classes, same order)", f"{p['top5_identical']} of {p['inputs']}",
            "torch float32", None, "every input", ok_top5),
        row("thread settings: ONNX Runtime batch 1 after 100 ms idle (a drop's case), its threads spinning "
            "after a run (its default, the app's setting)", ms(threads_s["ORT after idle (spinning)"]),
            f"{ms(threads_s['ORT after idle (sleeping)'])} (threads sleeping at once)",
            threads_s["ORT after idle (spinning)"] / threads_s["ORT after idle (sleeping)"], "reported", None),
        row("thread settings: CPU time of the process in the 100 ms after an ONNX Runtime run, threads spinning "
            "(the app's setting)", ms(threads_s["CPU after a run (spinning)"]),
            f"{ms(threads_s['CPU after a run (sleeping)'])} (threads sleeping at once)", None, "reported", None),
        row("thread settings: torch batch-1 forward right after an ONNX Runtime one, ORT threads spinning "
            "(the app's setting)", ms(threads_s["torch after ORT (spinning)"]),
            f"{ms(threads_s['torch after ORT (sleeping)'])} (ORT threads sleeping at once)",
            threads_s["torch after ORT (spinning)"] / threads_s["torch after ORT (sleeping)"], "reported", None),
        row(f"thread settings: ONNX Runtime batch 1 with torch's {threads} threads (the app's setting)",
            ms(threads_s["ORT, torch's threads"]), f"{ms(threads_s['ORT, all cores'])} (ORT's defaults: "
            f"{os.cpu_count()} cores, spinning)", threads_s["ORT, torch's threads"] / threads_s["ORT, all cores"],
            "reported", None),
    ]
    notes = [f"engine (CPU, {threads} torch threads): export + session + gate from a cold cache {export_s:.1f} s; "
             f"graph from the cache + session {cached_s:.2f} s (cache hit: {hit}); batch 1 medians of {args.n}: "
             f"ORT {ms(one['ort'])}, eager {ms(one['eager'])}, channels-last {ms(one['channels-last'])}; batch 64 "
             f"medians of {args.batches}: ORT {ms(many['ort'])}, eager {ms(many['eager'])}, channels-last "
             f"{ms(many['channels-last'])}; ORT's gate at load: max |dlogit| {engine.parity.max_abs_diff:.3g} on "
             f"{engine.parity.inputs} inputs. Cache folder: {Path(cache.root).relative_to(home)}."]
    emit({"name": "engine-cpu", "rows": rows, "notes": notes, "batch1_s": one, "batch64_s": many, "parity": p,
          "threads_s": threads_s, "export_s": export_s, "cached_s": cached_s, "load_before": load_before})


if __name__ == "__main__":
    main()
