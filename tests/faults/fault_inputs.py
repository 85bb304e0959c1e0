"""The bad and odd files a user may hand the app, written cheaply, and what must happen to each.

``IMAGE_CASES`` maps a case name to (file name, writer, expectation). A writer
takes the full path and creates the file; the expectation is either ``OK`` (the
image is classified) or the words the error message must contain after the
file's name. ``snapshot(folder)`` fingerprints every file under a folder, so a
test can show that nothing of the user's was modified, added or removed.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import io
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

OK = None  # expectation: the image is classified


def noise(width: int, height: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 random pixels, seeded."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def rgb(width: int = 96, height: int = 72, seed: int = 0) -> Image.Image:
    return Image.fromarray(noise(width, height, seed))


def _encoded(img: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width`` x ``height`` RGB, a few bytes of
    IDAT and IEND: the file is tiny, the header promises gigabytes once decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- writers


def write_zero_byte(path: Path) -> None:
    path.write_bytes(b"")


def write_truncated_jpeg(path: Path) -> None:
    data = _encoded(rgb(seed=1), "JPEG", quality=90)
    path.write_bytes(data[: len(data) // 2])


def write_truncated_png(path: Path) -> None:
    data = _encoded(rgb(seed=2), "PNG")
    path.write_bytes(data[: len(data) // 2])


def write_random_bytes(path: Path) -> None:
    data = random.Random(3).randbytes(4096)
    assert not data.startswith((b"\xff\xd8", b"\x89PNG", b"GIF8", b"BM", b"RIFF", b"II*", b"MM\0"))
    path.write_bytes(data)


def write_text(path: Path) -> None:
    path.write_text("Shopping list\n- milk\n- bread\n", encoding="utf-8")


def write_bomb_30000(path: Path) -> None:
    path.write_bytes(png_header_only(30000, 30000))  # 900 megapixels: Pillow's own bomb limit


def write_bomb_12000(path: Path) -> None:
    path.write_bytes(png_header_only(12000, 9000))  # 108 megapixels, no reduced decode for PNG: over the limit


def write_jpeg_bomb_12000(path: Path) -> None:
    """A real 16x16 JPEG whose frame header is changed to claim 12000x9000: a few hundred
    bytes cannot hold 108 megapixels, whatever scale they are decoded at."""
    data = bytearray(_encoded(rgb(16, 16, seed=10), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 9000, 12000)
    path.write_bytes(bytes(data))


@functools.cache
def _big_photo() -> bytes:
    # Smooth gradients scaled up: 2 MB of JPEG, made once per test process (1 s, 430 MB while encoding).
    small = Image.merge("RGB", [Image.linear_gradient("L").resize((400, 300)),
                                Image.radial_gradient("L").resize((400, 300)),
                                Image.linear_gradient("L").rotate(90).resize((400, 300))])
    return _encoded(small.resize((12000, 9000), Image.Resampling.BICUBIC), "JPEG", quality=90)


def write_big_photo(path: Path) -> None:
    path.write_bytes(_big_photo())  # 108 megapixels, as some phones save: decoded at 1/8


def write_tiny(path: Path) -> None:
    Image.new("RGB", (1, 1), (200, 30, 30)).save(path)


def write_wide(path: Path) -> None:
    Image.fromarray(noise(20000, 20, seed=4)).save(path)


def write_cmyk_jpeg(path: Path) -> None:
    rgb(seed=5).convert("CMYK").save(path, "JPEG", quality=90)


def write_16bit_png(path: Path) -> None:
    ramp = (np.arange(96 * 72, dtype=np.uint32).reshape(72, 96) * 9).astype(np.uint16)  # (72, 96) 0..62207
    Image.fromarray(ramp).save(path)


def write_palette_transparent(path: Path) -> None:
    img = rgb(seed=6).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    img.save(path, transparency=0)


def write_la(path: Path) -> None:
    rgb(seed=7).convert("LA").save(path)


def write_animated_gif(path: Path) -> None:
    frames = [Image.new("RGB", (80, 80), c) for c in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def write_webp(path: Path) -> None:
    rgb(seed=8).save(path, "WEBP", quality=90)


def write_exif_rotated(path: Path) -> None:
    """A portrait picture (64 wide, 96 tall: red above, blue below) stored on its side,
    as a phone does, with EXIF orientation 6 ("rotate 90° clockwise to show")."""
    upright = Image.new("RGB", (64, 96), (200, 30, 30))
    upright.paste(Image.new("RGB", (64, 48), (30, 30, 200)), (0, 48))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # (96, 64): what the sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())


def manually_upright(exif_jpeg: Path, out: Path) -> Path:
    """The stored pixels of ``exif_jpeg`` decoded as they are and rotated by hand, saved losslessly."""
    with Image.open(exif_jpeg) as img:
        img.convert("RGB").transpose(Image.Transpose.ROTATE_270).save(out, "PNG")
    return out


def write_png(path: Path, seed: int = 0, size: tuple[int, int] = (96, 72)) -> None:
    rgb(size[0], size[1], seed).save(path, "PNG")


def album_losing_a_file(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A folder of two images; ``moved-away.png`` vanishes right after the folder is
    listed (``find_images``) and before it is read, as when another program moves it."""
    import alexnet_gui.core.images as images

    folder = tmp_path / "album"
    folder.mkdir()
    write_png(folder / "stays.png", seed=1)
    gone = folder / "moved-away.png"
    write_png(gone, seed=2)
    real_find = images.find_images

    def find_then_delete(root, skipped=None):
        found = real_find(root, skipped)
        gone.unlink()
        return found

    monkeypatch.setattr(images, "find_images", find_then_delete)
    return folder, gone


