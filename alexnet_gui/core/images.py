"""Opening images safely: any file a user may drop becomes an RGB image or a
clear :class:`ImageLoadError` that names the file and the cause."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# No image is decoded to more pixels than this (400 MB as Pillow holds RGB): bigger files are
# refused before decoding (decompression bombs), unless their format can decode at
# a reduced scale (JPEG: 1/2, 1/4, 1/8) that fits. A 224 classifier gains nothing
# from more: the model sees the shorter side resized to 256.
MAX_PIXELS = 100_000_000
# A reduced decode keeps the shorter side at least this long (preprocess.RESIZE_SIZE).
MIN_REDUCED_SIDE = 256
# Fewer bytes than one per this many pixels cannot be a whole JPEG of that size:
# Huffman coding spends at least a bit on every 8x8 block, 1 byte per 512 pixels;
# this allows 8 times less still (for arithmetic coding, which cameras do not write).
# A header that claims more is a bomb, or the file was cut.
MAX_PIXELS_PER_BYTE = 4096
_REDUCTIONS = (8, 4, 2)

# The one list of what the app opens as an image: a drop, a folder, the fine-tune scan,
# the CLI and the Open dialog's filter (IMAGE_GLOBS) all read it.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm", ".pbm")
IMAGE_EXTENSIONS = frozenset(IMAGE_SUFFIXES)
IMAGE_GLOBS = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)  # "*.jpg *.jpeg ... *.pbm"

# Never let Pillow pad a truncated file with grey: a half image is an error.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow warns (on stderr, naming its own source line) about images over ~89 MP
# before the MAX_PIXELS check below refuses them with a message naming the file.
# A filter, not catch_warnings(): images are opened on several threads at once.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Pillow also refuses, when merely opening them, images over twice that (a 200 MP
# phone photo is one): before a reduced decode could be chosen. Every decode here is
# checked against MAX_PIXELS first, so Pillow's limit only has to let through what a
# 1/8 decode brings under it.
if Image.MAX_IMAGE_PIXELS is not None:
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS, MAX_PIXELS * _REDUCTIONS[0] ** 2 // 2)

# Pillow frees an image's pixel memory as soon as the image goes, and glibc gives a
# freed block of megabytes straight back to the system; the next photo's pixels are
# then fresh pages, each faulted in on first write: ~1,500 page faults, ~1.7 ms, for a
# 1024x768 photo (measured). Pillow can keep a few freed blocks for reuse instead.
# At most this many (Pillow's blocks are <= 16 MB, so <= 64 MB kept); a larger
# PILLOW_BLOCKS_MAX set by the user wins.
PILLOW_KEPT_BLOCKS = 4
if Image.core.get_blocks_max() < PILLOW_KEPT_BLOCKS:
    Image.core.set_blocks_max(PILLOW_KEPT_BLOCKS)


PathLike = str | bytes | os.PathLike


class ImageLoadError(ValueError):
    """An image could not be used. ``str()`` reads "<file name>: <cause>".

    ``path`` is the path as given (as ``str``); the message shows a printable
    name, since a file name may hold bytes that are not valid UTF-8."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fsdecode(path)
        self.reason = reason
        super().__init__(f"{display_name(self.path)}: {reason}")

    def __reduce__(self):
        # Crosses between processes: rebuilt from (path, reason), not from the message alone.
        return type(self), (self.path, self.reason)


def display_name(path: PathLike) -> str:
    """The file name, printable: undecodable bytes (kept by Python as lone
    surrogates, which no stream can encode) become U+FFFD."""
    name = Path(os.fsdecode(path)).name
    try:
        return os.fsencode(name).decode("utf-8", "replace")
    except UnicodeError:
        return name.encode("utf-8", "replace").decode("utf-8")


def _as_path(path: PathLike) -> Path:
    return Path(os.fsdecode(path))  # bytes paths too: undecodable bytes survive as surrogates


def is_image_path(path: PathLike) -> bool:
    return _as_path(path).suffix.lower() in IMAGE_EXTENSIONS


