"""The window's client of the worker process.

``WorkerClient`` starts the worker (a spawned process, or for tests that patch the
model's code, a thread of this process speaking the same pipe), sends requests as
small messages, and re-emits the worker's events as Qt signals on ``events``
(``events.predictions_ready`` etc., see ``bridge.events``). A reader thread waits
on the pipe and only posts what arrives to the GUI thread; nothing polls.

When the worker process dies (killed, crashed, out of memory) the window stays:
the jobs that were running fail with a message, ``events.worker_stopped`` says
what happened, and a new worker is started with the same model and device. A
second death within ``RESTART_WINDOW_S`` stops the restarting and says why.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
import time

from PySide6.QtCore import QObject, Signal

from ...worker.wire import Channel
from .events import FinetuneEvents, WorkerEvents
from .job import Job

JOB_EVENTS = {"predictions_ready", "pictures_ready", "frame_ready", "features_ready", "explain_ready", "export_ready",
              "unit_top_ready", "unit_picture_ready",
              "job_progressed", "job_finished", "job_failed"}
RESTART_WINDOW_S = 60.0  # a second death within this stops the restarting
STOP_WAIT_S = 2.0  # closing: how long the worker gets to stop before it is terminated
SAVE_WAIT_S = 60.0  # ... unless a save is still writing: a model file is never cut off


class WorkerClient(QObject):
    """Sends requests, hands out job ids, keeps a worker running."""

    # Requests as signals, for views that emit them; each sends one message.
    load_requested = Signal(object, str)  # weights path (None: default), device
    weights_file_requested = Signal(object)  # path
    classify_requested = Signal(int, object)  # job id, list[str]: said when a classify goes out
    device_requested = Signal(str)
    engine_requested = Signal(str)  # auto | torch | onnxruntime
    compare_requested = Signal(bool)
    restore_base_requested = Signal()
    download_requested = Signal(str, str)
    _arrived = Signal(object)  # (generation, message), posted by the reader thread

    def __init__(self, parent: QObject | None = None, host: str = "process") -> None:
        super().__init__(parent)
        if host not in ("process", "thread"):
            raise ValueError(f"host is 'process' or 'thread', not {host!r}")
        self.host = host
        self.events = WorkerEvents(self)
        self.worker = self.events  # the name views have used for the worker's signals
        self.finetune = FinetuneEvents(self)
        self._next_id = 0
        self._running: dict[int, Job] = {}  # every job asked for, until it ended
        self._generation = 0
        self._channel: Channel | None = None
        self._process = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._deaths: list[float] = []
        self._model_load: tuple = ("load", None, "auto")  # what to load again after a restart
        self._last_info = None
        self._compare = False
        self._engine: str | None = None  # the engine asked for, sent again to a restarted worker
        self.pid: int | None = None
        self.local_service = None  # the worker's ModelService when it runs in a thread here (tests)
        self._arrived.connect(self._on_arrived)
        self.events.ready.connect(self._on_ready)
        self.events.model_loaded.connect(self._on_model_loaded)
        self.load_requested.connect(self.load)
        self.weights_file_requested.connect(self.load_file)
        self.device_requested.connect(lambda spec: self._send(("device", spec)))
        self.compare_requested.connect(self._set_compare)
        self.engine_requested.connect(self.set_engine)
        self.restore_base_requested.connect(lambda: self._send(("restore_base",)))
        self.download_requested.connect(lambda url, dest: self._send(("download", url, dest)))
        self._start()

    # ------------------------------------------------------------ requests

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def load(self, weights_path, device_spec: str) -> None:
        self._model_load = ("load", str(weights_path) if weights_path else None, device_spec)
        self._send(self._model_load)

    def load_file(self, path) -> None:
        self._send(("load_file", str(path)))

    def set_engine(self, choice: str) -> None:
        """auto, torch or onnxruntime for the forward passes from now on."""
        self._engine = choice
        self._send(("engine", choice))

    def export_model(self, fmt: str, out, int8: bool = False) -> Job:
        """Write the model in use as ``fmt`` (onnx, torchscript) to ``out``, checked against torch:
        ``progressed`` in percent, ``partial`` gets a dict with the report and its summary."""
        return self._job("export", fmt, str(out), bool(int8))

    def classify(self, paths) -> Job:
        """Top-5 of each of ``paths``: ``partial`` gets lists of ImageResult, batch by batch."""
        paths = [str(p) for p in paths]
        job = self._job("classify", paths)
        self.classify_requested.emit(job.id, paths)
        return job

    def classify_frame(self, frame) -> Job:
        """Top-5 of one camera frame, an (h, w, 3) uint8 array: ``partial`` gets its Prediction."""
        return self._job("frame", frame)

    def features(self, path) -> Job:
        """Every feature layer's activations for ``path``: ``partial`` gets a FeatureMapsResult."""
        return self._job("features", str(path))

    def explain(self, path, settings: dict, which: str = "current") -> Job:
        """A heat map of why the model decided (``core.explain``): ``settings`` is a plain dict of
        ExplainSettings; ``which`` "current" or "base" (the base model beside a fine-tuned head).
        ``progressed`` per batch for the long methods; ``partial`` gets the Explanation."""
        return self._job("explain", str(path), dict(settings), which)

    def unit_top(self, layer: str, channel: int, paths) -> Job:
        """The images of ``paths`` (files or folders) that excite a unit most (``core.units``):
        ``progressed`` per batch; ``partial`` gets the TopImages."""
        return self._job("unit_top", str(layer), int(channel), [str(p) for p in paths])

    def unit_picture(self, layer: str, channel: int, settings: dict | None = None) -> Job:
        """The picture a unit wants, by gradient ascent: ``settings`` a plain dict of
        VisualizeSettings; ``partial`` gets a UnitFrame every few steps, then the UnitPicture."""
        return self._job("unit_picture", str(layer), int(channel), dict(settings or {}))

    def pictures(self, path) -> Job:
        """``path``'s thumbnail and preview alone (no forward pass): ``partial`` gets a PicturesResult."""
        return self._job("pictures", str(path))

    def run_finetune(self, request: tuple) -> Job:
        """A fine-tune job: ``request`` is ``(kind, token, *args)`` (see worker.finetune_jobs); its
        results come on ``finetune`` with the token."""
        job = Job(self.new_id(), f"finetune.{request[0]}", self._cancel_one, self)
        self._running[job.id] = job
        self._send(("finetune", job.id, tuple(request)))
        return job

    def cancel_all(self) -> None:
        """Cancel every job asked for so far, whether it has started or not."""
        self._send(("cancel", None, self._next_id))

    def _cancel_one(self, job_id: int) -> None:
        self._send(("cancel", job_id, 0))

    def cancel_download(self) -> None:
        self._send(("cancel_download",))

    def busy(self) -> bool:
        """A job asked for has not finished yet."""
        return bool(self._running)

    def is_running(self) -> bool:
        """The worker (process or thread) is alive."""
        if self._process is not None:
            return self._process.is_alive()
        return self._thread is not None and self._thread.is_alive()

    def hold_worker(self, path) -> None:
        """For tests: the worker is busy (as in a long model load) until the file ``path`` exists."""
        self._send(("hold", str(path)))

    def crash_worker(self, code: int = 70) -> None:
        """For tests: the worker exits at once, as a native crash would."""
        self._send(("crash", code))

    def _job(self, kind: str, *args) -> Job:
        job = Job(self.new_id(), kind, self._cancel_one, self)
        self._running[job.id] = job
        self._send((kind, job.id, *args))
        return job

    def _set_compare(self, on: bool) -> None:
        self._compare = on
        self._send(("compare", on))

    def _send(self, message: tuple) -> None:
        if self._channel is None:
            return
        with contextlib.suppress(OSError, ValueError):  # the worker is gone: the reader reports it
            self._channel.send(message)

    # ------------------------------------------------------------ the worker's life

    def _start(self) -> None:
        from ...worker.main import process_main, serve_and_close

        self._generation += 1
        generation = self._generation
        if self.host == "process":
            ctx = multiprocessing.get_context("spawn")
            mine, theirs = ctx.Pipe(duplex=True)
            self._process = ctx.Process(target=process_main, args=(theirs,), name="alexnet-gui-model", daemon=True)
            self._process.start()
            theirs.close()  # only the worker holds its end: its death closes the pipe here
        else:
            mine, theirs = multiprocessing.Pipe(duplex=True)
            self._thread = threading.Thread(target=serve_and_close, args=(Channel(theirs), self._set_local_service),
                                            name="model-worker", daemon=True)
            self._thread.start()
        self._channel = Channel(mine)
        threading.Thread(target=self._read, args=(self._channel, generation), name="worker-events",
                         daemon=True).start()

    def _set_local_service(self, service) -> None:
        self.local_service = service

    def _read(self, channel: Channel, generation: int) -> None:
        """The reader thread: waits on the pipe, posts each message to the GUI thread.
        It owns the window's end of the pipe and closes it when the worker has gone."""
        try:
            self._read_until_gone(channel, generation)
        finally:
            channel.close()

    def _read_until_gone(self, channel: Channel, generation: int) -> None:
        while True:
            try:
                message = channel.recv()
            except (EOFError, OSError):
                message = ("gone",)
            if message == ("bye",):  # the worker stopped when asked to
                return
            try:
                self._arrived.emit((generation, message))
            except RuntimeError:  # the client was deleted with its window
                return
            if message == ("gone",):
                return

    def _on_arrived(self, item) -> None:
        generation, message = item
        if generation != self._generation:
            return  # from a worker that has been replaced
        if message[0] == "gone":
            self._on_worker_gone()
            return
        _, name, args = message
        if name.startswith("finetune."):
            getattr(self.finetune, name.split(".", 1)[1]).emit(*args)
            return
        getattr(self.events, name).emit(*args)
        job = self._running.get(args[0]) if name in JOB_EVENTS else None
        if job is None:
            return
        if name == "job_progressed":
            job.progressed.emit(args[1], args[2])
        elif name == "job_finished":
            del self._running[job.id]
            job._end("cancelled" if args[1] else "finished")
        elif name == "job_failed":
            del self._running[job.id]
            job._end("failed", args[1])
        else:  # a partial result
            job.partial.emit(args[1])

    def _on_ready(self, pid: int) -> None:
        self.pid = pid

    def _on_model_loaded(self, info) -> None:
        self._last_info = info

    def _on_worker_gone(self) -> None:
        if self._closing:
            return
        code = None
        if self._process is not None:
            self._process.join(1.0)
            code = self._process.exitcode
        why = f"exit code {code}" if code is not None and code >= 0 else \
            f"killed by signal {-code}" if code is not None else "it stopped"
        failed, self._running = list(self._running.values()), {}
        for job in failed:
            message = f"the model process stopped ({why}) while this was running"
            self.events.job_failed.emit(job.id, message)
            job._end("failed", message)
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW_S] + [now]
        self._channel = None
        if len(self._deaths) > 1:
            self.events.worker_stopped.emit(
                f"The model process stopped again ({why}) within a minute; not restarting it. "
                "Restart the app to classify again.")
            return
        self.events.worker_stopped.emit(f"The model process stopped ({why}); restarting it with the same model…")
        self._start()
        self._replay_model()

    def _replay_model(self) -> None:
        """The new worker loads what the old one had: the base, then a saved fine-tuned head."""
        info = self._last_info
        _, base_path, device = self._model_load
        if info is not None:
            device = info.device_spec
        if self._engine is not None:
            self._send(("engine", self._engine))
        self._send(("load", base_path, device))
        # A saved fine-tuned head, or other weights opened since start-up, follow the base.
        if info is not None and info.weights_path and info.weights_path != base_path:
            self._send(("load_file", info.weights_path))
        if self._compare:
            self._send(("compare", True))

    def shutdown(self, timeout_ms: int = int(STOP_WAIT_S * 1000)) -> bool:
        """Stop the worker: running jobs are cancelled, a save finishes first. True when it
        stopped by itself in time; otherwise it is terminated."""
        self._closing = True
        saving = any(job.kind == "finetune.save" for job in self._running.values())
        self._send(("stop",))
        wait_s = max(timeout_ms / 1000, SAVE_WAIT_S if saving else 0)
        if self._process is not None:
            self._process.join(wait_s)
            stopped = not self._process.is_alive()
            if not stopped:
                self._process.terminate()
                self._process.join(1.0)
                if self._process.is_alive():
                    self._process.kill()
                    self._process.join(1.0)
        else:
            self._thread.join(wait_s)
            stopped = not self._thread.is_alive()
        self._channel = None  # the reader closes it once the worker has said "bye" or gone
        self.local_service = None
        return stopped
