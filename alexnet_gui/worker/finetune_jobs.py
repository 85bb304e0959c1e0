"""Fine-tune jobs in the worker, run as scheduler steps on the worker's one thread.

A run is ``core.finetune.finetune_steps``, a generator that yields between
batches: the job delegates to it, so between two batches of a fine-tune the
worker answers classify requests exactly as it does between folder batches, and
all torch work stays on this thread. Settings the run needs (one CPU thread for
the head, its seeded generators) are set and restored around its own steps.
Work on files alone (scan, save, sample data, clearing the cache) waits on a
helper thread (``in_thread``).

Each job reports events named ``finetune.<what>`` with the caller's token. A
finished run stays here (its state dict never crosses to the window); the
window gets it without the weights and asks for "use" or "save" by its token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.untrained import base_key
from .results import FinetuneOutcome, ValItem

POLL_SECONDS = 0.1  # how long a step waits on a helper thread


def in_thread(fn: Callable[[], Any], name: str, finish_on_close: bool = False) -> Iterator[None]:
    """Steps that wait for ``fn()`` on a helper thread: for work without yield points
    and without the model (files, downloads), so classify requests go on meanwhile.
    Returns fn's result (``yield from``) or raises its exception. ``finish_on_close``:
    a cancelled job still waits for ``fn`` (a save must not be cut off at exit)."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the worker's thread
            box["error"] = exc

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(POLL_SECONDS)
            if thread.is_alive():
                yield
    finally:
        if finish_on_close:
            thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


