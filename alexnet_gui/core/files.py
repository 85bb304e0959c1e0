"""Writing a file so that a crash never leaves half of it: temp file, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

_UNFINISHED: set[str] = set()  # temp files of writes in progress, in every thread
_UNFINISHED_LOCK = threading.Lock()


def write_atomically(path: str | os.PathLike, write: Callable[[IO], None], *, text: bool = False,
                     fsync: bool = True) -> Path:
    """Call ``write(f)`` on ``.<name>.<random>.part`` next to ``path``, then rename it over ``path``.

    On any failure the temp file is removed, the previous file at ``path`` is
    untouched, and the exception propagates as raised. ``fsync`` makes the data
    (and the rename) durable before returning; caches that can be rebuilt skip it.
    ``text`` opens the temp file as UTF-8 text with universal newlines off (for csv).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    with _UNFINISHED_LOCK:
        _UNFINISHED.add(tmp)
    try:
        mode = {"mode": "w", "newline": "", "encoding": "utf-8"} if text else {"mode": "wb"}
        with os.fdopen(fd, **mode) as f:
            write(f)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        with _UNFINISHED_LOCK:
            _UNFINISHED.discard(tmp)
    if fsync:
        _fsync_dir(path.parent)
    return path


def remove_unfinished() -> int:
    """Delete the temp files of the writes still in progress (for a process about to end at
    once, without unwinding: nothing half-written stays behind); how many there were."""
    with _UNFINISHED_LOCK:
        pending = list(_UNFINISHED)
    for tmp in pending:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return len(pending)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, so best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


Stamp = tuple[int, int]  # (size, mtime_ns)


def file_stamp(path: str | os.PathLike) -> Stamp | None:
    """What says a file is unchanged since: its size and modification time (None: unreadable)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns
