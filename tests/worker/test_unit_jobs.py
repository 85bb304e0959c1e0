"""The worker's unit jobs: a top-images scan is a step per batch with progress, a classify is
answered between two of its batches and a cancel ends it at its next step (what it computed stays
cached); a picture sends frames on the way, then the picture, and a second request comes from the
cache; a bad unit fails the job with the core's message."""

from __future__ import annotations

import time

import numpy as np
import pytest
from shape_folders import make_shapes
from worker_service import recording_service

from alexnet_gui.core.units import TopImages, UnitFrame, UnitPicture
from alexnet_gui.worker.unit_jobs import UnitJobs

TOP, CLASSIFY, PICTURE, AGAIN = 1, 2, 3, 4


@pytest.fixture
def worker():
    scheduler, service, events, ended = recording_service()
    service.load(None, "cpu")  # the untrained seeded model
    return scheduler, service, UnitJobs(service), events, ended


@pytest.fixture
def folder(tmp_path):
    return str(make_shapes(tmp_path / "shapes", per_class=6))  # 18 images


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


def named(events, name, job_id=None):
    return [args for n, args in events if n == name and (job_id is None or args[0] == job_id)]


def test_a_scan_answers_the_top_nine_with_progress_per_batch(worker, folder, monkeypatch):
    from alexnet_gui.core.units import scan

    monkeypatch.setattr(scan, "extract_batch_size", lambda device: 8)
    scheduler, service, jobs, events, ended = worker
    scheduler.start(TOP, jobs.top_factory(TOP, "conv5", 3, [folder]))
    step_until(scheduler, lambda: TOP in ended)
    (job_id, result), = named(events, "unit_top_ready")
    assert isinstance(result, TopImages) and job_id == TOP
    assert len(result.images) == 9 and result.scanned == 18 and result.computed == 18
    assert [a[1:] for a in named(events, "job_progressed", TOP)] == [(0, 18), (6, 18), (12, 18), (18, 18)]  # 3 x 6, not 8 + 8 + 2


def test_a_classify_goes_between_two_batches_and_a_cancel_keeps_what_was_computed(worker, folder, monkeypatch):
    from alexnet_gui.core.units import scan

    monkeypatch.setattr(scan, "extract_batch_size", lambda device: 6)
    scheduler, service, jobs, events, ended = worker
    scheduler.start(TOP, jobs.top_factory(TOP, "relu2", 0, [folder]))
    step_until(scheduler, lambda: len(named(events, "job_progressed", TOP)) >= 2)  # one batch done
    service.classify(CLASSIFY, [f"{folder}/circles/circles-00.png"])
    step_until(scheduler, lambda: named(events, "predictions_ready"))
    assert [a[1:] for a in named(events, "job_progressed", TOP)] == [(0, 18), (6, 18)]
    scheduler.cancel(TOP)
    step_until(scheduler, lambda: TOP in ended)
    assert ended[TOP].cancelled and not named(events, "unit_top_ready")

    scheduler.start(AGAIN, jobs.top_factory(AGAIN, "relu2", 1, [folder]))
    step_until(scheduler, lambda: AGAIN in ended)
    assert named(events, "unit_top_ready")[0][1].computed == 12  # the first batch came from the cache


def test_a_picture_sends_frames_then_the_picture_and_the_second_time_comes_from_the_cache(worker):
    scheduler, service, jobs, events, ended = worker
    settings = {"steps": 12, "every": 4}
    scheduler.start(PICTURE, jobs.picture_factory(PICTURE, "conv2", 5, settings))
    step_until(scheduler, lambda: PICTURE in ended)
    sent = [a[1] for a in named(events, "unit_picture_ready", PICTURE)]
    assert [f.step for f in sent[:-1] if isinstance(f, UnitFrame)] == [4, 8, 12]
    picture = sent[-1]
    assert isinstance(picture, UnitPicture) and not picture.from_cache and picture.image.shape == (224, 224, 3)
    assert named(events, "job_progressed", PICTURE)[-1][1:] == (12, 12)

    scheduler.start(AGAIN, jobs.picture_factory(AGAIN, "conv2", 5, settings))
    step_until(scheduler, lambda: AGAIN in ended)
    (_, kept), = named(events, "unit_picture_ready", AGAIN)
    assert kept.from_cache and np.array_equal(kept.image, picture.image)


def test_a_bad_unit_fails_the_job_with_the_cores_message(worker, folder):
    scheduler, service, jobs, events, ended = worker
    scheduler.start(TOP, jobs.top_factory(TOP, "fc7", 4096, [folder]))
    scheduler.start(PICTURE, jobs.picture_factory(PICTURE, "conv9", 0, {}))
    step_until(scheduler, lambda: TOP in ended and PICTURE in ended)
    assert "fc7" in ended[TOP].failed and "0 to 4095" in ended[TOP].failed
    assert "no layer named 'conv9'" in ended[PICTURE].failed
