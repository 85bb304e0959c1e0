"""The worker's engine: a model starts in torch, moves to ONNX Runtime once its graph
passed the gate (answering drops meanwhile), says which engine runs and why in
ModelInfo, and stays in torch with the reason when the gate fails."""

from __future__ import annotations

import time

import pytest
from PIL import Image

from alexnet_gui.worker.engines import PREPARING
from alexnet_gui.worker.scheduler import Scheduler
from alexnet_gui.worker.service import ModelService


@pytest.fixture
def ort_worker(monkeypatch):
    monkeypatch.setenv("ALEXNET_GUI_ENGINE", "onnxruntime")
    events, ended = [], {}
    scheduler = Scheduler(on_end=lambda e: ended.setdefault(e.job_id, e))
    service = ModelService(lambda name, *args: events.append((name, args)), scheduler)
    return scheduler, service, events, ended


def infos(events):
    return [args[0] for name, args in events if name == "model_loaded"]


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
    path = photo(tmp_path)
    service.classify(1, [path])  # a drop while the graph is being prepared: torch answers it
    step_until(scheduler, lambda: 1 in ended)
    step_until(scheduler, lambda: infos(events)[-1].engine == "onnxruntime")
    assert infos(events)[-1].engine_reason is None
    service.classify(2, [path])
    step_until(scheduler, lambda: 2 in ended)
    assert top5(events, 2) == top5(events, 1)


def test_a_failed_gate_keeps_torch_and_says_why(ort_worker, tmp_path, monkeypatch):
    from alexnet_gui.core.engine import runners

    real = runners.OrtRunner.__call__
    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: real(self, x) * 3.0 + 1.0)
    scheduler, service, events, ended = ort_worker
    service.load(None, "cpu")
    step_until(scheduler, lambda: infos(events)[-1].engine_reason != PREPARING)
    last = infos(events)[-1]
    assert last.engine == "torch" and "differ from torch" in last.engine_reason


def test_choosing_torch_goes_back_at_once(ort_worker):
    scheduler, service, events, ended = ort_worker
    service.load(None, "cpu")
    service.set_engine("torch")
    last = infos(events)[-1]
    assert last.engine == "torch" and last.engine_reason is None and last.engine_choice == "torch"
    service.set_engine("tensorrt")
    assert [args for name, args in events if name == "notice"][-1][0].startswith("unknown engine")
