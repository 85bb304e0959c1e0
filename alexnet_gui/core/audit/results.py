"""The audit's findings as plain data (no torch, no Qt): the window reads them directly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mislabel:
    path: str
    folder_label: str
    predicted: str
    confidence: float  # the out-of-fold probability of ``predicted``
    given_probability: float  # ... and of the folder's own class


@dataclass(frozen=True)
class DuplicatePair:
    a: str
    b: str
    similarity: float  # 1.0 for identical bytes; 1 - differing bits / 63 (pHash); fc7 cosine
    kind: str  # "exact", "phash" or "fc7"


@dataclass(frozen=True)
class MapPoint:
    path: str
    label: str  # its folder's class
    predicted: str  # the out-of-fold prediction
    x: float
    y: float


@dataclass
class AuditResult:
    root: str
    classes: list[str]
    mislabelled: list[Mislabel]  # most confident disagreement first
    duplicates: list[DuplicatePair]  # exact first, then pHash, then fc7; each by similarity
    leaks: list[DuplicatePair]  # duplicates with ``a`` in train and ``b`` in val
    image_count: int
    computed: int  # images that went through the network (the rest came from the cache)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    points: list[MapPoint] = field(default_factory=list)  # the dataset map, when asked for
    # (N, 4096) fc7 of the audited images, in ``points`` order, when kept for a map (not sent to the window)
    features: object = None
    predicted: list[str] = field(default_factory=list)  # each audited image's out-of-fold prediction
    paths: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def with_map(self, xy) -> AuditResult:
        """These findings with the map points from (N, 2) coordinates; the features dropped."""
        self.points = [MapPoint(p, c, q, float(a), float(b))
                       for p, c, q, (a, b) in zip(self.paths, self.labels, self.predicted, xy)]
        self.features = None
        return self

    def as_json(self, shown_root: str | None = None) -> dict:
        """The three lists; paths joined onto ``shown_root`` (the folder as the user wrote it)."""
        def show(path: str) -> str:
            if shown_root is None:
                return path
            return os.path.join(shown_root, os.path.relpath(path, self.root))

        return {
            "mislabelled": [{"path": show(m.path), "folder_label": m.folder_label, "predicted": m.predicted,
                             "confidence": round(m.confidence, 4)} for m in self.mislabelled],
            "duplicates": [{"a": show(p.a), "b": show(p.b), "similarity": round(p.similarity, 4)}
                           for p in self.duplicates],
            "leaks": [{"a": show(p.a), "b": show(p.b), "similarity": round(p.similarity, 4)} for p in self.leaks],
        }


def fc7_features_key(sha256: str | None, source: str, meta: dict) -> str:
    """The base key the audit's fc7 features are cached under for these weights.

    A model fine-tuned in head mode keeps its base's fc7, so it shares the base's
    cached features (the fine-tune computed them already); any other weights are
    their own key (``core.untrained.base_key``)."""
    from ..untrained import base_key

    settings = meta.get("settings") or {}
    if source == "finetuned" and settings.get("mode") == "head" and meta.get("base_weights_sha256"):
        return str(meta["base_weights_sha256"])
    return base_key(sha256)
