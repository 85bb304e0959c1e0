"""Downloading weights from a loopback server: progress, cancel, hash check, no half files."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import socket
from pathlib import Path

import pytest
import torch
from loopback import BytesHandler, Reply, cut, serving

from alexnet_gui.core.download import CHUNK_BYTES, download_weights
from alexnet_gui.core.weights import DownloadCancelled, WeightsError, hub_cache_path, load_weights, resolve_weights


@pytest.fixture(autouse=True)
def isolated_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)


@pytest.fixture(scope="module")
def payload() -> bytes:
    """A small seeded weights file (a 200-class head, ~3.3 MB: several chunks)."""
    g = torch.Generator().manual_seed(0)
    buf = io.BytesIO()
    torch.save({"classifier.6.weight": torch.randn(200, 4096, generator=g), "classifier.6.bias": torch.zeros(200)}, buf)
    data = buf.getvalue()
    assert len(data) > 3 * CHUNK_BYTES
    return data


@pytest.fixture(scope="module")
def server(payload):
    flipped = bytearray(payload)
    flipped[len(payload) // 2] ^= 0xFF
    routes = {"/weights.pth": payload, "/corrupt.pth": bytes(flipped), "/cut.pth": cut(payload),
              "/nolength.pth": Reply(payload, None)}
    with serving(BytesHandler, routes=routes) as (_httpd, url):
        yield url


@pytest.fixture
def prefix(payload) -> str:
    return hashlib.sha256(payload).hexdigest()[:8]


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_reports_progress_and_writes_the_verified_file(tmp_path, server, payload, prefix):
    dest = tmp_path / "new" / "w.pth"  # the folder is created
    seen: list[tuple[int, int | None]] = []
    result = download_weights(dest, url=f"{server}/weights.pth", expected_sha256_prefix=prefix,
                              progress=lambda done, total: seen.append((done, total)))
    assert result == dest
    assert dest.read_bytes() == payload
    assert _listing(dest.parent) == ["w.pth"]

    assert seen[0] == (0, len(payload)) and seen[-1] == (len(payload), len(payload))
    assert len(seen) >= 4
    done = [d for d, _ in seen]
    assert done == sorted(done)
    assert load_weights(dest).num_classes == 200


def test_default_destination_is_the_hub_cache_which_resolve_then_finds(server, payload, prefix):
    path = download_weights(url=f"{server}/weights.pth", expected_sha256_prefix=prefix)
    assert path == hub_cache_path()
    assert resolve_weights() == path
    assert path.read_bytes() == payload


def test_without_content_length_progress_has_no_total(tmp_path, server, payload, prefix):
    seen = []
    download_weights(tmp_path / "w.pth", url=f"{server}/nolength.pth", expected_sha256_prefix=prefix,
                     progress=lambda done, total: seen.append(total))
    assert set(seen) == {None}
    assert (tmp_path / "w.pth").read_bytes() == payload


def test_a_corrupted_byte_is_rejected_and_nothing_is_saved(tmp_path, server, prefix):
    with pytest.raises(WeightsError, match=f"w.pth: downloaded file is corrupt .*expected {prefix}"):
        download_weights(tmp_path / "w.pth", url=f"{server}/corrupt.pth", expected_sha256_prefix=prefix)
    assert _listing(tmp_path) == []


def test_a_corrupted_byte_never_replaces_an_existing_file(tmp_path, server, prefix):
    dest = tmp_path / "w.pth"
    dest.write_bytes(b"the good old file")
    with pytest.raises(WeightsError, match="corrupt"):
        download_weights(dest, url=f"{server}/corrupt.pth", expected_sha256_prefix=prefix)
    assert dest.read_bytes() == b"the good old file"
    assert _listing(tmp_path) == ["w.pth"]


def test_no_expected_hash_skips_the_check(tmp_path, server):
    download_weights(tmp_path / "w.pth", url=f"{server}/corrupt.pth", expected_sha256_prefix=None)
    assert (tmp_path / "w.pth").exists()


def test_cancel_mid_download_leaves_no_file(tmp_path, server, payload, prefix):
    seen = []
    with pytest.raises(DownloadCancelled, match="w.pth: download cancelled"):
        download_weights(tmp_path / "w.pth", url=f"{server}/weights.pth", expected_sha256_prefix=prefix,
                         progress=lambda done, total: seen.append(done), cancelled=lambda: len(seen) >= 2)
    assert 0 < seen[-1] < len(payload)
    assert _listing(tmp_path) == []
    assert issubclass(DownloadCancelled, WeightsError)


def test_server_hanging_up_halfway_leaves_no_file(tmp_path, server, payload, prefix):
    with pytest.raises(WeightsError, match=f"connection closed after {len(payload) // 2} of {len(payload)} bytes"):
        download_weights(tmp_path / "w.pth", url=f"{server}/cut.pth", expected_sha256_prefix=prefix)
    assert _listing(tmp_path) == []


def test_http_error_is_one_line_with_a_hint(tmp_path, server):
    with pytest.raises(WeightsError) as err:
        download_weights(tmp_path / "w.pth", url=f"{server}/missing.pth", expected_sha256_prefix=None)
    message = str(err.value)
    assert message.startswith("w.pth: could not download from 127.0.0.1 (HTTP 404")
    assert "--weights" in message and str(tmp_path / "w.pth") in message and "\n" not in message
    assert _listing(tmp_path) == []


def test_refused_connection_is_reported(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(WeightsError, match="w.pth: could not download from 127.0.0.1 .*--weights"):
        download_weights(tmp_path / "w.pth", url=f"http://127.0.0.1:{port}/w.pth", timeout=5)
    assert _listing(tmp_path) == []


def test_refused_rename_leaves_no_file(tmp_path, server, prefix, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WeightsError, match="w.pth: could not save the download \\(permission denied\\)"):
        download_weights(tmp_path / "w.pth", url=f"{server}/weights.pth", expected_sha256_prefix=prefix)
    assert _listing(tmp_path) == []


def test_disk_full_while_writing_leaves_no_file(tmp_path, server, prefix, monkeypatch):
    real_fdopen = os.fdopen

    class Full(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: Full(real_fdopen(fd, mode, *a, buffering=0)))
    with pytest.raises(WeightsError, match="w.pth: could not save the download \\(disk full\\)"):
        download_weights(tmp_path / "w.pth", url=f"{server}/weights.pth", expected_sha256_prefix=prefix)
    assert _listing(tmp_path) == []
