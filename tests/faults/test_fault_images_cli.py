"""Bad and odd images through `alexnet-cli classify`: every file gets a line, a bad one
names the file and the cause, the rest are still classified, nothing is modified."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from fault_inputs import IMAGE_CASES, OK, album_losing_a_file, make_case_folder, manually_upright, snapshot, write_png
from PIL import Image

from alexnet_gui.core.images import display_name

ALL_CASES = [*IMAGE_CASES, "non-utf8-name"]


@pytest.fixture(scope="module")
def case_run(tmp_path_factory, seeded_weights):
    """One `classify FOLDER REFERENCES --json` over a folder holding every case, plus
    reference files made by hand (kept outside the user's folder)."""
    from alexnet_gui.cli import main

    root = tmp_path_factory.mktemp("cli-images")
    paths = make_case_folder(root / "photos")
    refs = root / "references"
    refs.mkdir()
    upright = manually_upright(paths["exif-rotated"], refs / "phone-rotated-by-hand.png")
    with Image.open(paths["animated-gif"]) as gif:
        gif.convert("RGB").save(refs / "anim-frame0.png")  # the file is still on its first frame
    before = snapshot(root / "photos")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["classify", str(root / "photos"), str(upright), str(refs / "anim-frame0.png"),
                     "--weights", str(seeded_weights), "--device", "cpu", "--json"])
    entries = json.loads(out.getvalue())
    return {
        "code": code, "entries": {e["path"]: e for e in entries}, "order": [e["path"] for e in entries],
        "stderr": err.getvalue(), "paths": paths, "before": before, "after": snapshot(root / "photos"),
        "upright": upright, "frame0": refs / "anim-frame0.png",
    }


def test_every_file_is_reported_and_the_exit_code_says_some_failed(case_run):
    assert case_run["code"] == 1
    assert len(case_run["entries"]) == len(ALL_CASES) + 2
    assert "Traceback" not in case_run["stderr"]


