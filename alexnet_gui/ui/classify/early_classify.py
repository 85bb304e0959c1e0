"""Classify while dragging: one image dragged over the window is classified before it is dropped.

A person takes a few hundred milliseconds between bringing a file over the window and
letting go; the worker needs about 20 ms (CPU) for one photo. ``ClassifyView`` asks the
worker as soon as a single image file is dragged in, holds the answer out of sight, and
uses it when that file is dropped, so the top-5 shows as the drop lands. Nothing is
listed or shown before the drop. The held answer is used only for the same file,
unchanged since (size and modification time), with the same model; otherwise the drop
classifies as usual. Folders and several files wait for the drop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ...core.files import Stamp, file_stamp
from .drop_contents import normal_path


def single_image(paths) -> str | None:
    """The one image file among ``paths`` (a drag of exactly one file), else None."""
    from ...core.images import is_image_path  # Pillow only, no torch

    if len(paths) != 1:
        return None
    path = normal_path(paths[0])  # spelled as the drop will spell it (``drop_contents.collect``)
    return path if is_image_path(path) and os.path.isfile(path) else None


@dataclass
class EarlyJob:
    """A classify job started on drag-enter, and its results held until the drop."""

    path: str
    job: int
    stamp: Stamp
    results: list = field(default_factory=list)  # each predictions_ready batch, in order
    finished: bool = False

    def matches(self, files: list[str]) -> bool:
        """Dropped: exactly this file, unchanged since the drag began."""
        return files == [self.path] and file_stamp(self.path) == self.stamp
