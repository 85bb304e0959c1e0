"""The worker's scheduler and model service as the tests step them: one place builds them."""

from __future__ import annotations

from alexnet_gui.worker.scheduler import Scheduler
from alexnet_gui.worker.service import ModelService


def recording_service():
    """(scheduler, service, events, ended): the service's events as (name, args) in ``events``,
    each ended job's ``Ended`` in ``ended`` by job id. No model is loaded yet."""
    events, ended = [], {}
    scheduler = Scheduler(on_end=lambda e: ended.setdefault(e.job_id, e))
    service = ModelService(lambda name, *args: events.append((name, args)), scheduler)
    return scheduler, service, events, ended
