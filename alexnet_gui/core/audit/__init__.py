"""Auditing a fine-tune folder: likely mislabelled images, near-duplicates and train/val leaks.

Importing this package does not import torch: the result types are plain data
the window reads. ``audit_folder`` and ``audit_steps`` (they need torch and
scikit-learn) load on first use; see ``run`` for the flow.
"""

from __future__ import annotations

import importlib

from .results import AuditResult, DuplicatePair, MapPoint, Mislabel

_NEEDS_TORCH = {"audit_folder": ".run", "audit_steps": ".run"}


def __getattr__(name: str):
    if name in _NEEDS_TORCH:
        return getattr(importlib.import_module(_NEEDS_TORCH[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AuditResult", "DuplicatePair", "MapPoint", "Mislabel", "audit_folder", "audit_steps"]
