"""The worker's cooperative scheduler: new jobs first, steps that rest, and a cancel
that holds before, during and after a job."""

from __future__ import annotations

import threading

from alexnet_gui.worker.scheduler import Scheduler


def run_until_idle(s: Scheduler, limit: int = 1000) -> None:
    import time

    for _ in range(limit):
        wait = s.wait_s()
        if wait is None:
            return
        if wait > 0:
            time.sleep(wait)  # the worker's loop waits on its inbox this long
        s.step()
    raise AssertionError("the jobs did not end")


def recorder():
    ended = {}
    return ended, Scheduler(on_end=lambda e: ended.setdefault(e.job_id, e))


def steps(log, name, n, rest=None):
    def factory(cancelled):
        for i in range(n):
            log.append(f"{name}{i}")
            yield rest
    return factory


def test_a_new_job_goes_before_the_next_step_of_a_running_one():
    log, (ended, s) = [], recorder()
    s.start(1, steps(log, "folder", 3))
    s.step()
    s.start(2, steps(log, "drop", 1))
    run_until_idle(s)
    assert log[:3] == ["folder0", "drop0", "folder1"]
    assert not ended[1].cancelled and not ended[2].cancelled


def test_a_resting_job_lets_others_run_and_can_be_cancelled_while_it_rests():
    """A step may yield seconds (a single image's pictures wait so the top-5 is drawn first):
    the job sleeps without holding the worker, and a cancel meanwhile ends it."""
    log, (ended, s) = [], recorder()

    def resting(cancelled):
        log.append("rest")
        yield 0.05
        log.append("after rest")

    s.start(1, resting)
    s.step()
    s.start(2, steps(log, "quick", 1))
    s.step()
    s.step()
    assert log == ["rest", "quick0"] and 2 in ended and 1 not in ended  # ran while the first rested
    assert 0 < s.wait_s() <= 0.05  # the worker may wait for requests until the rest is over
    s.cancel(1)
    run_until_idle(s)
    assert ended[1].cancelled and log == ["rest", "quick0"]  # cancelled, never resumed


def test_a_cancel_before_the_request_arrives_holds():
    log, (ended, s) = [], recorder()
    s.cancel(5)  # its request is still on its way: ids grow, so 5 is kept
    s.start(5, steps(log, "late", 2))
    assert ended[5].cancelled and log == []


def test_cancel_all_holds_for_jobs_asked_for_but_not_arrived():
    log, (ended, s) = [], recorder()
    s.start(1, steps(log, "a", 5))
    s.cancel(None, upto=3)
    s.start(2, steps(log, "b", 5))
    s.start(4, steps(log, "c", 1))
    run_until_idle(s)
    assert ended[1].cancelled and ended[2].cancelled and not ended[4].cancelled
    assert log == ["c0"]


def test_a_cancel_while_running_is_seen_by_the_step_and_after_the_end_does_nothing():
    log, (ended, s) = [], recorder()
    inside = threading.Event()

    def polling(cancelled):
        inside.set()
        log.append(cancelled())
        yield
        log.append(cancelled())
        yield

    s.start(1, polling)
    s.step()
    s.cancel(1)  # from another thread in the worker: here, between two steps
    run_until_idle(s)
    assert log == [False] and ended[1].cancelled
    s.cancel(1)  # after the end: nothing happens
    assert not s.busy()


def test_a_failing_job_is_reported_and_the_next_one_runs():
    log, (ended, s) = [], recorder()

    def failing(cancelled):
        yield
        raise ValueError("a bad file")

    s.start(1, failing)
    s.start(2, steps(log, "next", 1))
    run_until_idle(s)
    assert ended[1].failed == "a bad file" and ended[2].failed is None and log == ["next0"]


def test_closing_closes_every_job_so_its_cleanup_runs():
    cleaned, (ended, s) = [], recorder()

    def saving(cancelled):
        try:
            yield
            yield
        finally:
            cleaned.append("closed")

    s.start(1, saving)
    s.step()
    s.close_all()
    assert cleaned == ["closed"] and ended[1].cancelled
