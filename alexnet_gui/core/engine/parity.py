"""The parity gate: a graph runs only after it gave torch's answers on a few inputs.

Inputs: seeded noise and the bundled sample images, preprocessed as the app does.
Passing means max |Δ| <= 1e-4 x max(1, max |torch output|) and, for logits, the
same top-5 classes in the same order for every input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

RELATIVE_TOLERANCE = 1e-4
NOISE_SEED = 20120
NOISE_INPUTS = 2


@dataclass(frozen=True)
class ParityReport:
    max_abs_diff: float
    scale: float  # max(1, max |reference|)
    top5_identical: bool
    inputs: int
    error: str | None = None  # the candidate raised or returned the wrong shape

    @property
    def tolerance(self) -> float:
        return RELATIVE_TOLERANCE * self.scale

    @property
    def ok(self) -> bool:
        return self.error is None and self.max_abs_diff <= self.tolerance and self.top5_identical

    def reason(self) -> str | None:
        """Why the gate failed, in words for the status bar; None when it passed."""
        if self.error is not None:
            return f"ONNX Runtime failed its check: {self.error}"
        if self.max_abs_diff > self.tolerance:
            return (f"ONNX Runtime's outputs differ from torch's by {self.max_abs_diff:.3g} "
                    f"(allowed {self.tolerance:.3g})")
        if not self.top5_identical:
            return "ONNX Runtime's top-5 differs from torch's"
        return None

    def as_dict(self) -> dict:
        return {"max_abs_diff": self.max_abs_diff, "tolerance": self.tolerance, "top5_identical": self.top5_identical,
                "inputs": self.inputs, "ok": self.ok}


def parity_inputs(noise: int = NOISE_INPUTS, images: Sequence | None = None) -> np.ndarray:
    """(N, 3, 224, 224) float32: ``noise`` seeded normal inputs, then the images
    (the bundled samples when ``images`` is None), preprocessed as the app does."""
    from ...resources_paths import sample_images
    from ..images import load_image
    from ..preprocess import CROP_SIZE, normalized_array, resized_crop

    rng = np.random.default_rng(NOISE_SEED)
    batches = [rng.standard_normal((noise, 3, CROP_SIZE, CROP_SIZE), dtype=np.float32)] if noise else []
    paths = sample_images() if images is None else list(images)
    if paths:
        batches.append(normalized_array([resized_crop(load_image(p)) for p in paths]))
    return np.concatenate(batches) if batches else np.zeros((0, 3, CROP_SIZE, CROP_SIZE), np.float32)


def top5(outputs: np.ndarray) -> np.ndarray:
    k = min(5, outputs.shape[1])
    return np.argsort(-outputs, axis=1, kind="stable")[:, :k]


def compare(reference: np.ndarray, candidate: np.ndarray, logits: bool = True) -> ParityReport:
    n = int(reference.shape[0])
    if candidate.shape != reference.shape:
        return ParityReport(float("inf"), 1.0, False, n, f"output shape {candidate.shape}, expected {reference.shape}")
    if not np.all(np.isfinite(candidate)):
        return ParityReport(float("inf"), 1.0, False, n, "non-finite outputs")
    diff = float(np.max(np.abs(reference - candidate))) if reference.size else 0.0
    scale = max(1.0, float(np.max(np.abs(reference))) if reference.size else 1.0)
    same = bool(np.array_equal(top5(reference), top5(candidate))) if logits else True
    return ParityReport(diff, scale, same, n)


def check_parity(reference: Callable[[np.ndarray], np.ndarray], candidate: Callable[[np.ndarray], np.ndarray],
                 inputs: np.ndarray, logits: bool = True, batch: int = 8) -> ParityReport:
    """Run both on ``inputs`` (in batches of ``batch``) and compare; a candidate that raises fails."""
    ref, cand = [], []
    try:
        for s in range(0, len(inputs), batch):
            chunk = inputs[s : s + batch]
            ref.append(np.asarray(reference(chunk), dtype=np.float32))
            cand.append(np.asarray(candidate(chunk), dtype=np.float32))
    except Exception as exc:  # noqa: BLE001 - any failure of the candidate is a failed gate
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return ParityReport(float("inf"), 1.0, False, len(inputs), first)
    return compare(np.concatenate(ref), np.concatenate(cand), logits)
