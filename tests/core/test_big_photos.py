"""A photo bigger than the pixel limit (a 12000x9000 JPEG, 108 MP, as some phone cameras
save) is decoded at a reduced scale and classified, with memory bounded, in the CLI and in
the window's code path alike; a PNG that big and a file that only claims the size (a
decompression bomb) are still refused."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_gui import cli
from alexnet_gui.core.images import MAX_PIXELS, ImageLoadError, load_image
from alexnet_gui.core.preprocess import normalized_batch, resized_crop
from alexnet_gui.core.thumbnails import PREVIEW_SIZE, THUMBNAIL_SIZE, fit

ROOT = Path(__file__).resolve().parents[2]
BIG = (12000, 9000)


def smooth(width: int, height: int) -> Image.Image:
    """Gradients in three channels, scaled up: a picture with no detail finer than the
    model sees, so a reduced decode and a full one should agree."""
    small = Image.merge("RGB", (Image.linear_gradient("L").resize((400, 300)),
                                Image.linear_gradient("L").rotate(90).resize((400, 300)),
                                Image.radial_gradient("L").resize((400, 300))))
    return small.resize((width, height), Image.Resampling.BICUBIC)


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "phone photo.jpg"
    smooth(*BIG).save(path, quality=90)
    assert BIG[0] * BIG[1] > MAX_PIXELS
    return path


def full_decode(path: Path) -> Image.Image:
    """What a program without a pixel limit decodes: every pixel."""
    with Image.open(path) as img:
        assert img.size == BIG
        return img.convert("RGB")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small, real JPEG whose frame header is changed to claim width x height: the
    file is a few hundred bytes, the header promises a huge image."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_a_108_mp_jpeg_is_decoded_at_one_eighth_and_classifies_like_a_full_decode(big_jpeg, seeded_model):
    img = load_image(big_jpeg)
    # the largest reduction that keeps the shorter side at least 256: 1/8
    assert img.size == (1500, 1125) and img.mode == "RGB"

    full = full_decode(big_jpeg)
    reduced_crop, full_crop = resized_crop(img), resized_crop(full)  # (224, 224, 3) uint8 each
    # The decoder's own 1/8 scaling and a full decode + resize differ by rounding only.
    assert np.abs(reduced_crop.astype(int) - full_crop.astype(int)).max() <= 2  # of 255 levels
    with torch.no_grad():
        reduced_logits, full_logits = seeded_model(normalized_batch([reduced_crop, full_crop]))
    assert reduced_logits.argmax() == full_logits.argmax()
    scale = full_logits.abs().max()
    assert (reduced_logits - full_logits).abs().max() <= 0.01 * scale


@pytest.mark.skipif(sys.platform == "win32", reason="peak memory read with the resource module")
def test_decoding_the_108_mp_jpeg_holds_a_fraction_of_its_full_size(big_jpeg):
    # A full decode holds 12000 x 9000 x 4 bytes = 432 MB at once; measured in a fresh
    # process, whose peak resident memory says what the decode (and the window's two
    # pictures of it) needed at most.
    script = (
        "import resource, sys\n"
        "from alexnet_gui.core.images import load_image\n"
        "from alexnet_gui.core.thumbnails import fit\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "img = load_image(sys.argv[1]); fit(img, 64); fit(img, 640)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "unit = 1 if sys.platform == 'darwin' else 1024\n"
        "print((after - before) * unit)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(big_jpeg)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    grown = int(out.stdout.strip())
    assert grown < 100_000_000, f"peak memory grew by {grown / 1e6:.0f} MB"


def test_the_window_gets_its_thumbnail_and_preview_of_the_big_photo(big_jpeg):
    # The worker's pictures job: load_image, then fit() for the list and the large preview.
    img = load_image(big_jpeg)
    thumb, preview = fit(img, THUMBNAIL_SIZE), fit(img, PREVIEW_SIZE)
    assert thumb.shape == (48, 64, 3) and preview.shape == (480, 640, 3)
    reference = np.asarray(full_decode(big_jpeg).resize((640, 480), Image.Resampling.BOX))
    assert np.abs(preview.astype(int) - reference.astype(int)).mean() < 2  # the same picture


def test_cli_classifies_the_big_photo(big_jpeg, seeded_weights, capsys):
    code = cli.main(["classify", str(big_jpeg), "--weights", str(seeded_weights), "--device", "cpu", "--json"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    (entry,) = json.loads(out)
    assert entry["path"] == str(big_jpeg) and "error" not in entry
    assert len(entry["top"]) == 5


def test_a_big_photo_turned_by_exif_is_upright(tmp_path):
    # Phones store the sensor's landscape pixels and an EXIF orientation; the reduced
    # decode is turned like a full one.
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    path = tmp_path / "portrait.jpg"
    smooth(*BIG).save(path, quality=80, exif=exif.tobytes())
    assert load_image(path).size == (1125, 1500)


def test_the_largest_reduction_that_keeps_256_pixels_is_chosen(tmp_path):
    path = tmp_path / "photo.jpg"
    smooth(2400, 1800).save(path, quality=90)
    # 1/8 would leave 225 pixels on the shorter side: 1/4 it is
    assert load_image(path, max_pixels=1_000_000).size == (600, 450)
    assert load_image(path).size == (2400, 1800)  # within the limit: every pixel, as before


def test_a_jpeg_no_reduction_fits_is_refused(tmp_path):
    path = tmp_path / "photo.jpg"
    smooth(2400, 1800).save(path, quality=90)
    with pytest.raises(ImageLoadError) as info:
        load_image(path, max_pixels=100_000)  # 1/4 is still too big, 1/8 too small
    assert str(info.value) == ("photo.jpg: 2400x1800 is 4,320,000 pixels, over the limit of 100,000 "
                               "(a possible decompression bomb)")


def test_a_real_108_mp_png_is_still_refused(tmp_path):
    # PNG has no reduced decode: its 108 MP would all be decoded.
    path = tmp_path / "scan.png"
    Image.new("1", BIG, 1).save(path)
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert str(info.value) == ("scan.png: 12000x9000 is 108,000,000 pixels, over the limit of 100,000,000 "
                               "(a possible decompression bomb)")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, on opening 4 GP
@pytest.mark.parametrize("size", [BIG, (65535, 65535)])
def test_a_tiny_jpeg_claiming_a_huge_size_is_refused_as_a_bomb(tmp_path, size):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(jpeg_claiming(*size))
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    message = str(info.value)
    assert message.startswith(f"bomb.jpg: {size[0]}x{size[1]} is {size[0] * size[1]:,} pixels, over the limit")
    assert f"in a file of only {path.stat().st_size:,} bytes (a possible decompression bomb)" in message


def test_a_fine_tune_folder_takes_the_big_photo_and_still_skips_a_bomb(big_jpeg, tmp_path):
    # The fine-tune's scan checks every file before training: the phone photo is an image
    # like any other there too, the tiny file claiming 108 MP is skipped with its reason.
    import shutil

    from alexnet_gui.core.finetune.dataset import scan_folder

    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        for i in range(3):
            smooth(64, 48).save(tmp_path / name / f"{i}.png")
    shutil.copy(big_jpeg, tmp_path / "cats" / "phone photo.jpg")
    (tmp_path / "dogs" / "bomb.jpg").write_bytes(jpeg_claiming(*BIG))

    report = scan_folder(tmp_path)
    assert report.counts == {"cats": 4, "dogs": 3}
    (skipped,) = report.skipped
    assert Path(skipped.path).name == "bomb.jpg"
    assert "a possible decompression bomb" in skipped.error
