"""The worker's engine: a model starts in torch, moves to ONNX Runtime once its graph
passed the gate (answering drops meanwhile), says which engine runs and why in
ModelInfo, and stays in torch with the reason when the gate fails."""

from __future__ import annotations

import time

import pytest
import torch
from PIL import Image
from worker_service import recording_service

from alexnet_gui.core.predict import forward, load_batch
from alexnet_gui.worker.engines import PREPARING


@pytest.fixture
def ort_worker(monkeypatch):
    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "onnxruntime")
    scheduler, service, events, ended = recording_service()
    return scheduler, service, events, ended


def infos(events):
    return [args[0] for name, args in events if name == "model_loaded"]


def engines(events):
    """What ran after each load or change: ModelInfo's fields, then each engine_changed."""
    out = []
    for name, args in events:
        if name == "model_loaded":
            i = args[0]
            out.append((i.engine, i.engine_reason, i.engine_choice, i.engine_ready))
        elif name == "engine_changed":
            e = args[0]
            out.append((e.engine, e.reason, e.choice, e.ready))
    return out


def step_until(scheduler, done, limit_s=300.0):
    end = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < end, "never happened"
        wait = scheduler.wait_s()
        assert wait is not None, "every job ended first"
        time.sleep(min(wait, 0.05))  # the worker's loop waits on its inbox this long
        scheduler.step()


def photo(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (120, 90), (200, 30, 30)).save(path)
    return str(path)


def top5(events, job_id):
    preds = [r.prediction for name, args in events if name == "predictions_ready" and args[0] == job_id
             for r in args[1]]
    return [s.index for s in preds[-1].top]


def test_torch_answers_until_the_graph_passed_then_onnxruntime(ort_worker, tmp_path):
    scheduler, service, events, ended = ort_worker
    service.load(None, "cpu")
    first = infos(events)[0]
    assert first.engine == "torch" and first.engine_reason == PREPARING and first.engine_choice == "onnxruntime"
    assert not first.engine_ready
    path = photo(tmp_path)
    service.classify(1, [path])  # a drop while the graph is being prepared: torch answers it
    step_until(scheduler, lambda: 1 in ended)
    step_until(scheduler, lambda: engines(events)[-1][0] == "onnxruntime")
    assert engines(events)[-1][1] is None
    assert len(infos(events)) == 1  # views start over on model_loaded: an engine change is its own event
    service.classify(2, [path])
    step_until(scheduler, lambda: 2 in ended)
    assert top5(events, 2) == top5(events, 1)
    step_until(scheduler, lambda: engines(events)[-1][3])  # the cut graphs for fine-tunes, exported after
    assert service.engines.extraction_engine(service.bundle).features_runner("fc7") is not None


def test_a_failed_gate_keeps_torch_and_says_why(ort_worker, tmp_path, monkeypatch):
    from alexnet_gui.core.engine import runners

    real = runners.OrtRunner.__call__
    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: real(self, x) * 3.0 + 1.0)
    scheduler, service, events, ended = ort_worker
    service.load(None, "cpu")
    step_until(scheduler, lambda: engines(events)[-1][1] != PREPARING)
    engine, reason, _, ready = engines(events)[-1]
    assert engine == "torch" and "differ from torch" in reason and ready


def test_choosing_torch_goes_back_at_once(ort_worker):
    scheduler, service, events, ended = ort_worker
    service.load(None, "cpu")
    service.set_engine("torch")
    assert engines(events)[-1] == ("torch", None, "torch", True)
    service.set_engine("tensorrt")
    assert [args for name, args in events if name == "notice"][-1][0].startswith("unknown engine")


def test_a_fine_tune_extracts_in_onnxruntime_and_its_head_is_exported_in_the_background(ort_worker, tmp_path):
    from shape_folders import make_shapes

    from alexnet_gui.worker.finetune_jobs import FinetuneJobs

    scheduler, service, events, ended = ort_worker
    jobs = FinetuneJobs(service)
    service.load(None, "cpu")
    step_until(scheduler, lambda: engines(events)[-1][3] and engines(events)[-1][0] == "onnxruntime")
    base = service.bundle
    folder = make_shapes(tmp_path / "shapes", per_class=6)
    scheduler.start(10, jobs.factory(("run", 7, str(folder), {"epochs": 2, "batch_size": 8, "mode": "head"})))
    step_until(scheduler, lambda: 10 in ended)
    assert [name for name, _ in events if name == "finetune.finished"], [a for n, a in events if n == "finetune.refused"]
    assert service.engines.extraction_engine(base).features_runner("fc7") is not None  # the features came from it

    scheduler.start(11, jobs.factory(("use", 8, 7)))
    step_until(scheduler, lambda: 11 in ended)
    head = infos(events)[-1]
    assert head.source == "finetuned" and head.engine == "torch" and head.engine_reason == PREPARING
    step_until(scheduler, lambda: engines(events)[-1][0] == "onnxruntime" and engines(events)[-1][3])
    assert service.engines.engine_for(service.base_bundle).name == "onnxruntime"  # the base kept its engine
    path = str(next((folder / "circles").iterdir()))
    service.classify(12, [path])
    step_until(scheduler, lambda: 12 in ended)

    logits = forward(service.bundle.model, load_batch([path]).tensors, torch.device("cpu"))
    assert top5(events, 12) == logits[0].argsort(descending=True).tolist()  # three classes: all of them, in order
