"""What the worker process does: the model, the device, and a job for each request.

Every result goes back as an event: ``emit(name, *args)`` with plain data
(``alexnet_gui.results``). The names are the window's signals of the same name.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from ..core.files import file_stamp
from .engines import Engines
from .results import FeatureMapsResult, ImageResult, ModelInfo, PicturesResult
from .scheduler import Scheduler

SINGLE_BATCH = 32  # images per folder step: ~0.3 s on 2 CPU cores, the worst wait for a classify request
# After a single image's top-5 goes out, its thumbnail and preview wait this long, so
# the window gets the answer drawn before the pictures arrive.
PICTURES_AFTER_S = 0.02

LAYER_TABLE_SIZES = (224, 227)  # the Model tab's input sizes: torchvision's and the 2012 paper's
Emit = Callable[..., None]


class ModelService:
    def __init__(self, emit: Emit, scheduler: Scheduler) -> None:
        self.emit = emit
        self.jobs = scheduler
        self.bundle = None  # core.bundle.ModelBundle, the model classifying now
        self.base_bundle = None  # the ImageNet/base model, kept when a fine-tuned head is active
        self.compare = False
        self.device = None
        self.device_spec = "auto"
        self._download_cancel = threading.Event()
        self.engines = Engines(self)
        self.last_crop = None  # (path, file stamp, (224, 224, 3) uint8): the image classified last, alone

    # ------------------------------------------------------------ model

    def load(self, weights_path: str | None, device_spec: str) -> None:
        """Start-up: pick the device, load the weights (or the untrained model)."""
        from ..core.bundle import load_bundle
        from ..core.device import DeviceError, resolve_device
        from ..core.weights import WeightsError

        self.emit("model_loading", "loading model…")
        try:
            device, note = resolve_device(device_spec)
        except DeviceError as exc:
            device, note = resolve_device("auto")[0], str(exc)
        self.device, self.device_spec = device, device_spec
        if note:
            self.emit("notice", note)
        try:
            bundle = load_bundle(weights_path or None)
        except WeightsError as exc:
            self.emit("model_load_failed", str(exc))
            bundle = load_bundle(None)
        self._install(bundle)

    def load_weights_file(self, path: str) -> None:
        from ..core.bundle import bundle_from_file
        from ..core.weights import WeightsError

        self.emit("model_loading", f"loading {path}…")
        try:
            bundle = bundle_from_file(path)
        except WeightsError as exc:
            self.emit("model_load_failed", str(exc))
            return
        if bundle.source != "finetuned":
            self._install(bundle)
            return
        # A fine-tuned model: keep the base it can be compared with, and say so
        # when the checkpoint was trained from other base weights than that one.
        base = self.base_bundle or (self.bundle if self.bundle and self.bundle.source != "finetuned" else None)
        trained_on = bundle.meta.get("base_weights_sha256")
        if base is not None and base.sha256 and trained_on and trained_on != base.sha256:
            self.emit("notice",
                      f"{Path(path).name} was fine-tuned from other base weights (sha256 {trained_on[:8]}, "
                      f"loaded base {base.sha256[:8]}): its own predictions are unaffected (it holds every layer), "
                      "but Compare shows the loaded base")
        self.base_bundle = base
        self._install(bundle, keep_base=base is not None)

    def install_bundle(self, bundle, keep_base: bool) -> None:
        """Make ``bundle`` the classifying model (a job calls this)."""
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
        self.engines.installed(bundle, self.base_bundle)
        self.emit("model_loaded", self.model_info())

    def model_info(self) -> ModelInfo:
        from ..core.device import cuda_available, describe_device
        from ..core.introspect import CONV_LAYERS, conv_layer
        from ..core.layers import layer_table

        b = self.bundle
        weights = {n: conv_layer(b.model, n).weight.detach().float().cpu().contiguous().numpy() for n in CONV_LAYERS}
        return ModelInfo(
            description=b.describe(), source=b.source, trained=b.trained, class_names=list(b.class_names),
            weights_path=b.weights_path, sha256=b.sha256, device=describe_device(self.device),
            device_spec=str(self.device), conv_weights=weights, meta=dict(b.meta),
            cuda_available=cuda_available(),
            base_description=self.base_bundle.describe() if self.base_bundle else None,
            layer_tables={size: layer_table(size, b.model) for size in LAYER_TABLE_SIZES},
            **self._engine_info(),
        )

    def _engine_info(self) -> dict:
        e = self.engines.info(self.bundle)
        return {"engine": e.engine, "engine_reason": e.reason, "engine_choice": e.choice, "engine_ready": e.ready}

    def export(self, job_id: int, fmt: str, out: str, int8: bool) -> None:
        """Write the model in use to ``out`` as a job (see worker.export_job)."""
        from .export_job import export_steps

        self.jobs.start(job_id, lambda cancelled: export_steps(self, job_id, fmt, out, int8))

    def set_engine(self, choice: str) -> None:
        """auto, torch or onnxruntime from now on (the model in use is prepared again)."""
        try:
            self.engines.set_choice(choice)
        except ValueError as exc:
            self.emit("notice", str(exc))

    def set_device(self, spec: str) -> None:
        from ..core.device import DeviceError, resolve_device

        try:
            device, note = resolve_device(spec)
        except DeviceError as exc:
            self.emit("notice", str(exc))
            return
        if note:
            self.emit("notice", note)
        self.device, self.device_spec = device, spec
        if self.bundle is not None:
            self._install(self.bundle, keep_base=self.base_bundle is not None)

    def _fallback_to_cpu(self, exc: BaseException) -> None:
        import torch

        self.emit("notice", f"{self.device} failed ({str(exc).splitlines()[0][:120]}); using the CPU")
        self.device, self.device_spec = torch.device("cpu"), "cpu"
        self.engines.reset_to_torch("the GPU failed: torch runs on the CPU")
        for b in (self.bundle, self.base_bundle):
            if b is not None:
                b.to(self.device)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def set_compare(self, on: bool) -> None:
        self.compare = on

    def restore_base(self) -> None:
        """Go back from a fine-tuned head to the base model."""
        if self.base_bundle is not None:
            base, self.base_bundle = self.base_bundle, None
            self._install(base)

    # ------------------------------------------------------------ classify

    def classify(self, job_id: int, paths: list[str]) -> None:
        """Classify ``paths`` as a job, in batches; one image is a one-step job."""
        self.jobs.start(job_id, lambda cancelled: self._classify_steps(job_id, paths, cancelled))

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
                if batch.crops:  # Feature maps asks for this image next: its decode is kept
                    self.last_crop = (batch.paths[0], file_stamp(batch.paths[0]), batch.crops[0])
                # One dropped image: its top-5 goes out now, the pictures in a second update.
                self.emit("predictions_ready", job_id, [replace(r, pictures_pending=True) for r in results])
                yield PICTURES_AFTER_S  # a cancel meanwhile ends the job here
            for i, r in enumerate(results):
                if i in batch.images:
                    r.thumbnail = fit(batch.images[i], THUMBNAIL_SIZE)
                    if total == 1:
                        r.preview = fit(batch.images[i], PREVIEW_SIZE)
            done += len(batch.paths)
            self.emit("predictions_ready", job_id, results)
            self.emit("job_progressed", job_id, done, total)
            yield
        if total > 1:
            return_free_memory()

    def classify_frame(self, job_id: int, frame) -> None:
        """Top-5 of one camera frame, an (h, w, 3) uint8 array, as a one-step job; preprocessed
        as a dropped image is (resize, centre crop), so a captured frame classifies the same."""
        self.jobs.start(job_id, lambda cancelled: self._frame_steps(job_id, frame))

    def _frame_steps(self, job_id: int, frame) -> Iterator[object]:
        from PIL import Image

        from ..core.predict import LoadedBatch
        from ..core.preprocess import resized_crop

        t0 = time.perf_counter()
        batch = LoadedBatch(["camera frame"], [resized_crop(Image.fromarray(frame, "RGB"))], [0], {}, {})
        prediction = self.predict_batch(batch, self.bundle)[0]
        self.emit("frame_ready", job_id, replace(prediction, seconds=time.perf_counter() - t0))
        yield

    def pictures(self, job_id: int, path: str) -> None:
        """Thumbnail and preview of ``path`` as a one-step job: a decode, no forward pass."""
        self.jobs.start(job_id, lambda cancelled: self._pictures_steps(job_id, path))

    def _pictures_steps(self, job_id: int, path: str) -> Iterator[object]:
        from ..core.images import ImageLoadError, load_image
        from ..core.thumbnails import PREVIEW_SIZE, THUMBNAIL_SIZE, fit

        try:
            img = load_image(path)
        except ImageLoadError as exc:
            self.emit("pictures_ready", job_id, PicturesResult(path, error=str(exc)))
        else:
            self.emit("pictures_ready", job_id, PicturesResult(path, fit(img, THUMBNAIL_SIZE), fit(img, PREVIEW_SIZE)))
        yield

    def predict_batch(self, batch, bundle):
        """Predictions for a loaded batch on ``bundle``; CUDA OOM retries on the CPU."""
        from ..core.device import is_out_of_memory
        from ..core.predict import forward, predictions_for

        logits, t0 = None, time.perf_counter()
        if batch.tensors is not None:
            try:
                logits = self.engines.forward(bundle, batch.tensors)
            except RuntimeError as exc:
                if self.device.type != "cuda" or not is_out_of_memory(exc):
                    raise
                self._fallback_to_cpu(exc)
                logits = forward(bundle.model, batch.tensors, self.device)
                self.emit("model_loaded", self.model_info())
        return predictions_for(batch, logits, bundle.class_names, 5, time.perf_counter() - t0)

    def features(self, job_id: int, path: str) -> None:
        """Every feature layer's activations for ``path``, as a one-step job."""
        self.jobs.start(job_id, lambda cancelled: self._features_steps(job_id, path))

    def _features_steps(self, job_id: int, path: str) -> Iterator[object]:
        from ..core.images import ImageLoadError
        from ..core.introspect import feature_maps
        from ..core.preprocess import normalized_batch

        try:
            crop = self.crop_of(path)  # (224, 224, 3) uint8: what the network sees
            layers = feature_maps(self.bundle.model, normalized_batch([crop]))
        except ImageLoadError as exc:
            raise RuntimeError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - reported with the file's name
            raise RuntimeError(f"{path}: {exc}") from None
        self.emit("features_ready", job_id, FeatureMapsResult(path, layers, crop))
        yield

    def crop_of(self, path: str):
        """``path`` resized and centre-cropped, (224, 224, 3) uint8: the classify job's own when it
        classified this file alone last and the file has not changed since (the decode and resize
        of a photo are ~4 ms of a Feature maps request), else decoded now; ImageLoadError when the
        file cannot be read."""
        from ..core.images import load_image
        from ..core.preprocess import resized_crop

        kept = self.last_crop
        if kept is not None and kept[0] == path and kept[1] == file_stamp(path):
            return kept[2]
        return resized_crop(load_image(path))

    # ------------------------------------------------------------ download

    def download(self, url: str, dest: str) -> None:
        """In a plain thread of its own: minutes of network must not hold up classify requests."""
        self._download_cancel.clear()
        threading.Thread(target=self._download, args=(url, dest), name="weights-download", daemon=True).start()

    def _download(self, url: str, dest: str) -> None:
        from ..core.download import download_weights
        from ..core.weights import IMAGENET_URL, DownloadCancelled, WeightsError

        try:
            path = download_weights(
                Path(dest) if dest else None, url=url or IMAGENET_URL,
                progress=lambda done, total: self.emit("download_progressed", done, total or 0),
                cancelled=self._download_cancel.is_set,
            )
        except DownloadCancelled:
            self.emit("download_failed", "cancelled")
            return
        except WeightsError as exc:
            self.emit("download_failed", str(exc))
            return
        self.emit("download_finished", str(path))

    def cancel_download(self) -> None:
        self._download_cancel.set()
