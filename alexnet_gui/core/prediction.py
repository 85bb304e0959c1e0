"""One image's classification as plain data (no torch, no Qt).

Made in the model's process and unpickled in the window's, which imports the
module a class is defined in: so this module imports neither torch nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClassScore:
    label: str
    index: int
    probability: float


@dataclass
class Prediction:
    """One image's result: ``top`` (highest first) or an ``error`` message."""

    path: str
    top: list[ClassScore] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0  # wall time of this image's forward (shared across a batch)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        if self.error is not None:
            return {"path": self.path, "error": self.error}
        return {
            "path": self.path,
            "top": [{"label": s.label, "index": s.index, "probability": s.probability} for s in self.top],
        }
