"""A job is a handle: what a view gets back for every request to the worker.

The view connects to its own job's signals (no view filters ids out of a
broadcast) and may ``cancel()`` it at any time: before the worker has started it
(the cancel is kept until the request arrives), while it runs (it ends at its
next step), or after it ended (nothing happens). Exactly one of ``finished``,
``failed`` or ``cancelled`` is emitted, then ``ended``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Job(QObject):
    progressed = Signal(int, int)  # done, total
    partial = Signal(object)  # a result as it comes: list[ImageResult], PicturesResult, FeatureMapsResult
    finished = Signal()
    failed = Signal(str)  # why, in words for the user
    cancelled = Signal()
    ended = Signal()  # after any of the three above

    def __init__(self, job_id: int, kind: str, cancel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = job_id
        self.kind = kind  # "classify", "pictures", "features", "finetune.run", ...
        self.state = "running"  # then "finished", "failed" or "cancelled"
        self.error: str | None = None
        self._cancel = cancel

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"

    def cancel(self) -> None:
        """Stop the job, whether it is queued, running or already done (then nothing happens)."""
        if self.state == "running":
            self._cancel(self.id)

    def done(self) -> bool:
        return self.state != "running"

    # ------------------------------------------------------------ from the client

    def _end(self, state: str, error: str | None = None) -> None:
        if self.state != "running":
            return
        self.state, self.error = state, error
        if state == "failed":
            self.failed.emit(error or "")
        elif state == "cancelled":
            self.cancelled.emit()
        else:
            self.finished.emit()
        self.ended.emit()
        # Its Qt side goes once the event loop has delivered that; what the view keeps is the
        # plain Python handle (state, id, cancel() that does nothing now).
        self.deleteLater()
