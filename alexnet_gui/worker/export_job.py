"""The export job: the model in use written as ONNX or TorchScript by a short-lived
process of its own (``core.engine.export_process``: the exporter's modules and
working memory, half a gigabyte, leave with it), waited for on a helper thread so
classify requests go on meanwhile, with progress in percent and the report, or the
reason it failed, for the window."""

from __future__ import annotations

from collections.abc import Iterator

from .finetune_jobs import in_thread


def export_steps(service, job_id: int, fmt: str, out: str, int8: bool) -> Iterator[None]:
    from ..core.engine.export import ExportError
    from ..core.engine.export_process import export_model_in_child

    bundle = service.bundle
    if bundle is None:
        raise RuntimeError("no model is loaded yet")

    def progress(what: str, fraction: float) -> None:
        service.emit("job_progressed", job_id, int(round(fraction * 100)), 100)

    def run():
        return export_model_in_child(bundle, fmt, out, int8, progress)

    try:
        report = yield from in_thread(run, "model-export", finish_on_close=True)
    except ExportError as exc:
        raise RuntimeError(str(exc)) from None
    service.emit("export_ready", job_id, {**report.as_dict(), "summary": report.summary()})
