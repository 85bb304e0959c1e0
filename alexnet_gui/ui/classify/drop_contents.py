"""What a drop (or a paste, an Open, the command line) holds: each image file once, and
what to tell the person about the rest (empty folders, unreadable ones, files already open)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def normal_path(path) -> str:
    """One spelling per file (absolute, no ``.`` or ``..``), so a file dropped on its own and
    found again in its dropped folder is the same row."""
    return os.path.abspath(os.fspath(path))


@dataclass
class DropContents:
    files: list[str] = field(default_factory=list)  # every file, once, in the order dropped
    empty_folders: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # each names the folder and the cause


def collect(paths) -> DropContents:
    """Files stay as given, folders become the images inside them (recursively)."""
    from ...core.images import ImageLoadError, find_images  # Pillow only, no torch

    out = DropContents()
    seen: set[str] = set()
    skipped: list[ImageLoadError] = []
    for p in paths:
        p = normal_path(p)
        if os.path.isdir(p):
            try:
                found = [str(f) for f in find_images(p, skipped)]
            except ImageLoadError as exc:
                out.problems.append(str(exc))
                continue
            if not found:
                out.empty_folders.append(p)
        else:
            found = [p]
        for f in found:
            if f not in seen:
                seen.add(f)
                out.files.append(f)
    out.problems += [str(exc) for exc in skipped]
    return out


def feedback(contents: DropContents, opened: list[str], already: list[str]) -> str:
    """One status line: what was opened, what was already open, what held no images."""
    from ...core.images import display_name

    parts = []
    if len(opened) == 1:
        parts.append(f"Opened {display_name(opened[0])}")
    elif opened:
        parts.append(f"Opened {len(opened)} images")
    if len(already) == 1:
        parts.append(f"{display_name(already[0])} is already open")
    elif already:
        names = ", ".join(display_name(p) for p in already[:3]) + (", …" if len(already) > 3 else "")
        parts.append(f"{len(already)} already open ({names})")
    parts += [f"No images in {Path(f)}" for f in contents.empty_folders]
    if contents.problems:
        more = f" (and {len(contents.problems) - 1} more)" if len(contents.problems) > 1 else ""
        parts.append(contents.problems[0] + more)
    return "; ".join(parts)
