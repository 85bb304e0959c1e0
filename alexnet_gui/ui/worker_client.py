"""The GUI side of the bridge: owns the worker's thread, sends requests, hands out job ids.

Requests are queued signals into ``ModelWorker`` (``workers``); results come back
as the worker's own signals, which views connect to directly.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal

from .workers import JobFactory, ModelWorker


class WorkerClient(QObject):
    """GUI-side handle: owns the thread, sends requests, hands out job ids."""

    load_requested = Signal(object, str)  # weights path (a Python str: see classify_requested), device
    weights_file_requested = Signal(object)  # path
    # Paths travel as Python objects: a queued `list`/`str` argument becomes a QString,
    # which drops the lone surrogates that stand for a file name's non-UTF-8 bytes.
    classify_requested = Signal(int, object)  # job id, list[str]
    features_requested = Signal(int, object)  # request id, str
    pictures_requested = Signal(int, object)  # request id, str
    device_requested = Signal(str)
    compare_requested = Signal(bool)
    restore_base_requested = Signal()
    job_requested = Signal(object)
    download_requested = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("model-worker")
        self.worker = ModelWorker()
        self.worker.moveToThread(self.thread)
        self.thread.finished.connect(self.worker.deleteLater)
        w = self.worker
        for sig, slot in (
            (self.load_requested, w.load), (self.weights_file_requested, w.load_weights_file),
            (self.classify_requested, w.classify), (self.features_requested, w.compute_features),
            (self.pictures_requested, w.pictures),
            (self.device_requested, w.set_device), (self.compare_requested, w.set_compare),
            (self.restore_base_requested, w.restore_base), (self.job_requested, w.run_job),
            (self.download_requested, w.download),
        ):
            sig.connect(slot)
        self._next_id = 0
        self.thread.start()

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def classify(self, paths: list[str]) -> int:
        job_id = self.new_id()
        self.classify_requested.emit(job_id, [str(p) for p in paths])
        return job_id

    def features(self, path: str) -> int:
        rid = self.new_id()
        self.features_requested.emit(rid, str(path))
        return rid

    def pictures(self, path: str) -> int:
        """Ask for ``path``'s thumbnail and preview alone (no forward pass)."""
        rid = self.new_id()
        self.pictures_requested.emit(rid, str(path))
        return rid

    def run_job(self, factory: JobFactory) -> int:
        """Run ``factory`` (called in the worker thread) as a cooperative job."""
        job_id = self.new_id()
        self.job_requested.emit((job_id, factory))
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job (None: every job asked for so far), whether it has started or not."""
        self.worker.cancel(job_id, upto=self._next_id)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel everything, stop the thread, wait for it. True when it stopped.

        A job stops at its next step (well under a second). Only torch's first
        import cannot be interrupted; then we wait for it rather than destroy a
        running thread."""
        self.cancel()
        self.worker.cancel_download()
        self.thread.quit()
        if self.thread.wait(timeout_ms):
            return True
        return self.thread.wait(30_000)