def walk_files(folder: Path, on_error: Callable[[OSError], None]) -> Iterator[Path]:
    """Every file under ``folder``, top-down, each folder's entries sorted by name; hidden
    files and folders (a leading dot) are skipped. ``on_error`` gets what ``os.walk``
    could not read (``filename`` names the folder) and may raise to stop the walk."""
    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def find_images(folder: PathLike, skipped: list[ImageLoadError] | None = None) -> list[Path]:
    """Image files under ``folder``, recursively, sorted, hidden entries skipped.

    An unreadable folder raises :class:`ImageLoadError`; an unreadable subfolder
    is left out and, when ``skipped`` is given, an error naming it is appended there.
    """
    root = _as_path(folder)
    if not root.is_dir():
        raise ImageLoadError(root, "is not a folder")
    if not os.access(root, os.R_OK | os.X_OK):
        raise ImageLoadError(root, "permission denied: the folder cannot be read")

    def on_error(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else root
        if _as_path(where) == root:
            raise ImageLoadError(root, f"the folder cannot be read ({exc.strerror or exc})")
        if skipped is not None:
            skipped.append(ImageLoadError(where, f"the folder cannot be read ({exc.strerror or exc}); its images are left out"))

    return sorted(path for path in walk_files(root, on_error) if is_image_path(path.name))


def expand_paths(paths, skipped: list[ImageLoadError] | None = None) -> list[Path]:
    """Files stay as given (in order); folders become the images inside them
    (unreadable subfolders go to ``skipped``, see :func:`find_images`)."""
    out: list[Path] = []
    for p in paths:
        p = _as_path(p)
        out.extend(find_images(p, skipped) if p.is_dir() else [p])
    return out


def load_image(path: PathLike, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``path`` as an upright RGB image (first frame of animations).

    An image over ``max_pixels`` is decoded at a reduced scale when its format
    allows one that fits (see :func:`reduce_decode`), else refused."""
    path = _as_path(path)
    with image_errors(path):
        if path.is_dir():
            raise ImageLoadError(path, "is a folder, not an image")
        file_size = path.stat().st_size
        if file_size == 0:
            raise ImageLoadError(path, "the file is empty (0 bytes)")
        with Image.open(path) as img:
            img.seek(0)  # first frame of an animation
            reduce_decode(img, path, file_size, max_pixels)
            return _to_rgb_upright(img, path)


@contextmanager
def image_errors(path: Path):
    """Turn what Pillow and the file system raise for ``path`` into ImageLoadError."""
    try:
        yield
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(path, "the file does not exist (moved or deleted?)") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied: the file cannot be read") from None
    except UnidentifiedImageError:
        raise ImageLoadError(path, "not an image, or a format Pillow cannot read") from None
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (at open, or on a GIF frame) names a pixel count, not the size.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        over = _over_limit(int(found.group(1))) if found else f"over the limit of {MAX_PIXELS:,} pixels"
        raise ImageLoadError(path, f"{over} (a possible decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(path, f"the image data is damaged or truncated: {_cause(exc)}") from None
    except MemoryError:
        raise ImageLoadError(path, "the image is too large to decode in memory") from None


def _cause(exc: BaseException) -> str:
    # Pillow's texts carry their own parentheses ("image file is truncated (3 bytes not
    # processed)"): shown after a colon, never nested inside ours.
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    return text.splitlines()[0]


def reduce_decode(img: Image.Image, path: Path, file_size: int, max_pixels: int = MAX_PIXELS) -> None:
    """Make an opened, not yet decoded ``img`` fit ``max_pixels`` or raise ImageLoadError.

    An image within the limit is left alone: decoded in full, it gives the same pixels
    as any other program. One over it is set to decode at the largest reduction its
    format offers (JPEG: 1/2, 1/4, 1/8, by Pillow's ``draft``) that keeps the shorter
    side at least MIN_REDUCED_SIDE and fits the limit; a format without one (PNG, ...)
    is refused. So is a file too small to hold the pixels its header claims."""
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageLoadError(path, "the image has no pixels")
    if width * height <= max_pixels:
        return
    over = _over_limit(width * height, max_pixels, (width, height))
    for s in _REDUCTIONS:
        w, h = -(-width // s), -(-height // s)  # the decoder rounds up
        if w * h <= max_pixels and min(w, h) >= MIN_REDUCED_SIDE:
            # Only configures the decoder, nothing is decoded yet. Pillow picks the largest
            # scale whose floor division still reaches the size asked for: ask with floors.
            img.draft(None, (width // s, height // s))
            break
    if img.size[0] * img.size[1] > max_pixels:  # no reduction fits, or the format has none
        raise ImageLoadError(path, f"{over} (a possible decompression bomb)")
    if file_size * MAX_PIXELS_PER_BYTE < width * height:
        raise ImageLoadError(path, f"{over}, in a file of only {file_size:,} bytes (a possible decompression bomb)")


def _over_limit(pixels: int, max_pixels: int = MAX_PIXELS, size: tuple[int, int] | None = None) -> str:
    """The start of every pixel-limit refusal, whoever noticed it: "4000x3000 is 12,000,000 pixels, over ..."."""
    what = f"{size[0]}x{size[1]} is {pixels:,} pixels" if size else f"{pixels:,} pixels"
    return f"{what}, over the limit of {max_pixels:,}"


def _to_rgb_upright(img: Image.Image, path: Path) -> Image.Image:
    img.load()  # decode now: truncation surfaces here, inside the try
    ImageOps.exif_transpose(img, in_place=True)
    # An RGB file is used as decoded: the pixels outlive the closed file, and a copy
    # would cost a second image's memory and time (0.3-1.7 ms for a 1024x768 photo).
    return img if img.mode == "RGB" else to_rgb(img)


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB. Transparency is flattened onto white."""
    mode = img.mode
    if mode == "RGB":
        return img.copy()
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit: the type's range is known, so a dark image stays dark
        return Image.fromarray(_to_uint8(np.asarray(img), 255.0 / 65535.0), "L").convert("RGB")
    if mode in ("I", "F"):
        return Image.fromarray(_scale_to_uint8(np.asarray(img)), "L").convert("RGB")
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # premultiplied La has no direct route to RGBA in Pillow; LA does
        rgba = (img.convert("LA") if mode == "La" else img).convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _scale_to_uint8(arr: np.ndarray) -> np.ndarray:
    # 32-bit integer and float images carry no fixed range: 0..1 when they look
    # normalised, 0..255 or 0..65535 when they fit those, else their own range.
    arr = arr.astype(np.float64)
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    arr = np.nan_to_num(arr, nan=lo, posinf=hi, neginf=lo)  # float files may hold NaN/inf
    if hi <= 1.0 and lo >= 0.0:
        scale = 255.0
    elif hi <= 255.0 and lo >= 0.0:
        scale = 1.0
    elif hi <= 65535.0 and lo >= 0.0:
        scale = 255.0 / 65535.0
    else:
        arr = arr - lo
        scale = 255.0 / max(hi - lo, 1e-12)
    return _to_uint8(arr, scale)


def _to_uint8(arr: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.rint(arr.astype(np.float64) * scale), 0, 255).astype(np.uint8)
