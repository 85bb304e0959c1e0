"""Video files for the camera tests and benchmark: an MJPEG AVI written here, frame by frame,
with Pillow's JPEG encoder (every FFmpeg build plays it; no encoder is needed)."""

from __future__ import annotations

import io
import struct
from pathlib import Path


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _list(kind: bytes, payload: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", len(payload) + 4) + kind + payload


def write_mjpeg_avi(path: Path, frames, fps: int = 30, quality: int = 90) -> Path:
    """``frames``: PIL images of one size. Returns ``path``."""
    jpegs = []
    for image in frames:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
        jpegs.append(buffer.getvalue())
    w, h = frames[0].size
    n, biggest = len(jpegs), max(len(j) for j in jpegs)
    avih = struct.pack("<10I4I", round(1e6 / fps), biggest * fps, 0, 0x10, n, 0, 1, biggest, w, h, 0, 0, 0, 0)
    strh = struct.pack("<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0, 1, fps, 0, n, biggest,
                       0xFFFFFFFF, 0, 0, 0, w, h)
    strf = struct.pack("<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0)
    header = _list(b"hdrl", _chunk(b"avih", avih) + _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf)))
    movie, index, offset = [], [], 4
    for j in jpegs:
        chunk = _chunk(b"00dc", j)
        index.append(struct.pack("<4sIII", b"00dc", 0x10, offset, len(j)))
        offset += len(chunk)
        movie.append(chunk)
    body = b"AVI " + header + _list(b"movi", b"".join(movie)) + _chunk(b"idx1", b"".join(index))
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)
