"""Teaching by correction: copy an image into its right class folder of a fine-tune set, and undo it.

The image is always *copied*, never moved: the user's file stays as it was,
byte for byte. The copy lands in ``DATASET/<class>/`` (the class folder made
when the class is new), under the original's name, or ``name-2.ext``,
``name-3.ext``… when that name is taken, created exclusively so two copies can
never overwrite each other or anything already there. Undo deletes the copy,
and only while its bytes are still the ones copied. Plain files only: no torch,
no Qt (the window calls this directly).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..images import is_image_path


class CorrectionError(ValueError):
    pass


@dataclass(frozen=True)
class AddedImage:
    source: str  # the user's image, untouched
    copy: str  # the new file in the dataset
    class_name: str
    sha256: str  # of the bytes copied: undo checks the copy still holds them


def checked_class_name(name: str) -> str:
    """The class name stripped; CorrectionError when it cannot name a folder."""
    name = name.strip()
    if not name:
        raise CorrectionError("type a class name")
    if name in (".", "..") or name.startswith(".") or any(c in name for c in "/\\\0"):
        raise CorrectionError(f"{name!r} cannot be a class folder's name (no slashes, no leading dot)")
    return name


def copy_into_class(dataset: str | os.PathLike, source: str | os.PathLike, class_name: str) -> AddedImage:
    """Copy ``source`` into ``dataset/<class_name>/`` under a free name; raises CorrectionError."""
    class_name = checked_class_name(class_name)
    src = Path(source)
    if not is_image_path(src.name):
        raise CorrectionError(f"{src.name}: not an image file")
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise CorrectionError(f"{src}: cannot be read ({exc.strerror or exc})") from None
    return save_into_class(dataset, data, class_name, src.name, source=str(src))


def save_into_class(dataset: str | os.PathLike, data: bytes, class_name: str, name: str,
                    source: str | None = None) -> AddedImage:
    """Write ``data`` (an encoded image, e.g. a camera frame) into ``dataset/<class_name>/`` as
    ``name`` or the next free ``name-2``…; raises CorrectionError. ``source`` says where the
    bytes came from (default: the name)."""
    class_name = checked_class_name(class_name)
    stem, suffix = os.path.splitext(name)
    if not is_image_path(name):
        raise CorrectionError(f"{name}: not an image file name")
    folder = Path(dataset) / class_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = _write_new(folder, stem, suffix, data)
    except OSError as exc:
        raise CorrectionError(f"{folder}: cannot write there ({exc.strerror or exc})") from None
    return AddedImage(source or name, str(target), class_name, hashlib.sha256(data).hexdigest())


def _write_new(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    for n in range(1, 10_000):
        target = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            with open(target, "xb") as f:  # exclusive: never replaces a file
                f.write(data)
        except FileExistsError:
            continue
        return target
    raise CorrectionError(f"{folder}: no free name for {stem}{suffix}")


def undo(added: AddedImage) -> bool:
    """Delete the copy if it still holds the bytes copied; True when it was deleted."""
    path = Path(added.copy)
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() != added.sha256:
            return False
        path.unlink()
    except OSError:
        return False
    return True
