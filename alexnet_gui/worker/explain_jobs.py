"""Explanations in the worker, run as scheduler jobs on the worker's one thread.

A request names the image, the settings (a plain dict of ``core.explain.ExplainSettings``)
and which model: "current" (the one classifying: ImageNet, or a fine-tuned head in use)
or "base" (the base model kept beside a fine-tuned head, for Compare). The job is
``core.explain.explain_steps``: Grad-CAM is one step, Occlusion and Integrated
Gradients a step per batch with a ``job_progressed`` event each, so a drop during an
occlusion is answered after the batch running now, and a cancel stops the run there.
The answer is an ``explain_ready`` event holding a plain ``Explanation``. A third
model, "run:<token>", is a finished fine-tune's (kept by ``FinetuneJobs``) whether or
not it is in use: the mistakes gallery asks why that run's model said what it said.
"""

from __future__ import annotations

from collections.abc import Iterator


class ExplainJobs:
    def __init__(self, service, finetune=None) -> None:
        self.service = service
        self.finetune = finetune  # FinetuneJobs: the finished runs
        self._run_bundle: tuple[int, object] | None = None  # (token, bundle) of the last run explained

    def factory(self, job_id: int, path: str, values: dict, which: str = "current"):
        return lambda cancelled: self._explain(job_id, path, values, which, cancelled)

    def _explain(self, job_id: int, path: str, values: dict, which: str, cancelled) -> Iterator[None]:
        from ..core.explain import ExplainError, ExplainSettings, explain_steps

        bundle = self._bundle(which)
        try:
            settings = ExplainSettings(**values).validate()
        except TypeError as exc:
            raise RuntimeError(f"bad explain settings: {exc}") from None
        except ExplainError as exc:
            raise RuntimeError(str(exc)) from None

        def progress(done: int, total: int) -> None:
            self.service.emit("job_progressed", job_id, done, total)

        try:
            result = yield from explain_steps(bundle.model, list(bundle.class_names), path, settings, path=path,
                                              progress=progress, description=bundle.describe())
        except ExplainError as exc:
            raise RuntimeError(str(exc)) from None  # the job fails with the core's message
        self.service.emit("explain_ready", job_id, result)

    def _bundle(self, which: str):
        svc = self.service
        if which.startswith("run:"):
            return self._bundle_of_run(int(which.split(":", 1)[1]))
        if which == "base":
            if svc.base_bundle is None:
                raise RuntimeError("there is no base model to compare with: use a fine-tuned model first")
            return svc.base_bundle
        if svc.bundle is None:
            raise RuntimeError("the model is not loaded yet")
        return svc.bundle

    def _bundle_of_run(self, token: int):
        """The model of finished run ``token`` (built once from its state dict, on the worker's device)."""
        from ..core.bundle import ModelBundle
        from ..core.weights import model_from_state_dict

        if self._run_bundle is not None and self._run_bundle[0] == token:
            return self._run_bundle[1]
        if self.finetune is None:
            raise RuntimeError("no fine-tune runs here")
        outcome = self.finetune._outcome(token)
        result = outcome.result
        model = model_from_state_dict(result.state_dict, len(result.classes))
        bundle = ModelBundle(model, list(result.classes), "finetuned", outcome.saved_path)
        bundle.to(self.service.device)
        self._run_bundle = (token, bundle)
        return bundle
