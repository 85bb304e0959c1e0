"""Whatever file a user drops: an upright RGB image, or an ImageLoadError that
names the file and the cause."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_gui.core import images as images_module
from alexnet_gui.core.images import MAX_PIXELS, ImageLoadError, expand_paths, find_images, is_image_path, load_image, to_rgb


def _rgb(img: Image.Image) -> np.ndarray:
    assert img.mode == "RGB"
    return np.asarray(img)


def _load_error(path) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    exc = info.value
    # the message names the file (undecodable bytes shown as U+FFFD) and can
    # be printed on any UTF-8 stream
    name = os.fsencode(Path(os.fsdecode(path)).name).decode("utf-8", "replace")
    assert str(exc).startswith(f"{name}: ")
    assert exc.reason and exc.reason in str(exc)
    str(exc).encode("utf-8")
    return exc


# ---------------------------------------------------------------- modes


def test_rgb_png_round_trips_exactly(make_image, random_image):
    path = make_image("rgb.png", (40, 30))
    assert np.array_equal(_rgb(load_image(path)), np.asarray(random_image(40, 30)))


def test_grayscale_becomes_grey_rgb(make_image):
    path = make_image("grey.png", (32, 16), mode="L")
    out = _rgb(load_image(path))
    grey = np.asarray(Image.open(path))
    assert out.shape == (16, 32, 3)
    for c in range(3):
        assert np.array_equal(out[..., c], grey)


def test_one_bit_image(tmp_path):
    img = Image.new("1", (8, 4), 0)
    img.putpixel((2, 1), 1)
    img.save(tmp_path / "bits.png")
    out = _rgb(load_image(tmp_path / "bits.png"))
    assert tuple(out[1, 2]) == (255, 255, 255)
    assert tuple(out[0, 0]) == (0, 0, 0)


def test_palette_image_uses_its_colours(tmp_path):
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 200, 30, 10] + [0] * 762)
    img.save(tmp_path / "pal.png")
    assert Image.open(tmp_path / "pal.png").mode == "P"
    out = _rgb(load_image(tmp_path / "pal.png"))
    assert tuple(out[3, 3]) == (200, 30, 10)


def test_palette_with_transparency_is_flattened_onto_white(tmp_path):
    img = Image.new("P", (6, 6), 1)
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    img.putpixel((0, 0), 2)
    img.save(tmp_path / "palt.png", transparency=1)
    out = _rgb(load_image(tmp_path / "palt.png"))
    assert tuple(out[3, 3]) == (255, 255, 255)  # transparent red -> white background
    assert tuple(out[0, 0]) == (0, 0, 255)


def test_rgba_is_flattened_onto_white(tmp_path):
    arr = np.zeros((4, 4, 4), np.uint8)
    arr[..., 0] = 255  # red everywhere
    arr[0, 0, 3] = 255  # opaque at (0, 0)
    arr[1, 1, 3] = 128  # half transparent at (1, 1)
    Image.fromarray(arr, "RGBA").save(tmp_path / "rgba.png")
    out = _rgb(load_image(tmp_path / "rgba.png"))
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[3, 3]) == (255, 255, 255)
    assert out[1, 1, 0] == 255 and 120 <= out[1, 1, 1] <= 135


def test_grey_with_alpha(tmp_path):
    Image.new("LA", (5, 5), (40, 0)).save(tmp_path / "la.png")
    out = _rgb(load_image(tmp_path / "la.png"))
    assert tuple(out[2, 2]) == (255, 255, 255)
    Image.new("LA", (5, 5), (40, 255)).save(tmp_path / "la2.png")
    assert tuple(_rgb(load_image(tmp_path / "la2.png"))[2, 2]) == (40, 40, 40)


def test_cmyk_jpeg(tmp_path):
    img = Image.new("CMYK", (32, 32), (0, 0, 0, 0))  # white
    img.paste((255, 0, 0, 0), (0, 0, 16, 32))  # cyan on the left half
    img.save(tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    out = _rgb(load_image(tmp_path / "cmyk.jpg")).astype(int)
    assert np.abs(out[16, 4] - (0, 255, 255)).max() <= 8
    assert np.abs(out[16, 28] - (255, 255, 255)).max() <= 8


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 256).round().astype(np.uint16)
    Image.fromarray(np.tile(ramp, (4, 1))).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I;16")
    out = _rgb(load_image(tmp_path / "deep.png"))
    row = out[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert abs(row[128] - 128) <= 1  # mid-grey stays mid-grey
    assert len(np.unique(row)) > 200  # a ramp, not a white wall
    assert np.all(np.diff(row) >= 0)


def test_dark_16_bit_png_stays_dark(tmp_path):
    # 16-bit values up to 200 are 0.3% of full scale: nearly black, not 78% grey
    Image.fromarray(np.full((8, 8), 200, np.uint16)).save(tmp_path / "dark16.png")
    out = _rgb(load_image(tmp_path / "dark16.png"))
    assert out.max() <= 1


def test_32_bit_integer_tiff(tmp_path):
    arr = (np.arange(64, dtype=np.int32).reshape(8, 8) * 1000)  # 0 .. 63000
    Image.fromarray(arr, "I").save(tmp_path / "int.tif")
    assert Image.open(tmp_path / "int.tif").mode == "I"
    out = _rgb(load_image(tmp_path / "int.tif"))[..., 0].astype(int)
    assert out[0, 0] == 0
    assert 240 <= out[7, 7] <= 255
    assert np.all(np.diff(out.ravel()) >= 0)
    assert len(np.unique(out)) > 50


def test_float_tiff(tmp_path):
    arr = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    Image.fromarray(arr, "F").save(tmp_path / "float.tif")
    assert Image.open(tmp_path / "float.tif").mode == "F"
    out = _rgb(load_image(tmp_path / "float.tif"))[..., 0].astype(int)
    assert out[0, 0] == 0 and out[7, 7] == 255 and abs(out.ravel()[32] - 130) <= 2


def test_float_image_with_nan_and_inf_does_not_blow_up():
    arr = np.array([[0.0, 0.5], [np.nan, np.inf]], np.float32)
    out = np.asarray(to_rgb(Image.fromarray(arr, "F")))
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert out[0, 0, 0] == 0


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV",
                                  "I", "F", "I;16", "RGBX", "La", "RGBa"])
def test_to_rgb_handles_every_mode(mode, random_image):
    img = random_image(5, 4, "RGB").convert(mode) if mode not in ("I;16", "La", "RGBa", "PA") else (
        Image.new(mode, (5, 4)))
    out = to_rgb(img)
    assert out.mode == "RGB" and out.size == (5, 4)


# ---------------------------------------------------------------- orientation, frames, formats


def test_exif_orientation_6_comes_out_upright(tmp_path):
    # Orientation 6: the camera was turned; the stored image must be turned 90
    # degrees clockwise to be seen upright. A red block in the stored image's
    # top-left corner ends up in the displayed top-right corner.
    stored = Image.new("RGB", (64, 32), (255, 255, 255))
    stored.paste((255, 0, 0), (0, 0, 16, 16))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "turned.jpg", exif=exif.tobytes(), quality=95)
    out = load_image(tmp_path / "turned.jpg")
    assert out.size == (32, 64)
    arr = _rgb(out).astype(int)
    assert np.abs(arr[8, 32 - 8] - (255, 0, 0)).max() < 40  # top-right
    assert np.abs(arr[8, 8] - (255, 255, 255)).max() < 40  # top-left is white
    assert np.abs(arr[64 - 8, 32 - 8] - (255, 255, 255)).max() < 40


def test_animated_gif_gives_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert getattr(Image.open(tmp_path / "anim.gif"), "n_frames", 1) == 3
    out = _rgb(load_image(tmp_path / "anim.gif"))
    assert tuple(out[5, 5]) == (255, 0, 0)


def test_animated_gif_opened_after_seeking_still_gives_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with Image.open(tmp_path / "anim.gif") as img:
        img.seek(1)
        assert tuple(to_rgb(img).getpixel((5, 5))) == (0, 0, 255)
    assert tuple(load_image(tmp_path / "anim.gif").getpixel((5, 5))) == (255, 0, 0)


@pytest.mark.parametrize("name,kwargs", [
    ("lossless.webp", {"lossless": True}),
    ("photo.webp", {"quality": 90}),
    ("plain.bmp", {}),
    ("plain.tiff", {}),
    ("plain.ppm", {}),
    ("plain.jpeg", {"quality": 95}),
])
def test_other_formats_load(make_image, name, kwargs, random_image):
    path = make_image(name, (33, 21), **kwargs)
    out = _rgb(load_image(path))
    assert out.shape == (21, 33, 3)
    if kwargs.get("lossless") or name.endswith((".bmp", ".tiff", ".ppm")):
        assert np.array_equal(out, np.asarray(random_image(33, 21)))


def test_tiny_and_very_wide_images_load(make_image):
    assert load_image(make_image("dot.png", (1, 1))).size == (1, 1)
    assert load_image(make_image("strip.png", (20000, 20))).size == (20000, 20)


# ---------------------------------------------------------------- names


def test_unicode_file_name(make_image, tmp_path):
    path = make_image("café_猫.png", (9, 7))
    assert load_image(path).size == (9, 7)
    assert load_image(str(path)).size == (9, 7)
    (tmp_path / "café_壊れた.jpg").write_bytes(b"not a jpeg")
    exc = _load_error(tmp_path / "café_壊れた.jpg")
    assert "café_壊れた.jpg" in str(exc)


def test_file_name_that_is_not_utf8(tmp_path, random_image):
    raw = os.fsencode(tmp_path) + b"/photo_\xff.png"
    random_image(8, 6).save(raw)
    # as bytes, as the surrogate-escaped str Python lists, and as found in a folder
    assert load_image(raw).size == (8, 6)
    assert load_image(os.fsdecode(raw)).size == (8, 6)
    assert [p.name for p in find_images(tmp_path)] == [os.fsdecode(b"photo_\xff.png")]
    bad = os.fsencode(tmp_path) + b"/broken_\xfe.jpg"
    with open(bad, "wb") as f:
        f.write(b"junk")
    for path in (bad, os.fsdecode(bad)):
        exc = _load_error(path)
        assert "broken_\ufffd.jpg" in str(exc)
        assert exc.path == os.fsdecode(bad)  # the real path, for the caller to act on


# ---------------------------------------------------------------- errors


def test_zero_byte_file(write_bytes):
    exc = _load_error(write_bytes("empty.jpg", b""))
    assert "empty" in str(exc)


def test_truncated_jpeg(make_image):
    path = make_image("cut.jpg", (200, 150), quality=95)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    exc = _load_error(path)
    assert str(exc).startswith("cut.jpg: the image data is damaged or truncated: ")
    assert "truncated" in exc.reason.split(": ", 1)[1]  # Pillow's own words, after a colon
    assert str(exc).count("(") <= 1  # never "truncated (image file is truncated (3 bytes ...))"


def test_truncated_png(make_image):
    path = make_image("cut.png", (200, 150))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    exc = _load_error(path)
    assert "truncated" in str(exc) or "damaged" in str(exc)


def test_random_bytes_named_jpg(write_bytes):
    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    exc = _load_error(write_bytes("noise.jpg", data))
    assert "not an image" in str(exc)


def test_text_file_renamed_jpg(write_bytes):
    exc = _load_error(write_bytes("notes.jpg", b"shopping list\n- milk\n- eggs\n" * 20))
    assert "not an image" in str(exc)


def test_jpeg_header_followed_by_garbage(write_bytes):
    data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    exc = _load_error(write_bytes("header.jpg", data))
    assert exc.reason


def test_more_pixels_than_the_limit_is_refused(make_image):
    path = make_image("big.png", (100, 50))
    with pytest.raises(ImageLoadError) as info:
        load_image(path, max_pixels=4999)
    exc = info.value
    assert "big.png" in str(exc)
    assert "5,000 pixels" in str(exc) and "decompression bomb" in str(exc)
    assert load_image(path, max_pixels=5000).size == (100, 50)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with one tiny IDAT: what a
    decompression bomb looks like before anything is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(12000, 9000), (30000, 30000), (100000, 100000)])
def test_a_header_claiming_a_huge_image_is_refused_before_decoding(write_bytes, size):
    # 108 and 900 MP trip our limit (a PNG has no reduced decode); 10 GP trips Pillow's own check
    assert size[0] * size[1] > MAX_PIXELS
    path = write_bytes("bomb.png", _png_header_only(*size))
    exc = _load_error(path)
    assert "bomb.png" in str(exc) and "decompression bomb" in str(exc)
    assert "((" not in str(exc) and "))" not in str(exc)


def test_path_that_disappeared(make_image):
    path = make_image("gone.png")
    path.unlink()
    exc = _load_error(path)
    assert "does not exist" in str(exc)


def test_a_folder_is_not_an_image(tmp_path):
    (tmp_path / "album.jpg").mkdir()
    exc = _load_error(tmp_path / "album.jpg")
    assert "folder" in str(exc)


def test_unreadable_file_is_reported(make_image, monkeypatch):
    path = make_image("locked.png")

    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(images_module.Image, "open", refuse)
    exc = _load_error(path)
    assert "permission denied" in str(exc)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_for_real(make_image):
    path = make_image("locked.png")
    path.chmod(0)
    try:
        assert "permission denied" in str(_load_error(path))
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------- folders


@pytest.fixture
def album(tmp_path, make_image) -> Path:
    root = tmp_path / "album"
    for name in ("b.jpg", "a.png", "sub/c.gif", "sub/deeper/d.WEBP", "Z.JPG",
                 ".hidden.png", ".cache/e.png", "sub/.secret/f.png"):
        make_image(name, (8, 8), folder=root)
    (root / "notes.txt").write_text("not an image")
    (root / "sub" / "clip.mp4").write_bytes(b"\x00" * 10)
    return root


def test_find_images_recurses_skips_hidden_and_sorts(album):
    found = find_images(album)
    assert [p.relative_to(album).as_posix() for p in found] == [
        "Z.JPG", "a.png", "b.jpg", "sub/c.gif", "sub/deeper/d.WEBP"]
    assert found == sorted(found)


def test_find_images_on_something_that_is_not_a_folder(make_image, tmp_path):
    with pytest.raises(ImageLoadError, match="is not a folder"):
        find_images(make_image("x.png"))
    with pytest.raises(ImageLoadError, match="missing"):
        find_images(tmp_path / "missing")


def test_unreadable_folder_is_a_clear_error(album, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(images_module.os, "access",
                        lambda p, mode, **kw: False if Path(p) == album else real_access(p, mode, **kw))
    with pytest.raises(ImageLoadError) as info:
        find_images(album)
    assert "album" in str(info.value) and "permission denied" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads every folder")
def test_unreadable_folder_for_real(album):
    album.chmod(0)
    try:
        with pytest.raises(ImageLoadError, match="permission denied"):
            find_images(album)
    finally:
        album.chmod(0o755)


def test_expand_paths_keeps_files_in_order_and_expands_folders(album, tmp_path, make_image):
    first = make_image("first.png")
    last = tmp_path / "not-there.jpg"
    out = expand_paths([first, album, str(last)])
    assert out[0] == first and out[-1] == last
    assert out[1:-1] == find_images(album)


def test_is_image_path():
    assert is_image_path("a.JPG") and is_image_path(Path("x/y.tiff")) and is_image_path(b"z.png")
    assert not is_image_path("notes.txt") and not is_image_path("jpg")


@pytest.mark.parametrize("name", ["kept.png", "kept.jpg"])
def test_rgb_image_outlives_its_file(make_image, name):
    path = make_image(name)
    with Image.open(path) as ref:
        expected = np.asarray(ref.convert("RGB"))
    img = load_image(path)  # an RGB file is used as decoded, without a copy
    path.write_bytes(b"")  # the file is closed and the pixels are in memory
    path.unlink()
    assert np.array_equal(_rgb(img), expected)
    assert np.array_equal(np.asarray(img.resize((8, 6))), np.asarray(Image.fromarray(expected).resize((8, 6))))


def test_pillow_keeps_freed_pixel_blocks_for_the_next_image():
    # Without it every photo's pixels are fresh pages: ~1,500 page faults per 1024x768 decode.
    assert Image.core.get_blocks_max() >= images_module.PILLOW_KEPT_BLOCKS
