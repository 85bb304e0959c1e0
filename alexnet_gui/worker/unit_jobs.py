"""What a unit sees, in the worker: a unit's top images and the picture it wants, each run as
a scheduler job on the worker's one thread, on the model classifying now.

"top" scans the images (``core.units.scan``: a step per batch, cached summaries first),
with ``job_progressed`` per batch, and answers ``unit_top_ready`` with a TopImages.
"picture" makes the picture by gradient ascent (a step per iteration) and sends each
frame as ``unit_picture_ready`` with a UnitFrame every few steps, then the UnitPicture;
a picture made before on these weights with these settings comes from the cache at once.
A cancel ends either at its next step; what a scan computed stays cached.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator


class UnitJobs:
    def __init__(self, service) -> None:
        self.service = service
        self._keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its weights key

    def top_factory(self, job_id: int, layer: str, channel: int, paths: list[str]):
        return lambda cancelled: self._top(job_id, layer, channel, paths)

    def picture_factory(self, job_id: int, layer: str, channel: int, settings: dict):
        return lambda cancelled: self._picture(job_id, layer, channel, settings)

    def _top(self, job_id: int, layer: str, channel: int, paths: list[str]) -> Iterator[None]:
        from ..core.images import expand_paths
        from ..core.units import UnitError
        from ..core.units.run import top_images_steps

        bundle = self._bundle()
        files = [str(p) for p in expand_paths(paths)]
        if not files:
            raise RuntimeError("there are no images to look through: open some images or choose a folder")

        def progress(done: int, total: int) -> None:
            self.service.emit("job_progressed", job_id, done, total)

        try:
            result = yield from top_images_steps(bundle.model, files, layer, int(channel), self._weights(bundle),
                                                 self.service.device, progress=progress)
        except UnitError as exc:
            raise RuntimeError(str(exc)) from None  # the job fails with the core's message
        self.service.emit("unit_top_ready", job_id, result)

    def _picture(self, job_id: int, layer: str, channel: int, settings: dict) -> Iterator[None]:
        from ..core.units import UnitError, VisualizeSettings
        from ..core.units.run import picture_steps

        bundle = self._bundle()
        try:
            steps = picture_steps(bundle.model, layer, int(channel), self._weights(bundle),
                                  VisualizeSettings(**settings))
            while True:
                try:
                    frame = next(steps)
                except StopIteration as done:
                    picture = done.value
                    break
                if frame is not None:
                    self.service.emit("unit_picture_ready", job_id, frame)
                    self.service.emit("job_progressed", job_id, frame.step, frame.total)
                yield
        except (UnitError, TypeError) as exc:
            raise RuntimeError(str(exc)) from None
        self.service.emit("job_progressed", job_id, picture.settings.steps, picture.settings.steps)
        self.service.emit("unit_picture_ready", job_id, picture)

    def _bundle(self):
        if self.service.bundle is None:
            raise RuntimeError("the model is not loaded yet")
        return self.service.bundle

    def _weights(self, bundle) -> str:
        """The weights' key in the caches: the file's hash, or (once per model) the parameters'."""
        from ..core.units.scan import weights_key

        key = self._keys.get(bundle.model)
        if key is None:
            key = self._keys[bundle.model] = weights_key(bundle.model, bundle.sha256)
        return key
