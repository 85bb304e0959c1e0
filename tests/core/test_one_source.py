"""Things the app does in one place, checked through every path that uses them, so a
second copy that drifts shows here: the image suffixes, the folder walk, the pixel
limit's message, building a model from weights, decoding ahead."""

from __future__ import annotations

import struct
import threading
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image

from alexnet_gui.core.finetune import scan_folder
from alexnet_gui.core.images import (
    IMAGE_EXTENSIONS,
    IMAGE_GLOBS,
    IMAGE_SUFFIXES,
    ImageLoadError,
    expand_paths,
    find_images,
    load_image,
)
from alexnet_gui.core.model import AlexNet, model_from_state_dict
from alexnet_gui.core.prefetch import prepared_ahead
from alexnet_gui.ui.classify.drop_contents import collect
from alexnet_gui.ui.classify.early_classify import single_image

CORE = Path(__file__).resolve().parents[2] / "alexnet_gui" / "core"
MODES = {".pbm": "1", ".pgm": "L"}  # Netpbm's bitmap and greymap; every other suffix takes RGB


def _write_every_suffix(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, suffix in enumerate(IMAGE_SUFFIXES):
        path = folder / f"img{i:02d}{suffix.upper() if i % 2 else suffix}"  # case does not matter
        Image.new(MODES.get(suffix, "RGB"), (70, 70), 1 if suffix == ".pbm" else (i * 20) % 256).save(path)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- image suffixes


def test_the_suffix_list_includes_netpbm_bitmaps_and_its_globs_match_it():
    assert ".pbm" in IMAGE_SUFFIXES and len(set(IMAGE_SUFFIXES)) == len(IMAGE_SUFFIXES)
    assert set(IMAGE_SUFFIXES) == IMAGE_EXTENSIONS
    assert IMAGE_GLOBS.split() == [f"*{s}" for s in IMAGE_SUFFIXES]  # what a file dialog filters on


def test_every_suffix_is_taken_by_the_drop_the_drag_the_cli_and_the_fine_tune_scan(tmp_path):
    paths = _write_every_suffix(tmp_path / "set" / "a")
    _write_every_suffix(tmp_path / "set" / "b")
    (tmp_path / "set" / "a" / "notes.txt").write_text("not an image")
    (tmp_path / "set" / "a" / "logo.svg").write_text("<svg/>")
    names = sorted(p.name for p in paths)

    assert sorted(p.name for p in find_images(tmp_path / "set" / "a")) == names
    assert sorted(Path(f).name for f in collect([tmp_path / "set" / "a"]).files) == names  # a dropped folder
    assert sorted(p.name for p in expand_paths([tmp_path / "set" / "a"])) == names  # alexnet-cli classify DIR
    assert all(single_image([str(p)]) for p in paths)  # one file dragged over the window
    assert single_image([str(tmp_path / "set" / "a" / "notes.txt")]) is None

    report = scan_folder(tmp_path / "set")
    in_a = sorted(Path(e.path).name for e in report.images if e.label == 0)
    assert in_a == names
    assert sorted(Path(s.path).name for s in report.skipped) == ["logo.svg", "notes.txt"]
    for path in paths:
        load_image(path)  # and each one opens


# ---------------------------------------------------------------- the folder walk


def test_a_dropped_folder_and_a_fine_tune_scan_walk_a_tree_alike(tmp_path):
    root = tmp_path / "pets"
    for rel in ("cats/a.png", "cats/deep/er/b.png", "cats/.hidden.png", "cats/.cache/c.png", "cats/zz/d.png",
                "dogs/e.png", "dogs/ü-ñ.png"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (70, 70), (len(rel) * 9 % 256, 0, 0)).save(path)

    dropped = [str(p) for p in find_images(root)]
    report = scan_folder(root)
    scanned = sorted(e.path for e in report.images)
    assert dropped == scanned
    assert not any("/." in p for p in dropped)
    assert len(dropped) == 5


# ---------------------------------------------------------------- the pixel limit


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("size", "reason"), [
    ((12000, 9000), "12000x9000 is 108,000,000 pixels, over the limit of 100,000,000 (a possible decompression bomb)"),
    # Past Pillow's own guard, which refuses at open, before the size can be read.
    ((90000, 90000), "8,100,000,000 pixels, over the limit of 100,000,000 (a possible decompression bomb)"),
])
def test_an_image_over_the_pixel_limit_gets_one_message_when_classified_and_when_scanned(tmp_path, size, reason):
    for label in ("big", "small"):
        (tmp_path / "set" / label).mkdir(parents=True)
    for i in range(2):
        Image.new("RGB", (70, 70)).save(tmp_path / "set" / "small" / f"{i}.png")
        Image.new("RGB", (70, 70)).save(tmp_path / "set" / "big" / f"{i}.png")
    path = tmp_path / "set" / "big" / "huge.png"
    path.write_bytes(_png_header_only(*size))

    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert str(info.value) == f"huge.png: {reason}"
    (skipped,) = scan_folder(tmp_path / "set").skipped
    assert (Path(skipped.path).name, skipped.error) == ("huge.png", reason)


# ---------------------------------------------------------------- building a model from weights


def test_a_model_from_a_state_dict_is_a_strict_eval_mode_copy_on_the_cpu_drawing_no_random_numbers(seeded_model):
    state = seeded_model.state_dict()
    rng_before = torch.random.get_rng_state()
    model = model_from_state_dict(state, 1000)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # nothing was randomly initialised
    assert isinstance(model, AlexNet) and not model.training
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key])
        assert value.data_ptr() != state[key].data_ptr()  # a copy: training it leaves the source alone
    with pytest.raises(RuntimeError, match="classifier.6.weight"):
        model_from_state_dict(state, 10)


def test_only_the_model_module_builds_alexnet_on_the_meta_device():
    builders = sorted(str(p.relative_to(CORE)) for p in CORE.rglob("*.py")
                      if 'device("meta")' in p.read_text(encoding="utf-8"))
    assert builders == ["model.py"]


# ---------------------------------------------------------------- decoding ahead


def test_decoding_ahead_keeps_order_runs_on_one_helper_and_stops_early_when_left():
    threads: list[str] = []
    started: list[int] = []
    release = threading.Event()

    def work(i: int) -> int:
        started.append(i)
        threads.append(threading.current_thread().name)
        if i == 2:
            release.wait(10)  # hold the helper so the items behind it are still queued
        return i * i

    with prepared_ahead(work, range(8), ahead=2, name="test-decode") as results:
        assert [next(results), next(results)] == [0, 1]
    release.set()
    assert all(t.startswith("test-decode") for t in threads)
    assert started[:2] == [0, 1] and max(started) <= 2  # leaving the block dropped the items still queued
    with prepared_ahead(work, range(5)) as results:
        assert list(results) == [0, 1, 4, 9, 16]
    with prepared_ahead(work, [7]) as results:  # one item: no helper thread
        before = len(threads)
        assert list(results) == [49]
        assert threads[before:] == [threading.current_thread().name]
