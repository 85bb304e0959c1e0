"""The Classify list's predictions as a CSV file (File › Export predictions…)."""

from __future__ import annotations

import csv
import os


def nothing_to_export(entries) -> str | None:
    """Why an export would write no row (the list is empty, or nothing is classified yet), else None."""
    if not entries:
        return "Nothing to export: the list of images is empty (drop or open images first)"
    if all(e.result is None for e in entries):
        return f"Nothing to export: none of the {len(entries)} images is classified yet"
    return None


def write_predictions(entries, path: str | os.PathLike) -> int:
    """Write path, then label and probability for each of the top-5, then the error.
    Returns rows written (images not classified yet are left out).

    Written to a temp name and renamed, so a failure never leaves a half file."""
    from ...core.files import write_atomically  # no torch: plain file handling

    rows = 0

    def write(f) -> None:
        nonlocal rows
        w = csv.writer(f)
        w.writerow(["path"] + [c for i in range(1, 6) for c in (f"label{i}", f"probability{i}")] + ["error"])
        for e in entries:
            if e.result is None:
                continue
            p = e.result.prediction
            cells = [e.path]
            for i in range(5):
                if i < len(p.top):
                    cells += [p.top[i].label, f"{p.top[i].probability:.6f}"]
                else:
                    cells += ["", ""]
            w.writerow(cells + [p.error or ""])
            rows += 1

    write_atomically(path, write, text=True)
    return rows