class FinetuneJobs:
    """The fine-tune requests of one worker. ``service`` is its ModelService."""

    def __init__(self, service) -> None:
        self.service = service
        self._outcomes: dict[int, FinetuneOutcome] = {}  # run token -> the finished run, weights included

    def emit(self, what: str, *args) -> None:
        self.service.emit(f"finetune.{what}", *args)

    def factory(self, request: tuple):
        """The job for a request ``(kind, token, *args)``; kinds: scan, run, use, save, sample, clear_cache, audit."""
        kind, token, *args = request
        make = {"scan": self._scan, "run": self._run, "use": self._use, "save": self._save,
                "sample": self._sample, "clear_cache": self._clear_cache, "audit": self._audit}[kind]
        return lambda cancelled: make(token, cancelled, *args)

    # ------------------------------------------------------------ jobs

    def _scan(self, token: int, cancelled, folder: str) -> Iterator[None]:
        """The health report. It reads files and never touches the model, so it runs on a
        helper thread beside the worker; ``cancelled()`` stops it within 64 files."""
        from ..core.finetune import FinetuneCancelled, FinetuneError, scan_folder

        def scan():
            return scan_folder(folder, None, lambda ev: self.emit("progressed", token, ev), cancelled)

        try:
            report = yield from in_thread(scan, "finetune-scan")
        except FinetuneCancelled:
            return
        except FinetuneError as exc:
            self.emit("refused", token, str(exc))
            return
        self.emit("scanned", token, report)

    def _run(self, token: int, cancelled, folder: str, values: dict) -> Iterator[None]:
        """Train on ``folder`` with settings ``values`` (a plain dict): the scan on a helper
        thread (files only), then the run's own steps, one batch each."""
        from ..core.finetune import FinetuneCancelled, FinetuneError, FinetuneSettings, finetune_steps, scan_folder
        from ..core.memory import return_free_memory

        try:
            settings = FinetuneSettings(**values).validate()
        except (FinetuneError, TypeError) as exc:
            self.emit("refused", token, str(exc))
            return
        svc = self.service
        base = svc.base_bundle or svc.bundle  # a new head is trained on the base, not on a fine-tuned head
        sha = base_key(base.sha256)

        def progress(event) -> None:
            self.emit("progressed", token, event)

        t0 = time.perf_counter()
        try:
            report = yield from in_thread(lambda: scan_folder(folder, None, progress, cancelled), "finetune-scan")
            scanned_s = time.perf_counter() - t0
            result = yield from finetune_steps(folder, settings, base.model, sha, svc.device, progress, cancelled,
                                               report=report, engine=svc.engines.extraction_engine(base))
        except FinetuneCancelled:
            return
        except FinetuneError as exc:
            self.emit("refused", token, str(exc))
            return
        finally:
            return_free_memory()
        result.seconds += scanned_s  # the run's own clock started after the scan
        outcome = FinetuneOutcome(result, sha, folder, val_items(result), token=token)
        self._outcomes = {token: outcome}  # the window keeps one finished run; so does the worker
        self.emit("finished", token, outcome.without_weights())

    def _audit(self, token: int, cancelled, folder: str, values: dict) -> Iterator[None]:
        """The folder's likely mislabels, duplicates and leaks, and its map: the fc7 features
        (the fine-tune's cached ones, on the base model) a step per batch, then the map's
        PCA + t-SNE on a helper thread (NumPy and scikit-learn only), so classify goes on."""
        from ..core.audit import audit_steps
        from ..core.audit.datamap import map_coordinates
        from ..core.finetune import FinetuneCancelled, FinetuneError, FinetuneSettings

        try:
            settings = FinetuneSettings(**values).validate()
        except (FinetuneError, TypeError) as exc:
            self.emit("refused", token, str(exc))
            return
        base = self.service.base_bundle or self.service.bundle
        try:
            result = yield from audit_steps(folder, base.model, base_key(base.sha256), base.trained,
                                            self.service.device, settings,
                                            lambda ev: self.emit("progressed", token, ev), cancelled,
                                            keep_features=True)
            xy = yield from in_thread(lambda: map_coordinates(result.features, settings.seed), "audit-map")
        except FinetuneCancelled:
            return
        except FinetuneError as exc:
            self.emit("refused", token, str(exc))
            return
        self.emit("audited", token, result.with_map(xy))

    def _use(self, token: int, cancelled, run_token: int) -> Iterator[None]:
        """Make the fine-tuned model the classifying one; the base is kept for comparison."""
        from ..core.weights import model_from_state_dict

        outcome = self._outcome(run_token)
        result = outcome.result
        model = model_from_state_dict(result.state_dict, len(result.classes))
        meta = {"base_weights_sha256": outcome.base_sha256, "metrics": result.metrics(),
                "settings": result.settings.as_dict(), "folder": outcome.folder}
        bundle = _finetuned_bundle_class()(model, list(result.classes), "finetuned", outcome.saved_path, None, meta,
                                           folder_name=Path(outcome.folder).name, result=result)
        yield
        self.service.install_bundle(bundle, keep_base=True)
        self.emit("installed", token)

    def _save(self, token: int, cancelled, run_token: int, path: str) -> Iterator[None]:
        """Write the self-contained checkpoint (the core writes a temp file and renames it)."""
        from ..core.finetune import save_finetuned
        from ..core.weights import WeightsError

        outcome = self._outcome(run_token)
        try:
            written = yield from in_thread(lambda: save_finetuned(path, outcome.result, outcome.base_sha256),
                                           "finetune-save", finish_on_close=True)
        except WeightsError as exc:
            self.emit("refused", token, str(exc))
            return
        outcome.saved_path = str(written)
        svc = self.service
        if getattr(svc.bundle, "result", None) is outcome.result:
            # The model classifying now is this run's: it is no longer "not saved".
            svc.bundle.weights_path = str(written)
            svc.emit("model_loaded", svc.model_info())
        self.emit("saved", token, str(written))

    def _sample(self, token: int, cancelled, name: str) -> Iterator[None]:
        """Create (first time) the sample data set ``name`` and report its folder."""
        from ..core.finetune import FinetuneError, sample_dataset

        try:
            folder = yield from in_thread(lambda: sample_dataset(name), "finetune-sample")
        except FinetuneError as exc:
            self.emit("refused", token, str(exc))
            return
        self.emit("sample_ready", token, str(folder))

    def _clear_cache(self, token: int, cancelled) -> Iterator[None]:
        from ..core.finetune import clear_cache

        freed = yield from in_thread(clear_cache, "finetune-clear-cache")
        self.emit("cache_cleared", token, int(freed))

    def _outcome(self, run_token: int) -> FinetuneOutcome:
        try:
            return self._outcomes[run_token]
        except KeyError:
            raise RuntimeError("that fine-tune result is no longer held by the worker (it was restarted): "
                               "run the fine-tune again") from None


def val_items(result) -> list[ValItem]:
    """Each validation image with its true and predicted class, as indices."""
    index = {name: i for i, name in enumerate(result.classes)}
    return [ValItem(v.path, index[v.true_label], index[v.predicted_label], v.confidence)
            for v in result.val_predictions]


_BUNDLE_CLASS = None


def _finetuned_bundle_class():
    """A ModelBundle that names its folder (a fresh head has no file name until it is saved)
    and knows the run it came from, so saving that run can name the file it went to."""
    global _BUNDLE_CLASS
    if _BUNDLE_CLASS is None:
        from dataclasses import dataclass as _dataclass

        from ..core.bundle import ModelBundle

        @_dataclass
        class RunFinetunedBundle(ModelBundle):
            folder_name: str = ""
            result: Any = None  # the core FinetuneResult it was built from

            def describe(self) -> str:
                saved = Path(self.weights_path).name if self.weights_path else "not saved"
                return f"fine-tuned on {self.folder_name}, {self.num_classes} classes ({saved})"

        _BUNDLE_CLASS = RunFinetunedBundle
    return _BUNDLE_CLASS


