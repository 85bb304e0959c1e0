"""The bridge: one long-lived worker that owns the model and the device.

``ModelWorker`` lives on its own QThread; the window talks to it only through
``WorkerClient``'s request signals (queued across threads) and listens to the
worker's result signals, which carry plain data (``ui.results``). torch is
imported inside the worker thread, so the window shows before it has loaded.

Long jobs (a folder, a fine-tune) are generators: the worker runs one step (one
batch), then posts the next step to the back of its own event queue, so a
classify request that arrived meanwhile is answered before the job goes on.
A step that yields a number of seconds rests the job that long (other jobs go
on). Cancelling sets a thread-safe flag the job checks between steps; a cancel that
arrives before its job's request has reached the worker is kept, and the job ends
cancelled as soon as it is asked for.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .results import FeatureMapsResult, ImageResult, ModelInfo, PicturesResult

SINGLE_BATCH = 32  # images per folder step: ~0.3 s on 2 CPU cores, the worst wait for a classify request
# After a single image's top-5 goes out, its thumbnail and preview wait this long, so
# the window gets a free core (and the GIL) to draw the bars at once.
PICTURES_AFTER_S = 0.02

# A job factory runs in the worker thread: factory(worker, cancelled) -> iterator of steps.
JobFactory = Callable[["ModelWorker", Callable[[], bool]], Iterator[object]]


class ModelWorker(QObject):
    model_loading = Signal(str)  # what is being loaded
    model_loaded = Signal(object)  # ModelInfo
    model_load_failed = Signal(str)  # message; the previous model stays
    predictions_ready = Signal(int, object)  # job id, list[ImageResult]
    job_progressed = Signal(int, int, int)  # job id, done, total
    job_finished = Signal(int, bool)  # job id, cancelled
    job_failed = Signal(int, str)  # job id, message
    features_ready = Signal(int, object)  # request id, FeatureMapsResult
    pictures_ready = Signal(int, object)  # request id, PicturesResult
    download_progressed = Signal(int, int)  # bytes done, total (0 when unknown)
    download_finished = Signal(str)  # saved path
    download_failed = Signal(str)  # message ("cancelled" when the user cancelled)
    notice = Signal(str)  # a one-line message for the status bar (e.g. CUDA fell back to CPU)

    def __init__(self) -> None:
        super().__init__()
        self.bundle = None  # core.bundle.ModelBundle, the model classifying now
        self.base_bundle = None  # the ImageNet/base model, kept when a fine-tuned head is active
        self.compare = False
        self.device = None
        self.device_spec = "auto"
        self._jobs: dict[int, tuple[Iterator[object], threading.Event]] = {}
        self._flags: dict[int, threading.Event] = {}  # each started job's cancel flag, until it ends
        self._order: list[int] = []
        # Job ids grow with every request (``WorkerClient.new_id``) and requests arrive in
        # order, so an id above the last one started is still on its way here: its cancel
        # is kept until it comes. The lock orders cancels (GUI thread) with starts.
        self._lock = threading.Lock()
        self._last_started = 0
        self._cancel_ahead: set[int] = set()
        self._cancel_all_upto = 0  # every job up to this id is cancelled (a cancel of all)
        self._stepping = False
        self._download_cancel = threading.Event()

    # ------------------------------------------------------------ model

    @Slot(object, str)
    def load(self, weights_path: str, device_spec: str) -> None:
        """Startup: import torch, pick the device, load weights (or untrained)."""
        self.model_loading.emit("loading model…")
        # No garbage collection while torch imports and the weights load: a full
        # collection holds the GIL for 0.3-0.6 s on 2 cores and freezes the window.
        gc.disable()
        try:
            self._load(weights_path, device_spec)
        finally:
            # One collection now: loading leaves ~230 MB in reference cycles (measured).
            # Then what exists lives as long as the app: keep it out of every later
            # collection (a full one over torch+Qt objects stalls all threads).
            gc.collect()
            gc.freeze()
            gc.enable()

    def _load(self, weights_path: str, device_spec: str) -> None:
        from ..core.bundle import load_bundle
        from ..core.device import DeviceError, resolve_device
        from ..core.weights import WeightsError

        try:
            device, note = resolve_device(device_spec)
        except DeviceError as exc:
            device, note = resolve_device("auto")[0], str(exc)
        self.device, self.device_spec = device, device_spec
        if note:
            self.notice.emit(note)
        try:
            bundle = load_bundle(weights_path or None)
        except WeightsError as exc:
            self.model_load_failed.emit(str(exc))
            bundle = load_bundle(None)
        self._install(bundle)

    @Slot(object)
    def load_weights_file(self, path: str) -> None:
        from ..core.bundle import bundle_from_file
        from ..core.weights import WeightsError

        self.model_loading.emit(f"loading {path}…")
        try:
            bundle = bundle_from_file(path)
        except WeightsError as exc:
            self.model_load_failed.emit(str(exc))
            return
        if bundle.source != "finetuned":
            self._install(bundle)
            return
        # A fine-tuned model: keep the base it can be compared with, and say so
        # when the checkpoint was trained from other base weights than that one.
        base = self.base_bundle or (self.bundle if self.bundle and self.bundle.source != "finetuned" else None)
        trained_on = bundle.meta.get("base_weights_sha256")
        if base is not None and base.sha256 and trained_on and trained_on != base.sha256:
            self.notice.emit(
                f"{Path(path).name} was fine-tuned from other base weights (sha256 {trained_on[:8]}, "
                f"loaded base {base.sha256[:8]}): its own predictions are unaffected (it holds every layer), "
                "but Compare shows the loaded base")
        self.base_bundle = base
        self._install(bundle, keep_base=base is not None)

    def install_bundle(self, bundle, keep_base: bool) -> None:
        """Make ``bundle`` the classifying model (jobs call this, in this thread)."""
        self._install(bundle, keep_base=keep_base)

    def _install(self, bundle, keep_base: bool = False) -> None:
        if keep_base and self.bundle is not None:
            self.base_bundle = self.base_bundle or self.bundle
        elif not keep_base:
            self.base_bundle = None
        try:
            for b in (bundle, self.base_bundle):  # the kept base classifies too (Compare)
                if b is not None:
                    b.to(self.device)
        except RuntimeError as exc:
            self._fallback_to_cpu(exc)
            bundle.to(self.device)
        self.bundle = bundle
        self.model_loaded.emit(self.model_info())

    def model_info(self) -> ModelInfo:
        from ..core.device import cuda_available, describe_device
        from ..core.introspect import CONV_LAYERS, conv_layer

        b = self.bundle
        weights = {n: conv_layer(b.model, n).weight.detach().float().cpu().numpy().copy() for n in CONV_LAYERS}
        return ModelInfo(
            description=b.describe(), source=b.source, trained=b.trained, class_names=list(b.class_names),
            weights_path=b.weights_path, sha256=b.sha256, device=describe_device(self.device),
            device_spec=str(self.device), conv_weights=weights, meta=dict(b.meta),
            cuda_available=cuda_available(),
            base_description=self.base_bundle.describe() if self.base_bundle else None,
        )

    @Slot(str)
    def set_device(self, spec: str) -> None:
        from ..core.device import DeviceError, resolve_device

        try:
            device, note = resolve_device(spec)
        except DeviceError as exc:
            self.notice.emit(str(exc))
            return
        if note:
            self.notice.emit(note)
        self.device, self.device_spec = device, spec
        if self.bundle is not None:
            self._install(self.bundle, keep_base=self.base_bundle is not None)

    def _fallback_to_cpu(self, exc: BaseException) -> None:
        import torch

        self.notice.emit(f"{self.device} failed ({str(exc).splitlines()[0][:120]}); using the CPU")
        self.device, self.device_spec = torch.device("cpu"), "cpu"
        for b in (self.bundle, self.base_bundle):
            if b is not None:
                b.to(self.device)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    @Slot(bool)
    def set_compare(self, on: bool) -> None:
        self.compare = on

    @Slot()
    def restore_base(self) -> None:
        """Go back from a fine-tuned head to the base model."""
        if self.base_bundle is not None:
            base, self.base_bundle = self.base_bundle, None
            self._install(base)

    # ------------------------------------------------------------ classify

    @Slot(int, object)
    def classify(self, job_id: int, paths: list) -> None:
        """Classify ``paths`` as a job, in batches; one image is a one-step job."""
        self.start_job(job_id, lambda w, cancelled: self._classify_steps(job_id, paths, cancelled))

    def _classify_steps(self, job_id: int, paths: list[str], cancelled) -> Iterator[object]:
        from ..core.memory import return_free_memory
        from ..core.predict import iter_batches
        from ..core.thumbnails import PREVIEW_SIZE, THUMBNAIL_SIZE, fit

        done, total = 0, len(paths)
        batch_size = 1 if total == 1 else SINGLE_BATCH
        for batch in iter_batches(paths, batch_size, keep_images=True):
            if cancelled():
                return
            preds = self.predict_batch(batch, self.bundle)
            compare = self.predict_batch(batch, self.base_bundle) if self.compare and self.base_bundle else None
            results = [ImageResult(p.path, p, compare[i] if compare else None,
                                   size=batch.images[i].size if i in batch.images else None)
                       for i, p in enumerate(preds)]
            if total == 1:
                # One dropped image: its top-5 goes out now, the pictures in a second update.
                self.predictions_ready.emit(job_id, [replace(r, pictures_pending=True) for r in results])
                yield PICTURES_AFTER_S  # a cancel meanwhile ends the job here (see _step)
            for i, r in enumerate(results):
                if i in batch.images:
                    r.thumbnail = fit(batch.images[i], THUMBNAIL_SIZE)
                    if total == 1:
                        r.preview = fit(batch.images[i], PREVIEW_SIZE)
            done += len(batch.paths)
            self.predictions_ready.emit(job_id, results)
            self.job_progressed.emit(job_id, done, total)
            yield
        if total > 1:
            return_free_memory()

    @Slot(int, object)
    def pictures(self, job_id: int, path: str) -> None:
        """Thumbnail and preview of ``path`` as a one-step job: a decode, no forward pass."""
        self.start_job(job_id, lambda w, cancelled: self._pictures_steps(job_id, path))

    def _pictures_steps(self, job_id: int, path: str) -> Iterator[object]:
        from ..core.images import ImageLoadError, load_image
        from ..core.thumbnails import PREVIEW_SIZE, THUMBNAIL_SIZE, fit

        try:
            img = load_image(path)
        except ImageLoadError as exc:
            self.pictures_ready.emit(job_id, PicturesResult(path, error=str(exc)))
        else:
            self.pictures_ready.emit(job_id, PicturesResult(path, fit(img, THUMBNAIL_SIZE), fit(img, PREVIEW_SIZE)))
        yield

    def predict_batch(self, batch, bundle):
        """Predictions for a loaded batch on ``bundle``; CUDA OOM retries on the CPU."""
        from ..core.device import is_out_of_memory
        from ..core.predict import forward, predictions_for

        logits, t0 = None, time.perf_counter()
        if batch.tensors is not None:
            try:
                logits = forward(bundle.model, batch.tensors, self.device)
            except RuntimeError as exc:
                if self.device.type != "cuda" or not is_out_of_memory(exc):
                    raise
                self._fallback_to_cpu(exc)
                logits = forward(bundle.model, batch.tensors, self.device)
                self.model_loaded.emit(self.model_info())
        return predictions_for(batch, logits, bundle.class_names, 5, time.perf_counter() - t0)

    @Slot(int, object)
    def compute_features(self, request_id: int, path: str) -> None:
        from ..core.images import ImageLoadError, load_image
        from ..core.introspect import feature_maps
        from ..core.preprocess import denormalize, preprocess

        try:
            x = preprocess(load_image(path))
            layers, _ = feature_maps(self.bundle.model, x)
        except ImageLoadError as exc:
            self.job_failed.emit(request_id, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - reported, the worker lives on
            self.job_failed.emit(request_id, f"{path}: {exc}")
            return
        crop = (denormalize(x).permute(1, 2, 0).numpy() * 255).round().astype("uint8")  # (224, 224, 3)
        self.features_ready.emit(request_id, FeatureMapsResult(path, layers, crop))

    # ------------------------------------------------------------ jobs

    def start_job(self, job_id: int, factory: JobFactory) -> None:
        cancel = threading.Event()
        with self._lock:
            self._last_started = max(self._last_started, job_id)
            if job_id in self._cancel_ahead or job_id <= self._cancel_all_upto:
                cancel.set()
            else:
                self._flags[job_id] = cancel
            # Requests come in id order: an id below this one that has not started never will.
            self._cancel_ahead = {j for j in self._cancel_ahead if j > job_id}
        if cancel.is_set():  # cancelled before it got here: never run
            self.job_finished.emit(job_id, True)
            return
        try:
            steps = iter(factory(self, cancel.is_set))
        except Exception as exc:  # noqa: BLE001
            self._forget(job_id)
            self.job_failed.emit(job_id, str(exc))
            return
        self._jobs[job_id] = (steps, cancel)
        # A new job goes first: a classify request dropped during a fine-tune or a
        # folder is answered after the step now running, not after one more.
        self._order.insert(0, job_id)
        self._schedule()

    @Slot(object)
    def run_job(self, request) -> None:
        """Queued entry for ``(job_id, factory)`` requests from other views."""
        job_id, factory = request
        self.start_job(job_id, factory)

    def cancel(self, job_id: int | None = None, upto: int = 0) -> None:
        """Thread-safe: may be called from the GUI thread directly. It holds before the
        job has started (its request still queued), while it runs, and after (no-op).
        ``job_id`` None cancels every job, and every job up to id ``upto`` not started yet."""
        with self._lock:
            if job_id is None:
                self._cancel_all_upto = max(self._cancel_all_upto, upto)
            elif job_id not in self._flags and job_id > self._last_started:
                self._cancel_ahead.add(job_id)
            for jid, flag in self._flags.items():
                if job_id is None or jid == job_id:
                    flag.set()

    def _forget(self, job_id: int) -> None:
        self._jobs.pop(job_id, None)
        with self._lock:
            self._flags.pop(job_id, None)

    def _schedule(self) -> None:
        if not self._stepping and self._order:
            self._stepping = True
            QTimer.singleShot(0, self._step)

    @Slot()
    def _step(self) -> None:
        # One step of the first job in the queue, then back to the event queue.
        self._stepping = False
        if not self._order:
            return
        job_id = self._order.pop(0)
        steps, flag = self._jobs[job_id]
        finished, failed, rest = False, None, None
        try:
            if flag.is_set():
                raise StopIteration
            rest = next(steps)
        except StopIteration:
            finished = True
        except Exception as exc:  # noqa: BLE001 - a job's error is reported, the worker lives on
            traceback.print_exc()
            failed = str(exc) or type(exc).__name__
        if finished or failed is not None:
            self._forget(job_id)
            if failed is not None:
                self.job_failed.emit(job_id, failed)
            else:
                self.job_finished.emit(job_id, flag.is_set())
        elif isinstance(rest, (int, float)) and rest > 0:
            QTimer.singleShot(max(1, round(rest * 1000)), self, partial(self._wake, job_id))
        else:
            self._order.append(job_id)  # round-robin so a fine-tune and a folder both progress
        self._schedule()

    def _wake(self, job_id: int) -> None:
        """A resting job (its step yielded seconds) joins the queue again."""
        if job_id in self._jobs and job_id not in self._order:
            self._order.append(job_id)
            self._schedule()

    def busy(self) -> bool:
        return bool(self._jobs)

    # ------------------------------------------------------------ download

    @Slot(str, str)
    def download(self, url: str, dest: str) -> None:
        """Download in a plain thread of its own: minutes of network must not hold up
        classify requests. Its signals reach the window queued, like the worker's."""
        self._download_cancel.clear()
        threading.Thread(target=self._download, args=(url, dest), name="weights-download", daemon=True).start()

    def _download(self, url: str, dest: str) -> None:
        from ..core.download import download_weights
        from ..core.weights import IMAGENET_URL, DownloadCancelled, WeightsError

        try:
            path = download_weights(
                Path(dest) if dest else None, url=url or IMAGENET_URL,
                progress=lambda done, total: self.download_progressed.emit(done, total or 0),
                cancelled=self._download_cancel.is_set,
            )
        except DownloadCancelled:
            self.download_failed.emit("cancelled")
            return
        except WeightsError as exc:
            self.download_failed.emit(str(exc))
            return
        self.download_finished.emit(str(path))

    def cancel_download(self) -> None:
        self._download_cancel.set()
