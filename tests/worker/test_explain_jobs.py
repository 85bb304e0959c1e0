"""The worker's explain jobs: Grad-CAM answers in one step; an occlusion is a step per
batch with progress, a classify request is answered between two of its batches, and a
cancel ends it at its next step; a bad class fails the job with the core's message;
"base" explains with the base model kept beside a fine-tuned head."""

from __future__ import annotations

import time

import numpy as np
import pytest
from worker_service import recording_service

from alexnet_gui.worker.explain_jobs import ExplainJobs

EXPLAIN, CLASSIFY = 1, 2


@pytest.fixture
def worker():
    scheduler, service, events, ended = recording_service()
    service.load(None, "cpu")  # the untrained seeded model
    return scheduler, service, ExplainJobs(service), events, ended


@pytest.fixture
def photo(tmp_path):
    from seeded import random_image

    path = tmp_path / "photo.png"
    random_image(320, 240, seed=3).save(path)
    return str(path)


def step_until(scheduler, done, limit=10_000):
    for _ in range(limit):
        if done():
            return
        wait = scheduler.wait_s()
        assert wait is not None, "every job ended first"
        if wait > 0:
            time.sleep(wait)  # the worker's loop waits on its inbox this long
        scheduler.step()
    raise AssertionError("never happened")


def named(events, name):
    return [args for n, args in events if n == name]


def test_gradcam_is_one_step_and_answers_an_explanation(worker, photo):
    scheduler, service, jobs, events, ended = worker
    scheduler.start(EXPLAIN, jobs.factory(EXPLAIN, photo, {"method": "gradcam"}))
    scheduler.step()
    (job_id, result), = named(events, "explain_ready")
    assert job_id == EXPLAIN and result.path == photo and result.method == "gradcam"
    assert result.map.shape == (224, 224) and result.crop.shape == (224, 224, 3)
    assert result.image_size == (320, 240) and result.model == service.bundle.describe()
    step_until(scheduler, lambda: EXPLAIN in ended)
    assert not ended[EXPLAIN].cancelled and ended[EXPLAIN].failed is None


def test_a_classify_is_answered_between_two_occlusion_batches(worker, photo):
    scheduler, service, jobs, events, ended = worker
    scheduler.start(EXPLAIN, jobs.factory(EXPLAIN, photo, {"method": "occlusion", "batch": 40}))
    step_until(scheduler, lambda: len(named(events, "job_progressed")) >= 1)
    service.classify(CLASSIFY, [photo])
    step_until(scheduler, lambda: named(events, "predictions_ready"))
    assert [a[1:] for a in named(events, "job_progressed") if a[0] == EXPLAIN] == [(40, 169)]  # one batch, no more
    step_until(scheduler, lambda: EXPLAIN in ended)
    assert [a[1:] for a in named(events, "job_progressed") if a[0] == EXPLAIN][-1] == (169, 169)
    assert named(events, "explain_ready")[0][1].method == "occlusion"


def test_a_cancel_ends_the_occlusion_at_its_next_step(worker, photo):
    scheduler, service, jobs, events, ended = worker
    scheduler.start(EXPLAIN, jobs.factory(EXPLAIN, photo, {"method": "occlusion", "batch": 20}))
    step_until(scheduler, lambda: len(named(events, "job_progressed")) >= 2)
    scheduler.cancel(EXPLAIN)
    step_until(scheduler, lambda: EXPLAIN in ended)
    assert ended[EXPLAIN].cancelled
    assert len(named(events, "job_progressed")) == 2 and not named(events, "explain_ready")


@pytest.mark.parametrize("values, words", [({"target": "no such class"}, "no class named 'no such class'"),
                                           ({"layer": "features.12"}, "is not a convolution block")])
def test_a_bad_request_fails_the_job_with_the_cores_message(worker, photo, values, words):
    scheduler, service, jobs, events, ended = worker
    scheduler.start(EXPLAIN, jobs.factory(EXPLAIN, photo, values))
    step_until(scheduler, lambda: EXPLAIN in ended)
    assert words in ended[EXPLAIN].failed and not named(events, "explain_ready")


def test_base_explains_with_the_kept_base_and_current_with_the_head(worker, photo):
    from alexnet_gui.core.bundle import ModelBundle
    from alexnet_gui.core.model import build_model, swap_head

    scheduler, service, jobs, events, ended = worker
    scheduler.start(EXPLAIN, jobs.factory(EXPLAIN, photo, {}, "base"))
    step_until(scheduler, lambda: EXPLAIN in ended)
    assert "no base model" in ended[EXPLAIN].failed
    head = swap_head(build_model(seed=0), 3)
    service.install_bundle(ModelBundle(head, ["cat", "dog", "fox"], "finetuned"), keep_base=True)
    scheduler.start(2, jobs.factory(2, photo, {}, "current"))
    scheduler.start(3, jobs.factory(3, photo, {}, "base"))
    step_until(scheduler, lambda: 2 in ended and 3 in ended)
    results = {job: r for job, r in named(events, "explain_ready")}
    assert results[2].target.label in ("cat", "dog", "fox")
    assert results[3].model == service.base_bundle.describe() and results[3].target.index < 1000
    assert not np.allclose(results[2].map, results[3].map)
