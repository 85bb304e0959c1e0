"""The worker process's loop: requests in, events out, jobs stepped between.

A reader thread takes each request off the pipe as it comes. A cancel acts at
once (a running step may poll it); every other request is queued for the loop,
which handles all queued requests before the next job step, so new requests go
first. The process ends when the window says "stop" or its end of the pipe
closes (the window exited, or was killed): no worker outlives its window.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import sys
import threading
import time
import traceback

from .scheduler import Ended, Scheduler
from .wire import Channel

STOP = ("stop",)
_OWN_PROCESS = False  # set in the spawned worker process: its heap is the model's alone


def serve(channel: Channel, on_start=None) -> None:
    """Run until told to stop or the window is gone. ``on_start(service)`` is for a worker
    in a thread of the window's process (tests reach the model service through it)."""
    from .explain_jobs import ExplainJobs
    from .finetune_jobs import FinetuneJobs
    from .service import ModelService
    from .unit_jobs import UnitJobs

    inbox: queue.Queue[tuple] = queue.Queue()
    scheduler = Scheduler(on_end=lambda e: _report_end(channel, e))

    def emit(name: str, *args) -> None:
        try:
            channel.send(("event", name, args))
        except (OSError, EOFError, BrokenPipeError):
            inbox.put(STOP)  # the window is gone

    service = ModelService(emit, scheduler)
    finetune = FinetuneJobs(service)
    service.explain_jobs = ExplainJobs(service, finetune)  # the explain requests' jobs
    service.unit_jobs = UnitJobs(service)  # a unit's top images and the picture it wants
    if on_start is not None:
        on_start(service)
    threading.Thread(target=_read, args=(channel, inbox, scheduler, service), name="worker-reader",
                     daemon=True).start()
    emit("ready", os.getpid())
    while True:
        try:
            message = inbox.get(timeout=scheduler.wait_s())
        except queue.Empty:
            scheduler.step()
            continue
        if message == STOP:
            break
        _handle(message, service, finetune, scheduler, emit)
        while True:  # every request that came meanwhile before the next step
            try:
                message = inbox.get_nowait()
            except queue.Empty:
                break
            if message == STOP:
                scheduler.close_all()
                return
            _handle(message, service, finetune, scheduler, emit)
        scheduler.step()
    scheduler.close_all()


def _read(channel: Channel, inbox: queue.Queue, scheduler: Scheduler, service) -> None:
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            scheduler.cancel(None, upto=2**62)  # the window is gone: stop every job at its next step
            inbox.put(STOP)
            return
        kind = message[0]
        if kind == "cancel":
            scheduler.cancel(message[1], upto=message[2])
        elif kind == "cancel_download":
            service.cancel_download()
        else:
            if kind == "stop":
                scheduler.cancel(None, upto=2**62)
            inbox.put(tuple(message))
            if kind == "stop":
                return  # nothing more is read: the window waits for "bye"


def _handle(message: tuple, service, finetune, scheduler: Scheduler, emit) -> None:
    kind, *args = message
    try:
        if kind == "classify":
            service.classify(*args)
        elif kind == "frame":
            service.classify_frame(*args)
        elif kind == "pictures":
            service.pictures(*args)
        elif kind == "features":
            service.features(*args)
        elif kind == "finetune":
            job_id, request = args
            scheduler.start(job_id, finetune.factory(request))
        elif kind == "explain":
            scheduler.start(args[0], service.explain_jobs.factory(*args))
        elif kind == "unit_top":
            scheduler.start(args[0], service.unit_jobs.top_factory(*args))
        elif kind == "unit_picture":
            scheduler.start(args[0], service.unit_jobs.picture_factory(*args))
        elif kind == "load":
            _load_quietly(service, *args)
        elif kind == "load_file":
            service.load_weights_file(*args)
        elif kind == "device":
            service.set_device(*args)
        elif kind == "export":
            service.export(*args)
        elif kind == "engine":
            service.set_engine(*args)
        elif kind == "compare":
            service.set_compare(*args)
        elif kind == "restore_base":
            service.restore_base()
        elif kind == "download":
            service.download(*args)
        elif kind == "crash":  # tests: die as a native crash would, without a word
            os._exit(int(args[0]) if args else 70)
        elif kind == "hold":  # tests: busy, as a long load is, until the file args[0] exists
            _hold(args[0], emit)
        else:
            raise ValueError(f"unknown request {kind!r}")
    except Exception as exc:  # noqa: BLE001 - one bad request must not end the worker
        traceback.print_exc()
        emit("notice", f"the model process could not {kind}: {exc}")


def _hold(path: str, emit, limit_s: float = 60.0) -> None:
    emit("notice", f"holding until {path} exists")
    end = time.monotonic() + limit_s
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.01)


def _load_quietly(service, weights_path, device_spec) -> None:
    """The first load imports torch and leaves ~230 MB in reference cycles: no collection
    while it runs, one after, then what exists is kept out of later collections. Only in
    the worker's own process: a worker in a thread of the window's process must not
    freeze the window's heap (its closed windows' cycles would never be collected)."""
    if not _OWN_PROCESS:
        service.load(weights_path, device_spec)
        return
    gc.disable()
    try:
        service.load(weights_path, device_spec)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


def _report_end(channel: Channel, ended: Ended) -> None:
    try:
        if ended.failed is not None:
            channel.send(("event", "job_failed", (ended.job_id, ended.failed)))
        else:
            channel.send(("event", "job_finished", (ended.job_id, ended.cancelled)))
    except (OSError, EOFError):
        pass


def serve_and_close(channel: Channel, on_start=None) -> None:
    """``serve``, then say "bye" and close the worker's end of the pipe. Each side's reader
    thread returns on the last message it expects ("stop" here, "bye" there), never
    waiting on an end of the pipe that another blocked read keeps open."""
    try:
        serve(channel, on_start)
    finally:
        with contextlib.suppress(OSError, EOFError):
            channel.send(("bye",))
        channel.close()


def process_main(conn) -> None:
    """Entry point of the spawned process. ``conn`` is its end of the pipe."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    # The window starts this process as a daemon (it ends with the window), and multiprocessing
    # refuses children in a daemonic process; the worker starts short-lived ones of its own (the
    # engine's graph export, core.engine.export_process). The flag means nothing else in here.
    import multiprocessing

    multiprocessing.current_process().daemon = False
    try:
        serve_and_close(Channel(conn))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
