"""Property: load_image returns an RGB image or raises ImageLoadError, whatever
the bytes on disk are."""

from __future__ import annotations

import atexit
import io
import itertools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from alexnet_gui.core.images import ImageLoadError, load_image

HEADERS = [
    b"",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",  # JPEG
    b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00MM\x00*",  # JPEG with EXIF
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
    b"P6\n",
    b"P5\n4 4\n65535\n",
]

MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16", "I", "F"]
FORMATS = {  # format -> modes it can save
    "PNG": {"RGB", "RGBA", "L", "LA", "P", "1", "I;16"},
    "JPEG": {"RGB", "L", "CMYK"},
    "GIF": {"P", "L", "RGB"},
    "BMP": {"RGB", "L", "P", "1"},
    "TIFF": {"RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16", "I", "F"},
    "WEBP": {"RGB", "RGBA"},
}
FORMAT_MODES = sorted((f, m) for f, modes in FORMATS.items() for m in modes)
SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp"}

# Pillow warns about the corrupt metadata it skips; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

_counter = itertools.count()
_workdir = Path(tempfile.mkdtemp(prefix="image-fuzz-"))
atexit.register(shutil.rmtree, _workdir, True)


def _check(data: bytes, suffix: str) -> None:
    path = _workdir / f"case{next(_counter)}{suffix}"
    path.write_bytes(data)
    try:
        img = load_image(path)
    except ImageLoadError as exc:
        assert path.name in str(exc)
    else:
        assert img.mode == "RGB"
        assert img.width >= 1 and img.height >= 1
        img.tobytes()  # the pixels really are there
    finally:
        path.unlink()


def _make(mode: str, width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    if mode == "I":
        return Image.fromarray(rng.integers(-(2**31), 2**31 - 1, (height, width), dtype=np.int32), "I")
    if mode == "F":
        return Image.fromarray(rng.standard_normal((height, width)).astype(np.float32) * 1e3, "F")
    rgba = Image.fromarray(rng.integers(0, 256, (height, width, 4), dtype=np.uint8), "RGBA")
    return rgba.convert(mode) if mode != "RGBA" else rgba


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    header=st.sampled_from(HEADERS),
    body=st.binary(max_size=2048),
    suffix=st.sampled_from([".jpg", ".png", ".gif", ".webp", ".tif", ".bmp", ".ppm"]),
)
def test_random_bytes_never_escape_as_another_exception(header, body, suffix):
    _check(header + body, suffix)


@SETTINGS
@given(
    format_mode=st.sampled_from(FORMAT_MODES),
    width=st.integers(1, 80),
    height=st.integers(1, 80),
    seed=st.integers(0, 2**16),
    cut=st.one_of(st.none(), st.floats(0.0, 1.0)),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 255)), max_size=4),
)
def test_real_images_intact_cut_or_corrupted(format_mode, width, height, seed, cut, flips):
    fmt, mode = format_mode
    buf = io.BytesIO()
    _make(mode, width, height, seed).save(buf, format=fmt)
    data = bytearray(buf.getvalue())
    intact = cut is None and not flips
    if cut is not None:
        data = data[: int(len(data) * cut)]
    for where, value in flips:
        if data:
            data[int(where * len(data))] = value
    if intact:
        path = _workdir / f"intact{next(_counter)}{SUFFIX[fmt]}"
        path.write_bytes(bytes(data))
        try:
            img = load_image(path)  # an intact file always loads
            assert img.mode == "RGB" and img.size == (width, height)
        finally:
            path.unlink()
    else:
        _check(bytes(data), SUFFIX[fmt])
