"""Which class is explained, the crop mapping of the peak, and bad input: a clear error
(a ValueError subclass naming the cause) and no explanation at all."""

from __future__ import annotations

import numpy as np
import pytest

from alexnet_gui.core.explain import (
    ExplainError,
    ExplainImageError,
    ExplainSettings,
    UnknownClassError,
    crop_to_image,
    explain,
    explain_steps,
)
from alexnet_gui.core.weights import imagenet_categories

NAMES = imagenet_categories()


def test_target_by_index_by_name_and_by_digits_are_the_same_class(seeded_model, random_image):
    image = random_image(240, 200, seed=1)
    by_index = explain(seeded_model, NAMES, image, ExplainSettings(target=207))
    by_name = explain(seeded_model, NAMES, image, ExplainSettings(target=NAMES[207].upper()))
    by_digits = explain(seeded_model, NAMES, image, ExplainSettings(target="207"))
    assert by_index.target.index == by_name.target.index == by_digits.target.index == 207
    assert by_name.target.label == NAMES[207]
    np.testing.assert_allclose(by_index.map, by_name.map, atol=1e-6)


@pytest.mark.parametrize("target, words", [("no such thing", "no class named 'no such thing'"),
                                           ("golden retrievr", "did you mean 'golden retriever'"),
                                           (1000, "class 1000 does not exist"),
                                           ("-1", "no class named '-1'")])
def test_a_class_that_does_not_exist_is_refused(seeded_model, random_image, target, words):
    for method in ("gradcam", "occlusion"):
        with pytest.raises(UnknownClassError, match=words):
            explain(seeded_model, NAMES, random_image(100, 100), ExplainSettings(method=method, target=target))


def test_an_undecodable_file_is_refused_with_its_name(seeded_model, write_bytes):
    path = write_bytes("broken photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    steps = explain_steps(seeded_model, NAMES, str(path))
    with pytest.raises(ExplainImageError, match="broken photo.jpg"):
        next(steps)


def test_an_image_too_small_for_alexnet_is_refused(seeded_model, make_image):
    path = make_image("tiny.png", size=(40, 300))
    with pytest.raises(ExplainImageError, match=r"tiny.png: 40x300 pixels is too small .* at least 63x63"):
        explain(seeded_model, NAMES, str(path))


@pytest.mark.parametrize("settings, words", [(ExplainSettings(method="lime"), "unknown method 'lime'"),
                                             (ExplainSettings(method="occlusion", patch=0), "patch"),
                                             (ExplainSettings(method="occlusion", stride=500), "stride"),
                                             (ExplainSettings(noise=2.0), "noise")])
def test_bad_settings_are_refused(seeded_model, random_image, settings, words):
    with pytest.raises(ExplainError, match=words):
        explain(seeded_model, NAMES, random_image(100, 100), settings)


def test_errors_are_value_errors():
    assert issubclass(ExplainError, ValueError)
    assert issubclass(UnknownClassError, ExplainError) and issubclass(ExplainImageError, ExplainError)


@pytest.mark.parametrize("size", [(256, 256), (640, 480), (300, 900), (1001, 257)])
def test_crop_pixels_map_back_to_the_image_pixels_they_came_from(size):
    """A marker pixel in the image lands, after torchvision's resize and centre crop, where
    crop_to_image says it came from (within a pixel of the rescaling)."""
    from PIL import Image

    from alexnet_gui.core.preprocess import resized_crop

    width, height = size
    rng = np.random.default_rng(0)
    for _ in range(5):
        y, x = int(rng.integers(40, 184)), int(rng.integers(40, 184))
        iy, ix = crop_to_image(y, x, width, height)
        canvas = np.zeros((height, width, 3), np.uint8)
        r = max(3, round(min(width, height) / 256 * 3))
        canvas[max(0, iy - r):iy + r + 1, max(0, ix - r):ix + r + 1] = 255
        crop = resized_crop(Image.fromarray(canvas)).astype(float).sum(axis=2)
        cy, cx = np.unravel_index(np.argmax(crop), crop.shape)
        ys, xs = np.nonzero(crop > crop.max() / 2)
        assert abs(ys.mean() - y) <= 1.5 and abs(xs.mean() - x) <= 1.5, (size, (y, x), (ys.mean(), xs.mean()))


def test_the_explanation_says_where_the_peak_is_in_the_image(seeded_model, make_image):
    path = make_image("wide.png", size=(512, 256), seed=4)
    e = explain(seeded_model, NAMES, str(path))
    assert e.image_size == (512, 256)
    assert e.peak_in_image == crop_to_image(*e.peak, 512, 256)
    d = e.as_dict()
    assert set(d) == {"path", "target", "method", "layer", "map_size", "peak", "peak_in_image"}
    assert d["map_size"] == [224, 224] and d["path"] == str(path)
    assert set(d["target"]) == {"label", "index", "probability"}
