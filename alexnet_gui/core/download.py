"""Download a weights file with progress, cancel and a hash check.

The bytes stream into a temp file next to ``dest`` (``files.write_atomically``)
while being hashed; only a complete file whose SHA-256 matches is renamed to
``dest``. On cancel, error or hash mismatch the temp file is removed, so an
interrupted download never leaves a half file where the app would find it.
No torch here: the default destination, torch hub's cache, is asked for only
when no ``dest`` is given.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from .files import write_atomically
from .weights_info import IMAGENET_SHA256_PREFIX, IMAGENET_URL, DownloadCancelled, WeightsError, os_error_cause

CHUNK_BYTES = 1 << 20  # one progress report and one cancel check per MiB

Progress = Callable[[int, int | None], None]


def download_weights(
    dest: Path | None = None,
    url: str = IMAGENET_URL,
    expected_sha256_prefix: str | None = IMAGENET_SHA256_PREFIX,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch ``url`` into ``dest`` (default: torch hub's cache) and return ``dest``.

    ``progress(bytes_done, total_or_None)`` is called once before the first
    chunk and after every chunk; ``cancelled()`` is checked before every chunk.
    Raises DownloadCancelled, or WeightsError for network, disk and hash errors.
    """
    if dest is None:
        from .weights import hub_cache_path  # torch's hub folder: only torch knows where it is

        dest = hub_cache_path()
    dest = Path(dest)
    name = dest.name
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WeightsError(f"{name}: cannot write to {dest.parent} ({os_error_cause(e)})") from e

    def fetch(out: BinaryIO) -> None:
        sha256 = _stream(url, out, name, dest, progress, cancelled, timeout)
        if expected_sha256_prefix and not sha256.startswith(expected_sha256_prefix.lower()):
            raise WeightsError(
                f"{name}: downloaded file is corrupt (SHA-256 starts {sha256[: len(expected_sha256_prefix)]}, "
                f"expected {expected_sha256_prefix.lower()}); nothing was saved"
            )

    try:
        write_atomically(dest, fetch)
    except OSError as e:  # creating or writing the temp file, or the rename
        raise WeightsError(f"{name}: could not save the download ({os_error_cause(e)})") from e
    return dest


def _stream(
    url: str,
    out: BinaryIO,
    name: str,
    dest: Path,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    timeout: float,
) -> str:
    """Copy the response body into ``out``; returns its SHA-256 hex digest."""
    digest = hashlib.sha256()
    try:
        response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - https by default; tests use loopback http
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        raise _network_error(name, url, dest, e) from e

    with response:
        total = _content_length(response)
        done = 0
        if progress is not None:
            progress(done, total)
        while True:
            if cancelled is not None and cancelled():
                raise DownloadCancelled(f"{name}: download cancelled; nothing was saved")
            try:
                chunk = response.read(CHUNK_BYTES)
            except (http.client.HTTPException, OSError) as e:
                raise _network_error(name, url, dest, e) from e
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)

    # urllib returns b"" rather than raising when the server hangs up early.
    if total is not None and done != total:
        cause = f"connection closed after {done} of {total} bytes"
        raise WeightsError(f"{name}: download failed ({cause}). {_hint(dest)}")
    return digest.hexdigest()


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None and int(value) >= 0 else None
    except ValueError:
        return None


def _network_error(name: str, url: str, dest: Path, e: BaseException) -> WeightsError:
    host = urlsplit(url).hostname or url
    if isinstance(e, urllib.error.HTTPError):
        cause = f"HTTP {e.code} {e.reason}"
    elif isinstance(e, urllib.error.URLError):
        cause = str(e.reason)
    elif isinstance(e, TimeoutError):
        cause = "timed out"
    elif isinstance(e, OSError):
        cause = e.strerror or str(e) or type(e).__name__
    else:
        cause = str(e) or type(e).__name__
    cause = " ".join(cause.split())  # keep it on one line
    return WeightsError(f"{name}: could not download from {host} ({cause}). {_hint(dest)}")


def _hint(dest: Path) -> str:
    return f"Put the file at {dest} or pass --weights PATH."

