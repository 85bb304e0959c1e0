"""Comparing what two different float paths computed.

The same weights and the same image do not give the same bits everywhere: the model
placed for the CPU runs channels-last while a test's own model is contiguous; a batch
and a single image, 1, 2 or 16 threads, and AVX-512, AVX2 or plain kernels each sum
in their own order. Logits and activations then agree to float rounding (measured:
under 3e-6 of the largest value, logits of the seeded model within 5e-8), not bit for
bit, and anything made from them by rounding (a colour map, a ranking of near-equal
classes) can jump. So a test that compares two paths compares the float values with a
tolerance scaled to their size, and lets two classes trade places only when their
probabilities are that close. Exact equality stays for one computation done twice.
"""

from __future__ import annotations

import numpy as np

REL = 1e-4  # of the largest value: ~50x the largest difference seen between paths, far below a real change


def _array(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def scaled_atol(reference, rel: float = REL) -> float:
    """``rel`` of the largest magnitude in ``reference`` (0 for all zeros)."""
    a = _array(reference)
    return rel * float(np.abs(a).max()) if a.size else 0.0


def assert_close_to_scale(got, want, rel: float = REL, what: str = "") -> None:
    """Equal up to ``rel`` of ``want``'s largest magnitude, element by element."""
    got, want = _array(got), _array(want)
    assert got.shape == want.shape, f"{what} shape {got.shape}, expected {want.shape}"
    np.testing.assert_allclose(got, want, rtol=0, atol=scaled_atol(want, rel), err_msg=what)


def _scores(top) -> list[tuple[int, str, float]]:
    """(index, label, probability) from ClassScores, their dicts (JSON) or the bars'
    ``(label, probability, index)`` rows."""
    rows = []
    for s in top:
        if hasattr(s, "probability"):
            rows.append((int(s.index), s.label, float(s.probability)))
        elif isinstance(s, dict):
            rows.append((int(s["index"]), s["label"], float(s["probability"])))
        else:
            label, probability, index = s
            rows.append((int(index), label, float(probability)))
    return rows


def top_mismatch(got, want, rtol: float = REL) -> str | None:
    """None when the top-k ``got`` is ``want`` up to float rounding, else what differs.

    Each place's probability must match to ``rtol`` (relative: a log-probability moves
    by at most twice the largest logit change). Another class may stand in a place only
    if its probability and the expected one's are within rounding of each other: a
    near-tie that another summation order may break the other way.
    """
    g, w = _scores(got), _scores(want)
    if len(g) != len(w):
        return f"{len(g)} classes, expected {len(w)}"
    if len({i for i, _, _ in g}) != len(g):
        return f"a class repeated in {g}"
    expected = {i: (label, p) for i, label, p in w}
    last = w[-1][2] if w else 0.0
    for place, ((gi, gl, gp), (wi, wl, wp)) in enumerate(zip(g, w), start=1):
        tol = rtol * abs(wp)
        if abs(gp - wp) > tol:
            return f"#{place}: probability {gp!r}, expected {wp!r} (to {rtol:g} of it)"
        if gi == wi:
            if gl != wl:
                return f"#{place}: class {gi} is {gl!r}, expected {wl!r}"
            continue
        if gi in expected:
            label, p = expected[gi]
            if gl != label:
                return f"#{place}: class {gi} is {gl!r}, expected {label!r}"
            if abs(p - wp) > 2 * tol:
                return f"#{place}: {gl} where {wl} was expected, and their probabilities are not a near-tie"
        elif wp - last > 2 * tol:
            return f"#{place}: {gl}, which is not in the expected top-{len(w)} and not a near-tie with its last"
    return None


def same_top(got, want, rtol: float = REL) -> bool:
    return top_mismatch(got, want, rtol) is None


def assert_same_top(got, want, rtol: float = REL) -> None:
    why = top_mismatch(got, want, rtol)
    assert why is None, f"{why}\n got: {_scores(got)}\nwant: {_scores(want)}"
