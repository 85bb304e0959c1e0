"""Fine-tune jobs for the worker: the core's callback-driven run as worker steps.

``core.finetune`` cooperates through a ``yield_point()`` callback, while the
worker runs jobs as iterators of short steps. ``Handoff`` joins the two: the
core function runs on a helper thread that pauses at every yield point, and
each worker step lets it run from one yield point to the next. The two threads
take turns and never run at once, so between two batches of a fine-tune the
worker answers classify requests exactly as it does between folder batches.

Every factory here is called in the worker thread (``client.run_job``) and
reports through ``FinetuneSignals``, a QObject made on the GUI thread: its
signals cross to the GUI queued. torch and ``core.finetune`` are imported only
inside the factories, never at module level.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.untrained import base_key

POLL_SECONDS = 0.1  # how long a step waits on a helper thread that has no yield points
JOIN_SECONDS = 5.0  # a cancelled helper stops at its next yield point, well within this


class FinetuneSignals(QObject):
    """What the fine-tune jobs report. Emitted from worker or helper threads.

    Signals carry the caller's ``token`` for the job, not the worker's job id:
    the token is known before ``run_job`` hands the factory to the worker.
    """

    defaults_ready = Signal(object)  # {"settings": FinetuneSettings().as_dict(), "modes": [...]}
    scanned = Signal(int, object)  # token, core HealthReport
    progressed = Signal(int, object)  # token, core Progress
    finished = Signal(int, object)  # token, FinetuneOutcome
    refused = Signal(int, str)  # token, the core's message (FinetuneError / WeightsError)
    installed = Signal(int)  # token: the fine-tuned model now classifies
    saved = Signal(int, str)  # token, path written
    sample_ready = Signal(int, str)  # token, folder of the sample data set
    cache_cleared = Signal(int, int)  # token, bytes freed

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._handoffs: set[Handoff] = set()

    def stepping(self, handoff: Handoff) -> Iterator[None]:
        """``handoff.steps()``, known to ``abort_all`` while it runs."""
        with self._lock:
            self._handoffs.add(handoff)
        try:
            yield from handoff.steps()
        finally:
            with self._lock:
                self._handoffs.discard(handoff)

    def running(self) -> list[Handoff]:
        with self._lock:
            return list(self._handoffs)


@dataclass(frozen=True)
class ValItem:
    """One validation image and what the fine-tuned model said about it."""

    path: str
    true_index: int
    predicted_index: int
    confidence: float | None = None  # softmax probability of the predicted class


@dataclass
class FinetuneOutcome:
    """A finished run, as the view keeps it. ``result`` is the core's FinetuneResult,
    CPU state dict included; the view only hands it back to the save / use jobs."""

    result: Any
    base_sha256: str
    folder: str
    val_items: list[ValItem] = field(default_factory=list)
    saved_path: str | None = None  # set (in the worker thread) once the save job has written it

    def cell(self, true_index: int, predicted_index: int) -> list[ValItem]:
        return [v for v in self.val_items if v.true_index == true_index and v.predicted_index == predicted_index]


class Handoff:
    """Run ``fn(yield_point)`` on a helper thread, one yield point to the next per step."""

    def __init__(self, fn: Callable[[Callable[[], None]], Any], name: str = "finetune") -> None:
        self._fn = fn
        self._go = threading.Semaphore(0)
        self._paused = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.aborted = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def _yield_point(self) -> None:
        if self.aborted:
            return
        self._paused.release()
        self._go.acquire()

    def _main(self) -> None:
        try:
            self.result = self._fn(self._yield_point)
        except BaseException as exc:  # noqa: BLE001 - handed to the worker thread, re-raised there
            self.error = exc
        finally:
            self.done = True
            self._paused.release()

    def abort(self) -> None:
        """Thread-safe: the helper stops pausing; with ``cancelled()`` true it ends at its next check."""
        self.aborted = True
        self._go.release()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def steps(self) -> Iterator[None]:
        """Worker steps; the helper's result is in ``result`` (or ``error``) once exhausted."""
        self._thread.start()
        try:
            self._paused.acquire()
            while not self.done:
                yield
                self._go.release()
                self._paused.acquire()
        finally:
            if not self.done:  # closed early: the job was cancelled between steps
                self.abort()
            self._thread.join(JOIN_SECONDS)


def in_thread(fn: Callable[[], Any], name: str, finish_on_close: bool = False) -> Iterator[None]:
    """Steps that wait for ``fn()`` on a helper thread: for work without yield points
    and without the model (files, downloads), so classify requests go on meanwhile.
    Returns fn's result (``yield from``) or raises its exception. ``finish_on_close``:
    a cancelled job still waits for ``fn`` (a save must not be cut off at exit)."""
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the worker thread
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


def abort_all(signals: FinetuneSignals, timeout: float = 2.0) -> None:
    """Window closing: stop every helper at its next yield point, whatever the worker does.

    Needed because a worker that quits never closes its unfinished job iterators,
    and a helper paused at a yield point would wait there forever."""
    running = signals.running()
    for handoff in running:
        handoff.abort()
    for handoff in running:
        handoff.join(timeout / max(len(running), 1))


