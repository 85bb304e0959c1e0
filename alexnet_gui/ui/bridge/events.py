"""The worker's events as Qt signals: one ``WorkerEvents`` per client, whatever
process runs the model. Each signal is named as the worker's event."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class WorkerEvents(QObject):
    ready = Signal(int)  # the worker process's id: it runs and takes requests
    model_loading = Signal(str)  # what is being loaded
    model_loaded = Signal(object)  # ModelInfo
    model_load_failed = Signal(str)  # message; the previous model stays
    predictions_ready = Signal(int, object)  # job id, list[ImageResult]
    job_progressed = Signal(int, int, int)  # job id, done, total
    job_finished = Signal(int, bool)  # job id, cancelled
    job_failed = Signal(int, str)  # job id, message
    features_ready = Signal(int, object)  # job id, FeatureMapsResult
    pictures_ready = Signal(int, object)  # job id, PicturesResult
    frame_ready = Signal(int, object)  # job id, core Prediction of one camera frame
    engine_changed = Signal(object)  # worker.results.EngineInfo: what runs the forward passes now
    export_ready = Signal(int, object)  # job id, dict: the export's report (core.engine.export.ExportReport) and summary
    explain_ready = Signal(int, object)  # job id, core.explain.Explanation
    unit_top_ready = Signal(int, object)  # job id, core.units.TopImages
    unit_picture_ready = Signal(int, object)  # job id, core.units.UnitFrame on the way, then the UnitPicture
    download_progressed = Signal(int, int)  # bytes done, total (0 when unknown)
    download_finished = Signal(str)  # saved path
    download_failed = Signal(str)  # message ("cancelled" when the user cancelled)
    notice = Signal(str)  # a one-line message for the status bar (e.g. CUDA fell back to CPU)
    worker_stopped = Signal(str)  # the worker process died: what happened and what is done about it


class FinetuneEvents(QObject):
    """What the fine-tune jobs report, each with the caller's token."""

    scanned = Signal(int, object)  # token, core HealthReport
    progressed = Signal(int, object)  # token, core Progress
    finished = Signal(int, object)  # token, FinetuneOutcome (without the weights)
    refused = Signal(int, str)  # token, the core's message (FinetuneError / WeightsError)
    installed = Signal(int)  # token: the fine-tuned model now classifies
    saved = Signal(int, str)  # token, path written
    sample_ready = Signal(int, str)  # token, folder of the sample data set
    cache_cleared = Signal(int, int)  # token, bytes freed
    audited = Signal(int, object)  # token, core.audit AuditResult with its map points
