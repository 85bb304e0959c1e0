"""The worker's fine-tune job on its one thread: the run is the scheduler's steps (no
helper thread runs torch), a classify is answered between two of its batches with the
process's own torch settings, and a cancel ends it at its next step."""

from __future__ import annotations

import threading
import time

import pytest
from shape_folders import make_shapes
from worker_service import recording_service

from alexnet_gui.worker.finetune_jobs import FinetuneJobs

RUN, CLASSIFY = 1, 2
LONG = 1000  # epochs for a run that is cancelled


@pytest.fixture
def worker(tmp_path):
    """A worker's scheduler, model service (the untrained seeded model, on the CPU) and
    fine-tune jobs, stepped by the test as the worker's loop steps them."""
    scheduler, service, events, ended = recording_service()
    service.load(None, "cpu")
    return scheduler, service, FinetuneJobs(service), events, ended


def step_until(scheduler, done, check=lambda: None, limit=100_000):
    for _ in range(limit):
        if done():
            return
        wait = scheduler.wait_s()
        assert wait is not None, "every job ended first"
        if wait > 0:
            time.sleep(wait)  # the worker's loop waits on its inbox this long
        scheduler.step()
        check()
    raise AssertionError("never happened")


def progressed(events, phase=None):
    return [args[1] for name, args in events
            if name == "finetune.progressed" and (phase is None or args[1].phase == phase)]


def test_classify_between_batches_runs_on_the_workers_thread_with_its_threads(worker, tmp_path, two_threads,
                                                                              monkeypatch):
    import torch

    scheduler, service, jobs, events, ended = worker
    folder = make_shapes(tmp_path / "shapes")
    seen = {"classify": [], "train": []}
    predict = service.predict_batch

    def predict_batch(batch, bundle):
        seen["classify"].append((threading.current_thread(), torch.get_num_threads()))
        return predict(batch, bundle)

    monkeypatch.setattr(service, "predict_batch", predict_batch)

    def progress_seen(name, *args):
        if name == "finetune.progressed" and args[1].phase == "train":
            seen["train"].append((threading.current_thread(), torch.get_num_threads()))
        events.append((name, args))

    service.emit = progress_seen

    def between_steps():
        assert not [t.name for t in threading.enumerate() if t.name == "finetune-run"]
        assert torch.get_num_threads() == two_threads

    scheduler.start(RUN, jobs.factory(("run", 7, str(folder), {"epochs": LONG, "batch_size": 8})))
    step_until(scheduler, lambda: len(progressed(events, "train")) >= 2, between_steps)
    service.classify(CLASSIFY, [str(folder / "circles" / "circles-00.png")])
    step_until(scheduler, lambda: CLASSIFY in ended, between_steps)

    assert RUN not in ended  # answered between two batches of the run
    here = threading.current_thread()
    assert seen["classify"] == [(here, two_threads)]  # the process's count, not the head's one thread
    assert set(seen["train"]) == {(here, 1)}  # the head trains on this thread, on one CPU thread
    assert [name for name, args in events if name == "predictions_ready"]

    scheduler.cancel(RUN)
    after = len(progressed(events))
    step_until(scheduler, lambda: RUN in ended, between_steps)
    assert ended[RUN].cancelled
    assert len(progressed(events)) == after  # not one more batch
    assert not [name for name, _ in events if name in ("finetune.finished", "finetune.refused")]
    assert torch.get_num_threads() == two_threads


def test_a_run_reports_every_phase_and_finishes(worker, tmp_path):
    scheduler, service, jobs, events, ended = worker
    folder = make_shapes(tmp_path / "small", per_class=5)
    scheduler.start(RUN, jobs.factory(("run", 7, str(folder), {"epochs": 2})))
    step_until(scheduler, lambda: RUN in ended)

    assert not ended[RUN].cancelled and ended[RUN].failed is None
    phases = [e.phase for e in progressed(events)]
    assert phases[0] == "scan" and phases[-1] == "done"
    assert {"scan", "extract", "train", "done"} == set(phases)
    (outcome,) = [args[1] for name, args in events if name == "finetune.finished"]
    assert outcome.result.val_count == 3 and outcome.result.seconds > 0