def base_of(worker):
    """The model a new head is trained on: the base when a fine-tuned head is active."""
    return worker.base_bundle or worker.bundle


# ---------------------------------------------------------------- factories


def defaults_job(signals: FinetuneSignals):
    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import MODES, FinetuneSettings

        signals.defaults_ready.emit({"settings": FinetuneSettings().as_dict(), "modes": list(MODES)})
        yield

    return factory


def scan_job(signals: FinetuneSignals, folder: str, token: int):
    """The health report. The scan reads files and never touches the model, so it runs
    beside the worker on a helper thread; ``cancelled()`` stops it within 64 files."""

    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import FinetuneCancelled, FinetuneError, scan_folder

        def scan():
            return scan_folder(folder, None, lambda ev: signals.progressed.emit(token, ev), cancelled)

        try:
            report = yield from in_thread(scan, "finetune-scan")
        except FinetuneCancelled:
            return
        except FinetuneError as exc:
            signals.refused.emit(token, str(exc))
            return
        signals.scanned.emit(token, report)

    return factory


def finetune_job(signals: FinetuneSignals, folder: str, values: dict, token: int):
    """Train on ``folder`` with settings ``values`` (a plain dict)."""

    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import FinetuneCancelled, FinetuneError, FinetuneSettings, run_finetune
        from ..core.memory import return_free_memory

        try:
            settings = FinetuneSettings(**values).validate()
        except (FinetuneError, TypeError) as exc:
            signals.refused.emit(token, str(exc))
            return
        base = base_of(worker)
        sha = base_key(base.sha256)
        device = worker.device

        def run(yield_point):
            return run_finetune(folder, settings, base.model, sha, device,
                                progress=lambda ev: signals.progressed.emit(token, ev),
                                cancelled=lambda: cancelled() or handoff.aborted, yield_point=yield_point)

        handoff = Handoff(run, name="finetune-run")
        yield from signals.stepping(handoff)
        return_free_memory()
        if isinstance(handoff.error, FinetuneCancelled):
            return
        if isinstance(handoff.error, FinetuneError):
            signals.refused.emit(token, str(handoff.error))
            return
        if handoff.error is not None:
            raise handoff.error
        result = handoff.result
        outcome = FinetuneOutcome(result, sha, folder, val_items(result))
        signals.finished.emit(token, outcome)

    return factory


def val_items(result) -> list[ValItem]:
    """Each validation image with its true and predicted class, as indices."""
    index = {name: i for i, name in enumerate(result.classes)}
    return [ValItem(v.path, index[v.true_label], index[v.predicted_label], v.confidence)
            for v in result.val_predictions]


def use_model_job(signals: FinetuneSignals, outcome: FinetuneOutcome, token: int):
    """Make the fine-tuned model the classifying one; the base is kept for comparison."""

    def factory(worker, cancelled) -> Iterator[None]:
        import torch

        from ..core.model import AlexNet

        result = outcome.result
        # Built on the meta device, then given the run's CPU tensors: no random init of
        # 61 M parameters (half a second on a CPU) for values that are overwritten anyway.
        with torch.device("meta"):
            model = AlexNet(num_classes=len(result.classes))
        model.load_state_dict(result.state_dict, assign=True)
        model.eval()
        meta = {"base_weights_sha256": outcome.base_sha256, "metrics": result.metrics(),
                "settings": result.settings.as_dict(), "folder": outcome.folder}
        bundle = _finetuned_bundle_class()(model, list(result.classes), "finetuned", outcome.saved_path, None, meta,
                                           folder_name=Path(outcome.folder).name, result=result)
        yield
        worker.install_bundle(bundle, keep_base=True)
        signals.installed.emit(token)

    return factory


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


def save_job(signals: FinetuneSignals, outcome: FinetuneOutcome, path: str, token: int):
    """Write the self-contained checkpoint (the core writes a temp file and renames it)."""

    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import save_finetuned
        from ..core.weights import WeightsError

        try:
            written = yield from in_thread(lambda: save_finetuned(path, outcome.result, outcome.base_sha256),
                                           "finetune-save", finish_on_close=True)
        except WeightsError as exc:
            signals.refused.emit(token, str(exc))
            return
        outcome.saved_path = str(written)
        if getattr(worker.bundle, "result", None) is outcome.result:
            # The model classifying now is this run's: it is no longer "not saved".
            worker.bundle.weights_path = str(written)
            worker.model_loaded.emit(worker.model_info())
        signals.saved.emit(token, str(written))

    return factory


def sample_job(signals: FinetuneSignals, name: str, token: int):
    """Create (first time) the sample data set ``name`` and report its folder."""

    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import FinetuneError, sample_dataset

        try:
            folder = yield from in_thread(lambda: sample_dataset(name), "finetune-sample")
        except FinetuneError as exc:
            signals.refused.emit(token, str(exc))
            return
        signals.sample_ready.emit(token, str(folder))

    return factory


def clear_cache_job(signals: FinetuneSignals, token: int):
    def factory(worker, cancelled) -> Iterator[None]:
        from ..core.finetune import clear_cache

        freed = yield from in_thread(clear_cache, "finetune-clear-cache")
        signals.cache_cleared.emit(token, int(freed))

    return factory
