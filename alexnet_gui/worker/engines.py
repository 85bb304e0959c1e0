"""The worker's inference engines: one per model it classifies with (the model in use
and the base kept for Compare and for new fine-tunes).

A model installed starts in torch at once; a background job of the scheduler then
has its graphs exported into the cache by a short-lived process of their own
(``core.engine.export_process``: the exporter's modules and working memory, half a
gigabyte, leave with it), or finds them there, and gates the whole graph on a
helper thread. Only when it passed does classification move to ONNX Runtime and
``engine_changed`` say so, so a drop during that time is answered by torch. The
same session gives a head fine-tune its fc7 features (the graph's second output,
gated with the logits). A base model's graph cut at pool5, which the other
fine-tune modes read, is exported with it and loaded and checked at its first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .finetune_jobs import in_thread
from .results import EngineInfo

PREPARING = "checking ONNX Runtime (the first load exports the model; later loads read it from the cache)"


def default_choice() -> str:
    """The engine a worker uses until told otherwise: ``ALEXNET_GUI_ENGINE`` or auto."""
    from ..core.engine import check_engine_choice

    try:
        return check_engine_choice(os.environ.get("ALEXNET_GUI_ENGINE", "auto"))
    except ValueError:
        return "auto"


class Engines:
    def __init__(self, service) -> None:
        self.service = service
        self.choice = default_choice()
        self._pairs: list[tuple[object, object]] = []  # (bundle, InferenceEngine), by identity
        self._generation = 0  # a newer install makes an older preparation moot
        self.preparing = False  # a background preparation (graph, gate, cut graphs) is under way

    def engine_for(self, bundle):
        for b, engine in self._pairs:
            if b is bundle:
                return engine
        return None

    def forward(self, bundle, batch):
        """(B, C) logits of ``batch`` for ``bundle``, in its engine (torch while none is ready)."""
        engine = self.engine_for(bundle)
        if engine is None or engine.name == "torch":
            from ..core.predict import forward

            return forward(bundle.model, batch, self.service.device)  # where the model is now (after an OOM: the CPU)
        return engine.forward(batch)

    def info(self, bundle) -> EngineInfo:
        engine = self.engine_for(bundle)
        return EngineInfo(engine.name if engine else "torch", engine.reason if engine else None, self.choice,
                          not self.preparing)

    def _say(self) -> None:
        """``engine_changed``: a light event (``model_loaded`` would make every view start over)."""
        self.service.emit("engine_changed", self.info(self.service.bundle))

    def extraction_engine(self, bundle):
        """The engine that computes ``bundle``'s backbone features, when it is ONNX Runtime."""
        engine = self.engine_for(bundle)
        return engine if engine is not None and engine.name == "onnxruntime" else None

    def installed(self, bundle, base) -> None:
        """``bundle`` classifies now (``base`` kept beside it): torch until its graph passed."""
        from ..core.engine.engine import torch_engine

        svc = self.service
        kept = [(b, e) for b, e in self._pairs if b is base and b is not None and e.device == svc.device]
        pending = PREPARING if self.choice != "torch" else None
        self._pairs = [(bundle, torch_engine(bundle.model, svc.device, pending, self.choice))] + kept
        self._generation += 1
        self.preparing = self.choice != "torch"
        if self.choice != "torch":
            generation = self._generation
            svc.jobs.start_background(lambda cancelled: self._prepare_steps(bundle, generation))

    def set_choice(self, choice: str) -> None:
        from ..core.engine import check_engine_choice

        self.choice = check_engine_choice(choice)
        svc = self.service
        if svc.bundle is not None:
            self._pairs = [(b, e) for b, e in self._pairs if b is not svc.bundle]  # the base keeps its engine
            self.installed(svc.bundle, svc.base_bundle)
            self._say()

    def reset_to_torch(self, reason: str) -> None:
        from ..core.engine.engine import torch_engine

        self.preparing = False
        self._pairs = [(b, torch_engine(b.model, self.service.device, reason, self.choice)) for b, _ in self._pairs]
        self._generation += 1

    def _prepare_steps(self, bundle, generation: int) -> Iterator[None]:
        svc = self.service
        device, choice = svc.device, self.choice
        engine = yield from in_thread(lambda: _prepared(bundle, device, choice), "engine-prepare")
        if generation != self._generation:
            return  # another model (or device, or choice) came meanwhile
        self._pairs = [(b, engine if b is bundle else e) for b, e in self._pairs]
        self.preparing = False
        self._say()


def _prepared(bundle, device, choice: str):
    """The gated engine for ``bundle`` on ``device`` (runs on a helper thread; the model is
    only read here, as a forward pass on the worker's thread reads it meanwhile)."""
    from ..core.engine.cache import model_digest
    from ..core.engine.engine import build_engine, torch_engine
    from ..core.engine.export_process import export_in_child
    from ..core.engine.runners import ort_available, ort_providers
    from ..core.memory import return_free_memory
    from ..core.paths import cache_dir

    try:
        key = bundle.sha256 or model_digest(bundle.model)
        if ort_available() and ort_providers(device) is not None:
            kinds = ["engine"] if bundle.source == "finetuned" else ["engine", "pool5"]
            export_in_child(bundle, key, kinds, cache_dir())
        return build_engine(bundle.model, device, choice, key)  # reads the cache: no export here
    except Exception as exc:  # noqa: BLE001 - (out of memory, say): torch classifies, and says why
        return torch_engine(bundle.model, device, f"ONNX Runtime could not be prepared ({exc})", choice)
    finally:
        return_free_memory()
