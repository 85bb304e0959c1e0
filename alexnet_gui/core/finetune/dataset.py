"""A class-per-folder image set: what is there, what is usable, and the split.

Layout (torchvision ImageFolder): ``FOLDER/<class>/**/<image>``, hidden files
and folders ignored. When FOLDER holds both ``train/`` and ``val/`` (or
``validation/``) with the same class folders, they are used as given;
otherwise the validation images are a stratified, seeded draw (``split``).

The scan reads every file once: its SHA-256 keys the feature cache, and Pillow
parses its header (PNG chunks are CRC-checked, a JPEG without its end marker
is decoded) so damaged files show in the report before training. Whatever is
not usable is listed with its cause and skipped, never fatal. Nothing here
writes to the user's folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..images import ImageLoadError, image_errors, is_image_path, reduce_decode, walk_files
from .control import Eta, Progress, RunControl
from .errors import FinetuneError

TRAIN_NAMES = ("train",)
VAL_NAMES = ("val", "validation", "valid")
IMBALANCE_RATIO = 3.0  # warn when the largest class has more than 3x the smallest
_CHUNK = 64  # files checked between cancel checks and progress events


@dataclass(frozen=True)
class SkippedFile:
    path: str
    error: str


@dataclass(frozen=True)
class ImageEntry:
    path: str
    label: int
    sha256: str  # of the file's bytes: the feature-cache key


@dataclass
class HealthReport:
    """What a scan found. ``problems`` non-empty means a fine-tune is refused."""

    root: str
    layout: str  # "folders" (split drawn later) or "train/val" (as given)
    classes: list[str]
    images: list[ImageEntry]  # every usable image; in "train/val" layout the train/ ones
    val_images: list[ImageEntry] = field(default_factory=list)  # given val/ images
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def counts(self) -> dict[str, int]:
        """Usable images per class (train and given val together)."""
        counts = dict.fromkeys(self.classes, 0)
        for entry in self.images + self.val_images:
            counts[self.classes[entry.label]] += 1
        return counts

    def raise_if_refused(self) -> None:
        if self.problems:
            raise FinetuneError("; ".join(self.problems), self.skipped)

    def summary(self) -> str:
        """Several lines of plain text for a terminal or a log."""
        lines = [f"{self.root}: {len(self.classes)} classes, {sum(self.counts.values())} images ({self.layout})"]
        lines += [f"  {name}: {n}" for name, n in self.counts.items()]
        lines += [f"  skipped {Path(s.path).name}: {s.error}" for s in self.skipped]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  refused: {p}" for p in self.problems]
        return "\n".join(lines)


def scan_folder(
    folder: str | os.PathLike,
    val_folder: str | os.PathLike | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> HealthReport:
    """Look at every file under ``folder`` (and ``val_folder``) and report.

    Raises FinetuneError only when the folder itself cannot be read; refusals
    (too few classes or images) are returned in ``report.problems``.
    ``progress`` gets "scan" events; ``cancelled()`` is polled every 64 files.
    """
    return scan_with(folder, val_folder, RunControl(progress, cancelled))


def scan_with(folder: str | os.PathLike, val_folder: str | os.PathLike | None, control: RunControl) -> HealthReport:
    root = _readable_dir(folder)
    train_root, val_root, layout = root, None, "folders"
    if val_folder is not None:
        val_root, layout = _readable_dir(val_folder), "train/val"
    else:
        given = _given_split(root)
        if given is not None:
            train_root, val_root = given
            layout = "train/val"

    classes, files, skipped = _list_files(train_root)
    report = HealthReport(str(root), layout, classes, [], skipped=skipped)
    val_files: list[tuple[Path, int]] = []
    if val_root is not None:
        val_classes, val_files, val_skipped = _list_files(val_root)
        report.skipped += val_skipped
        if val_classes != classes:
            report.problems.append(_class_mismatch(train_root, val_root, classes, val_classes))
            return report

    checked = _check_files([p for p, _ in files + val_files], control)
    for i, ((path, label), (sha, error)) in enumerate(zip(files + val_files, checked)):
        if error is not None:
            report.skipped.append(SkippedFile(str(path), error))
        else:
            (report.images if i < len(files) else report.val_images).append(ImageEntry(str(path), label, sha))
    _judge(report, train_root, val_root)
    return report


def split(report: HealthReport, val_fraction: float, seed: int) -> tuple[list[ImageEntry], list[ImageEntry]]:
    """(train, val). Given val images are kept; otherwise a stratified, seeded draw.

    Each class gives round(n * val_fraction) images to validation, at least 1,
    and keeps at least 1 for training. Both lists come back sorted by path.
    """
    if report.layout == "train/val":
        return list(report.images), list(report.val_images)
    rng = random.Random(seed)
    train: list[ImageEntry] = []
    val: list[ImageEntry] = []
    for label in range(len(report.classes)):
        members = sorted((e for e in report.images if e.label == label), key=lambda e: e.path)
        rng.shuffle(members)
        n_val = min(len(members) - 1, max(1, round(len(members) * val_fraction)))
        val += members[:n_val]
        train += members[n_val:]
    return sorted(train, key=lambda e: e.path), sorted(val, key=lambda e: e.path)


# ---------------------------------------------------------------- listing


def _readable_dir(folder: str | os.PathLike) -> Path:
    path = Path(folder).expanduser()
    if not path.exists():
        raise FinetuneError(f"{path}: no such folder")
    if not path.is_dir():
        raise FinetuneError(f"{path}: is a file, not a folder of class subfolders")
    if not os.access(path, os.R_OK | os.X_OK):
        raise FinetuneError(f"{path}: permission denied: the folder cannot be read")
    return path


def _given_split(root: Path) -> tuple[Path, Path] | None:
    subdirs = {p.name.lower(): p for p in _subdirs(root)}
    train = next((subdirs[n] for n in TRAIN_NAMES if n in subdirs), None)
    val = next((subdirs[n] for n in VAL_NAMES if n in subdirs), None)
    return (train, val) if train is not None and val is not None else None


def _subdirs(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir()]


def _list_files(root: Path) -> tuple[list[str], list[tuple[Path, int]], list[SkippedFile]]:
    """Class names (sorted subfolder names), (file, label) pairs, and what was skipped."""
    skipped: list[SkippedFile] = []
    try:
        top = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise FinetuneError(f"{root}: the folder cannot be read ({exc.strerror or exc})") from None
    for entry in top:
        if not entry.name.startswith(".") and entry.is_file():
            skipped.append(SkippedFile(entry.path, "not inside a class folder"))
    classes = [d.name for d in _subdirs(root)]
    files: list[tuple[Path, int]] = []

    def unreadable(err: OSError) -> None:
        skipped.append(SkippedFile(str(err.filename), f"the folder cannot be read ({err.strerror or err})"))

    for label, name in enumerate(classes):
        for path in walk_files(root / name, unreadable):
            if is_image_path(path.name):
                files.append((path, label))
            else:
                skipped.append(SkippedFile(str(path), f"not an image file ({path.suffix or 'no extension'})"))
    return classes, files, skipped


# ---------------------------------------------------------------- checking


def _check_files(paths: list[Path], control: RunControl) -> list[tuple[str | None, str | None]]:
    """For each path (sha256, None) when usable, else (None, cause). Order is kept."""
    out: list[tuple[str | None, str | None]] = []
    eta = Eta(len(paths))
    control.emit(Progress("scan", 0, len(paths)))
    # Hashing and PNG CRCs release the GIL; two threads keep the disk and a core busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, len(paths), _CHUNK):
            control.check()
            out += pool.map(_check_file, paths[start : start + _CHUNK])
            control.emit(Progress("scan", len(out), len(paths), eta(len(out))))
    return out


def _check_file(path: Path) -> tuple[str | None, str | None]:
    try:
        data = path.read_bytes()
    except PermissionError:
        return None, "permission denied: the file cannot be read"
    except OSError as exc:
        return None, f"cannot read the file ({exc.strerror or exc})"
    if not data:
        return None, "the file is empty (0 bytes)"
    try:
        _check_image_bytes(data, path)
    except ImageLoadError as exc:
        return None, exc.reason
    return hashlib.sha256(data).hexdigest(), None


def _check_image_bytes(data: bytes, path: Path) -> None:
    with image_errors(path), Image.open(io.BytesIO(data)) as img:
        # The pixel limit, as for every image (images.load_image): one check, one message.
        reduce_decode(img, path, len(data))  # a big phone JPEG is checked at reduced scale
        if img.format == "JPEG" and not data.rstrip(b"\0").endswith(b"\xff\xd9"):
            img.load()  # no end marker: decode to tell a cut file from trailing bytes
        else:
            img.verify()  # PNG: walks every chunk and checks its CRC; cheap


# ---------------------------------------------------------------- judging


def _judge(report: HealthReport, train_root: Path, val_root: Path | None) -> None:
    classes = report.classes
    if not classes:
        if report.skipped:
            advice = "it holds its files directly: move each class's images into a subfolder named after the class"
        else:
            advice = "put each class's images in its own subfolder"
        report.problems.append(f"{train_root} has no class subfolders: {advice}")
        return
    if len(classes) < 2:
        report.problems.append(f"only one class ({classes[0]!r}) found: a fine-tune needs at least 2 class folders")
    counts = report.counts
    train_counts = dict.fromkeys(classes, 0)
    for entry in report.images:
        train_counts[classes[entry.label]] += 1
    for name, n in counts.items():
        if n < 2:
            report.problems.append(
                f"class {name!r} has {n} readable image{'s' if n != 1 else ''}: each class needs at least 2"
            )
        elif val_root is not None and train_counts[name] == 0:
            report.problems.append(f"class {name!r} has no readable images in {train_root.name}/")
        elif val_root is not None and n == train_counts[name]:
            report.problems.append(f"class {name!r} has no readable images in {val_root.name}/")
    usable = [n for n in counts.values() if n > 0]
    if len(usable) >= 2 and max(usable) > IMBALANCE_RATIO * min(usable):
        big = max(counts, key=counts.get)
        small = min((c for c in counts if counts[c] > 0), key=counts.get)
        report.warnings.append(
            f"classes are imbalanced: {big!r} has {counts[big]} images, {small!r} only {counts[small]}; "
            "accuracy may favour the larger classes"
        )
    labels_of: dict[str, set[int]] = {}
    for entry in report.images + report.val_images:
        labels_of.setdefault(entry.sha256, set()).add(entry.label)
    clashes = [e for e in report.images + report.val_images if len(labels_of[e.sha256]) > 1]
    if clashes:
        report.warnings.append(
            f"{len(clashes)} images have an identical copy in another class (e.g. {Path(clashes[0].path).name}); "
            "the network cannot tell them apart"
        )
    if report.skipped:
        report.warnings.append(f"{len(report.skipped)} file(s) skipped (listed with their cause)")


def _class_mismatch(train_root: Path, val_root: Path, train: list[str], val: list[str]) -> str:
    only_train = sorted(set(train) - set(val))
    only_val = sorted(set(val) - set(train))
    parts = []
    if only_train:
        parts.append(f"only in {train_root.name}/: {', '.join(only_train)}")
    if only_val:
        parts.append(f"only in {val_root.name}/: {', '.join(only_val)}")
    return f"{train_root.name}/ and {val_root.name}/ must hold the same class folders ({'; '.join(parts)})"
