"""Checks on the benchmark scripts that need no window and time nothing: run_all.py
runs every script, and the transfer benchmark sends what the worker sends, intact."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_run_all_runs_every_benchmark_script():
    spec = importlib.util.spec_from_file_location("bench_run_all_listed", BENCHMARKS / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    listed = [script for _name, script, *_ in run_all.BENCHES]
    assert sorted(listed) == sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
    assert len({name for name, *_ in run_all.BENCHES}) == len(run_all.BENCHES)


@pytest.fixture()
def transfer(monkeypatch):
    # Imported by its own name from benchmarks/, so the spawned sender finds it there too.
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_transfer

    return bench_transfer


def test_transfer_payload_has_the_shapes_the_worker_sends(transfer):
    import torch

    from alexnet_gui.core.introspect import feature_maps
    from alexnet_gui.core.model import build_model

    layers = feature_maps(build_model(seed=0), torch.zeros(3, 224, 224))
    assert [(a.name, a.kind, *a.maps.shape) for a in layers] == [tuple(x) for x in transfer.FEATURE_LAYERS]
    sent = transfer.arrays_of(transfer.payload("features"))
    assert [a.dtype for a in sent[:-1]] == [a.maps.dtype for a in layers]
    assert sent[-1].shape == (224, 224, 3)


def test_transfer_arrays_arrive_intact_both_ways(transfer):
    got = transfer.measure(n=1, warmup=0)  # raises when a payload arrives changed
    assert set(got["median"]) == {(kind, way) for kind in ("features", "preview") for way in ("pipe", "shm")}
    assert got["bytes"]["features"] > 4_000_000
    assert got["bytes"]["preview"] == 640 * 480 * 3


@pytest.fixture()
def engine_bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_engine

    return bench_engine


def test_engine_benchmark_measures_parity_and_thread_settings_on_a_real_graph(engine_bench, tmp_path):
    import numpy as np
    import torch

    from alexnet_gui.core.engine.cache import GraphCache
    from alexnet_gui.core.engine.runners import CPU_PROVIDER, OrtRunner
    from alexnet_gui.core.model import build_model

    model = build_model(seed=0)
    path, hit = GraphCache(tmp_path).get_or_export(model, "seeded", "logits")
    runner = OrtRunner(path, [CPU_PROVIDER], torch.get_num_threads())
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((3, 3, 224, 224), dtype=np.float32))
    p = engine_bench.parity(model, runner, x)
    assert not hit and p["inputs"] == 3 and p["top5_identical"] == 3
    assert p["max_abs_diff"] <= engine_bench.TOLERANCE * p["scale"]
    settings = engine_bench.thread_settings(path, torch.get_num_threads(), model, x[:1], n=1)
    assert set(settings) == {f"{what} ({way})" for what in ("ORT after idle", "CPU after a run", "torch after ORT")
                             for way in ("sleeping", "spinning")} | {"ORT, torch's threads", "ORT, all cores"}
    assert all(v > 0 if not k.startswith("CPU") else v >= 0 for k, v in settings.items())  # CPU: maybe none


def test_explain_rows_follow_their_budgets(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import argparse

    import bench_explain

    c = {"gradcam_app": [0.030, 0.031], "gradcam_ref": [0.010, 0.011], "occlusion_app": [1.30], "occlusion_ref": [1.0],
         "windows": 169, "threads": 2}
    stall = {"max_stall_ms": 12.0, "max_stall_began": 1.5, "seconds": 9.0, "stalls_over_50ms": 0, "worst_at_s": 0.5}
    drop = {"answer_s": 0.4, "batches_between": 2, "batch_s": 0.3, "finished": True}
    r = bench_explain.result(c, stall, drop, argparse.Namespace(device="cpu"), 0.0)
    assert [x["passed"] for x in r["rows"]] == [False, False, True, False]  # 2.9 x, 1.3 x, 12 ms, two batches late
    assert r["rows"][0]["ratio"] == pytest.approx(0.0305 / 0.0105, rel=1e-3)
    assert "169 copies" in r["rows"][1]["what"] and r["name"] == "explain-cpu"


def test_units_rows_follow_their_budgets(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_units

    scan = {"first_s": 12.0, "again_s": 0.3, "ref_s": 10.0, "ref_runs": [9.5, 10.5]}
    vis = {"app_s": 16.0, "ref_s": 10.0, "value": 2.5, "start": 0.1}
    stall = {"max_stall_ms": 61.0, "p99_stall_ms": 12.0, "stalls_over_50ms": 1, "seconds": 30.0, "scan_s": 14.0}
    r = bench_units.result(scan, vis, stall, 1000, 256, 2, 0.0)
    assert [x["passed"] for x in r["rows"]] == [True, True, False, False]  # 1.2 x, 0.3 s, 1.6 x, 61 ms
    assert [x["ratio"] for x in r["rows"]] == [1.2, 0.6, 1.6, 1.22]
    assert "1000 images" in r["rows"][0]["what"] and "256 steps" in r["rows"][2]["what"] and r["name"] == "units-cpu"


def test_audit_rows_follow_their_budgets(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_audit

    retrain = {"seconds": 1.5, "computed": 10, "ref_s": 0.4}
    audit = {"seconds": 5.5, "computed": 0, "ref_s": 2.0}
    datamap = {"seconds": 9.0, "ref_s": 12.0}
    r = bench_audit.result(retrain, audit, datamap, 1000, 0.0)
    assert [x["passed"] for x in r["rows"]] == [True, False, True]  # 1.5 s, 5.5 s, 9 s
    assert [x["ratio"] for x in r["rows"]] == [None, 2.75, 0.75]
    assert "1000 images" in r["rows"][0]["what"] and "1010 images" in r["rows"][1]["what"]
    # a retrain that pushed more than the new images through the network fails whatever its time
    r = bench_audit.result(dict(retrain, computed=1010), audit, datamap, 1000, 0.0)
    assert r["rows"][0]["passed"] is False and r["name"] == "audit-cpu"


@pytest.mark.distributed
def test_distributed_benchmark_gathers_and_reports_per_1000_images(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_distributed

    gather = bench_distributed.gather_costs(rows=10, rounds=1)  # the probe raises when a gather comes back wrong
    assert set(gather["timings"]) == {f"{layer}/{way}" for layer in ("fc7", "pool5") for way in ("rows", "object")}
    runs = {k: {"seconds": s, "wall": s + 3, "val_accuracy": 0.5} for k, s in (("2x1", 10.0), ("1x2", 12.0),
                                                                                 ("1x1", 18.0))}
    r = bench_distributed.result(runs, {"timings": {"fc7/rows": 0.002, "fc7/object": 0.004, "pool5/rows": 0.005,
                                                    "pool5/object": 0.01}, "rows": 100, "rounds": 1}, 1000, 0.0)
    assert [x["ratio"] for x in r["rows"]] == [pytest.approx(10 / 12, abs=1e-3), 0.9, 0.5, 0.5]
    assert r["rows"][2]["measured"] == "20.0 ms"  # 2 ms for 100 rows: 20 ms per 1,000 images
    assert all(x["passed"] is None for x in r["rows"])  # reported, no budget


def test_camera_benchmark_judges_against_the_faster_reference(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_camera

    ref = {"eager": 20.0, "channels_last": 25.0}
    stall = {"max_stall_ms": 12.0, "p99_stall_ms": 3.0}
    app = {"fps": 21.0, "source_fps": 80.0, "dropped": 500, "seconds": 10.0, "stall": stall,
           "model_ms": 30.0, "engine": ""}
    rate, gui = bench_camera.result(app, ref, 240, 3.0, 0.0)["rows"]
    assert rate["passed"] and rate["ratio"] == 0.84 and "channels-last" in rate["reference"]
    assert gui["passed"]
    slow = dict(app, fps=19.0, stall=dict(stall, max_stall_ms=51.0))
    rate, gui = bench_camera.result(slow, ref, 240, 3.0, 0.0)["rows"]
    assert not rate["passed"] and not gui["passed"]