@pytest.mark.parametrize("case", ALL_CASES)
def test_each_case_is_classified_or_named_with_its_cause(case_run, case):
    path = case_run["paths"][case]
    entry = case_run["entries"][str(path)]
    expect = IMAGE_CASES[case].expect if case in IMAGE_CASES else OK
    if expect is OK:
        assert "error" not in entry, entry.get("error")
        probs = [t["probability"] for t in entry["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    else:
        assert "top" not in entry
        message = entry["error"]
        assert message.startswith(f"{display_name(path)}: "), message
        assert expect in message and "\n" not in message


def test_the_users_folder_is_left_exactly_as_it_was(case_run):
    assert case_run["after"] == case_run["before"]


def test_exif_rotated_photo_is_classified_upright(case_run):
    """Same top-5 as the stored pixels rotated by hand: the model sees the picture upright."""
    entries = case_run["entries"]
    assert entries[str(case_run["paths"]["exif-rotated"])]["top"] == entries[str(case_run["upright"])]["top"]


def test_animated_gif_is_classified_on_its_first_frame(case_run):
    entries = case_run["entries"]
    assert entries[str(case_run["paths"]["animated-gif"])]["top"] == entries[str(case_run["frame0"])]["top"]


def test_unicode_and_non_utf8_names_come_back_as_given(case_run):
    # JSON round-trips the exact path, undecodable bytes included.
    assert str(case_run["paths"]["unicode-name"]) in case_run["entries"]
    raw = os.fsencode(str(case_run["paths"]["non-utf8-name"]))
    assert any(os.fsencode(p) == raw for p in case_run["order"])


def test_a_file_deleted_after_the_folder_was_listed(cli_json, tmp_path, monkeypatch):
    """The folder is expanded, then a file vanishes before it is read (another program moved it)."""
    folder, gone = album_losing_a_file(tmp_path, monkeypatch)
    code, entries, err = cli_json("classify", folder)
    assert code == 1 and "Traceback" not in err
    by_path = {e["path"]: e for e in entries}
    assert by_path[str(gone)]["error"] == "moved-away.png: the file does not exist (moved or deleted?)"
    assert len(by_path[str(folder / "stays.png")]["top"]) == 5


def test_a_folder_without_read_permission(cli_json, tmp_path, monkeypatch):
    """Tests run as root, which ignores permissions: the check the app makes is told "no"."""
    locked = tmp_path / "locked"
    locked.mkdir()
    write_png(locked / "inside.png")
    good = tmp_path / "good.png"
    write_png(good, seed=3)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked else real_access(p, mode, **kw))
    before = snapshot(tmp_path)
    code, entries, err = cli_json("classify", locked, good)
    assert code == 1 and "Traceback" not in err
    assert [e["path"] for e in entries] == [str(locked), str(good)]
    assert entries[0]["error"] == "locked: permission denied: the folder cannot be read"
    assert len(entries[1]["top"]) == 5
    assert snapshot(tmp_path) == before


def test_an_unreadable_subfolder_is_named(cli, tmp_path, monkeypatch):
    album = tmp_path / "album"
    (album / "private").mkdir(parents=True)
    write_png(album / "open.png", seed=1)
    write_png(album / "private" / "hidden.png", seed=2)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(os.fsdecode(path)) == album / "private":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = cli("classify", album)
    assert code == 1  # one entry failed; the readable image is still classified
    assert "private: the folder cannot be read" in out
    assert "open.png: " in out and "open.png: error" not in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder; the simulated variant above runs instead")
def test_a_folder_without_read_permission_for_real(cli_json, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    write_png(locked / "inside.png")
    locked.chmod(0)
    try:
        code, entries, err = cli_json("classify", locked)
    finally:
        locked.chmod(0o755)
    assert code == 1
    assert entries[0]["error"] == "locked: permission denied: the folder cannot be read"


# ---------------------------------------------------------------- a real process


@pytest.fixture(scope="module")
def real_process(tmp_path_factory, seeded_weights):
    """`python -m alexnet_gui.cli classify` in its own process, with a stdout that refuses
    what it cannot encode (as under a strict UTF-8 locale) and no CUDA device visible,
    asked for `--device cuda`."""
    folder = tmp_path_factory.mktemp("real-process")
    cases = ("unicode-name", "zero-byte", "bomb-12000x9000", "jpeg-bomb-12000x9000", "photo-12000x9000")
    paths = make_case_folder(folder, {k: IMAGE_CASES[k] for k in cases})
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict", CUDA_VISIBLE_DEVICES="", QT_QPA_PLATFORM="offscreen",
               TORCH_HOME=str(folder / "torch"), XDG_CACHE_HOME=str(folder / "cache"))
    env.pop("PYTHONUTF8", None)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "alexnet_gui.cli", "classify", str(folder), "--weights", str(seeded_weights),
         "--device", "cuda"],
        cwd=root, env=env, capture_output=True, timeout=180,
    )
    return proc, paths


def test_real_process_prints_every_name_without_a_traceback(real_process):
    proc, paths = real_process
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    assert "Traceback" not in err and "Warning" not in err  # no Python noise around the messages
    assert proc.returncode == 1  # the empty file and the bombs failed, the rest were classified
    lines = out.splitlines()
    assert len(lines) == 6
    assert any(line.startswith(f"{paths['unicode-name']}: ") and "%" in line for line in lines)
    # the undecodable byte is shown as the escape that names it, never as a crash
    non_utf8 = os.fsdecode(paths["non-utf8-name"]).encode("utf-8", "backslashreplace").decode("ascii")
    assert any(line.startswith(f"{non_utf8}: ") and "%" in line for line in lines)
    assert f"{paths['zero-byte']}: error: empty.jpg: the file is empty (0 bytes)" in lines
    assert f"{paths['bomb-12000x9000']}: error: big.png: 12000x9000 is 108,000,000 pixels, over the limit of " \
           "100,000,000 (a possible decompression bomb)" in lines
    jpeg_bomb = paths["jpeg-bomb-12000x9000"]
    assert f"{jpeg_bomb}: error: claims-big.jpg: 12000x9000 is 108,000,000 pixels, over the limit of " \
           f"100,000,000, in a file of only {jpeg_bomb.stat().st_size:,} bytes (a possible decompression bomb)" in lines
    # a photo of the same size is decoded at 1/8 and classified
    assert any(line.startswith(f"{paths['photo-12000x9000']}: ") and "%" in line for line in lines)


def test_cuda_missing_gives_a_note_and_cpu_results(real_process):
    proc, _ = real_process
    err = proc.stderr.decode("utf-8")
    assert "note: CUDA is not available on this machine; using the CPU" in err
    assert proc.stdout.count(b"%") >= 10  # two images classified on the CPU