@dataclass(frozen=True)
class ImageCase:
    name: str  # file name (str; the non-UTF-8 case is built separately)
    write: Callable[[Path], None]
    expect: str | None  # OK, or words the error must contain


IMAGE_CASES = {
    "zero-byte": ImageCase("empty.jpg", write_zero_byte, "the file is empty (0 bytes)"),
    "truncated-jpeg": ImageCase("cut.jpg", write_truncated_jpeg, "damaged or truncated"),
    "truncated-png": ImageCase("cut.png", write_truncated_png, "damaged or truncated"),
    "random-bytes": ImageCase("noise.jpg", write_random_bytes, "not an image"),
    "text-as-jpg": ImageCase("list.jpg", write_text, "not an image"),
    "bomb-30000x30000": ImageCase("bomb.png", write_bomb_30000, "decompression bomb"),
    "bomb-12000x9000": ImageCase("big.png", write_bomb_12000, "12000x9000 is 108,000,000 pixels, over the limit"),
    "jpeg-bomb-12000x9000": ImageCase("claims-big.jpg", write_jpeg_bomb_12000,
                                      "over the limit of 100,000,000, in a file of only"),
    "photo-12000x9000": ImageCase("108mp.jpg", write_big_photo, OK),
    "1x1": ImageCase("dot.png", write_tiny, OK),
    "20000x20": ImageCase("strip.png", write_wide, OK),
    "cmyk-jpeg": ImageCase("cmyk.jpg", write_cmyk_jpeg, OK),
    "16-bit-png": ImageCase("deep.png", write_16bit_png, OK),
    "palette-transparency": ImageCase("palette.png", write_palette_transparent, OK),
    "la": ImageCase("grey-alpha.png", write_la, OK),
    "animated-gif": ImageCase("anim.gif", write_animated_gif, OK),
    "exif-rotated": ImageCase("phone.jpg", write_exif_rotated, OK),
    "webp": ImageCase("photo.webp", write_webp, OK),
    "unicode-name": ImageCase("café 日本 🙂.png", write_png, OK),
}

NON_UTF8_NAME = b"caf\xe9-latin1.png"  # a name written by a Latin-1 system: not valid UTF-8
NON_UTF8_SHOWN = "caf\ufffd-latin1.png"  # how messages print it


def make_case_folder(folder: Path, cases=IMAGE_CASES) -> dict[str, Path]:
    """Write every case into ``folder`` (plus the non-UTF-8 name); case name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, case in cases.items():
        path = folder / case.name
        case.write(path)
        paths[key] = path
    raw = os.path.join(os.fsencode(folder), NON_UTF8_NAME)
    write_png(Path(os.fsdecode(raw)), seed=9)  # surrogate-escaped str path: the bytes survive
    paths["non-utf8-name"] = Path(os.fsdecode(raw))
    return paths


# ---------------------------------------------------------------- fingerprints


def snapshot(folder: str | os.PathLike) -> dict[bytes, tuple[int, str, int]]:
    """relative path (bytes) -> (size, sha256, mtime_ns) of every file and folder under ``folder``."""
    root = os.fsencode(folder)
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = os.path.join(dirpath, name)
            out[os.path.relpath(p, root) + b"/"] = (0, "dir", os.stat(p).st_mtime_ns)
        for name in filenames:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            st = os.stat(p)
            out[os.path.relpath(p, root)] = (st.st_size, digest, st.st_mtime_ns)
    return out


# ---------------------------------------------------------------- a disk that refuses


def refuse_writes_in(monkeypatch, folder: Path, error: int) -> None:
    """Files created in ``folder`` fail as an unwritable folder (EACCES) or a full disk (ENOSPC)
    makes them fail. For ENOSPC the file is created and every write to it goes to /dev/full,
    so the error comes from the kernel, at the moment the data is written."""
    real_open = os.open

    def fake_open(path, flags, mode=0o777, *, dir_fd=None):
        target = Path(os.fsdecode(path))
        if target.parent == folder and flags & (os.O_WRONLY | os.O_RDWR):
            if error == errno.EACCES:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
            fd = real_open(path, flags, mode, dir_fd=dir_fd)
            full = real_open("/dev/full", os.O_WRONLY)
            os.dup2(full, fd)
            os.close(full)
            return fd
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", fake_open)


# ---------------------------------------------------------------- the window


def drop(window, paths) -> None:
    """A drag-enter and a drop of ``file:`` URLs onto ``window``, as a file manager sends them:
    the name's bytes %-escaped (so a name that is not UTF-8 arrives as it is on disk)."""
    from urllib.parse import quote_from_bytes

    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromEncoded(b"file://" + quote_from_bytes(os.fsencode(p)).encode("ascii")) for p in paths])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(QPoint(int(pos.x()), int(pos.y())), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def write_class_folder(root: Path, counts: dict[str, int], size: int = 64, seed: int = 0) -> Path:
    """``root/<class>/<class>-NNN.png`` with ``counts[class]`` images each; classes differ in colour."""
    rng = np.random.default_rng(seed)
    for c, (name, n) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        base = np.array([(200, 40, 40), (40, 200, 60), (50, 70, 230), (200, 200, 40)][c % 4], dtype=np.int16)
        for i in range(n):
            arr = np.clip(base + rng.integers(-40, 40, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(arr).save(folder / f"{name}-{i:03d}.png")
    return root
