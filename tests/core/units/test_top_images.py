"""A unit's top images: equal to a brute-force reference (one forward per image, the argmax of
each channel's map), ties broken by path, boxes that are the receptive field by definition and
map back to the image's own pixels; a planted conv1 filter finds the pictures that hold its pattern."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_gui.core.images import expand_paths, load_image
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.units import UnitError, receptive_fields
from alexnet_gui.core.units.run import run_to_end, top_images_steps
from alexnet_gui.core.units.scan import weights_key
from alexnet_gui.core.units.top import image_box

CPU = torch.device("cpu")


def top(model, folder, layer, channel, **kw):
    paths = [str(p) for p in expand_paths([folder])]
    return run_to_end(top_images_steps(model, paths, layer, channel, weights_key(model), CPU, **kw))


def reference(model, paths, layer):
    """Per image, one forward with a hook that clones the layer's output: {path: (C, H, W) or (F,)}."""
    kind, index = layer.split(".")
    module = getattr(model, kind)[int(index)]
    out = {}
    for path in paths:
        seen = []
        handle = module.register_forward_hook(lambda m, i, o: seen.append(o[0].detach().clone()))
        try:
            with torch.inference_mode():
                model(preprocess(load_image(path))[None])
        finally:
            handle.remove()
        out[path] = seen[0].numpy()
    return out


@pytest.mark.parametrize("layer,channel", [("features.10", 7), ("features.4", 11), ("features.12", 3),
                                           ("classifier.6", 42)])
def test_top_nine_is_the_brute_force_ranking_with_the_receptive_field_around_each_maximum(
        seeded_model, picture_folder, layer, channel):
    result = top(seeded_model, picture_folder, layer, channel)
    paths = [str(p) for p in expand_paths([picture_folder])]
    ref = reference(seeded_model, paths, layer)
    best = {p: float(a[channel].max()) for p, a in ref.items()}
    scale = max(abs(v) for v in best.values())
    tol = 1e-4 * scale + 1e-6

    assert len(result.images) == 9 and result.scanned == 14 and result.computed == 14
    values = [im.value for im in result.images]
    assert values == sorted(values, reverse=True)
    for im in result.images:
        assert im.value == pytest.approx(best[im.path], abs=tol)
    ninth = result.images[-1].value
    outside = [v for p, v in best.items() if p not in {im.path for im in result.images}]
    assert all(v <= ninth + tol for v in outside)

    for im in result.images:
        w, h = load_image(im.path).size
        if layer.startswith("classifier"):
            assert im.position is None and im.box == (0, 0, w, h) and im.crop_box == (0, 0, 224, 224)
            continue
        m = ref[im.path][channel]  # (H, W)
        top2 = np.sort(m.ravel())[-2:]
        if top2[1] - top2[0] > tol:  # a clear maximum: the same place in both
            y, x = np.unravel_index(int(np.argmax(m)), m.shape)
            assert im.position == (y, x)
        assert im.crop_box == receptive_fields()[layer].box(*im.position)
        assert im.box == image_box(im.crop_box, w, h)
        x0, y0, x1, y1 = im.crop_box
        assert im.patch.shape == (y1 - y0, x1 - x0, 3)


def test_equal_values_are_ranked_by_path(seeded_model, picture_folder):
    # The same bytes under three names: the same cache entry, so exactly the same values.
    source = picture_folder / "circles" / "circles-00.png"
    for name in ("a-copy.png", "zz-copy.png"):
        shutil.copy(source, picture_folder / name)
    top(seeded_model, picture_folder, "features.10", 0)
    again = top(seeded_model, picture_folder, "fc8", 5, k=17)
    copies = [im.path for im in again.images if im.path.endswith(("a-copy.png", "circles-00.png", "zz-copy.png"))]
    assert copies == sorted(copies) and len(copies) == 3
    indices = [i for i, im in enumerate(again.images) if im.path in copies]
    assert indices == list(range(indices[0], indices[0] + 3))  # side by side
    assert len({again.images[i].value for i in indices}) == 1


def planted_model(seeded_state_dict):
    """conv1 channel 0 answers a red-then-green vertical edge 11 pixels high and nothing flat."""
    from alexnet_gui.core.model import build_model

    model = build_model()
    model.load_state_dict(seeded_state_dict)
    w = torch.zeros(3, 11, 11)
    w[0, :, :6], w[1, :, :6] = 1.0, -1.0  # left: red, not green
    w[0, :, 6:], w[1, :, 6:] = -1.0, 1.0  # right: green, not red
    with torch.no_grad():
        model.features[0].weight[0] = w
        model.features[0].bias[0] = 0.0
    return model.eval()


def test_a_planted_filter_finds_the_pictures_that_hold_its_pattern(seeded_state_dict, tmp_path):
    rng = np.random.default_rng(5)
    folder = tmp_path / "planted"
    folder.mkdir()
    planted = []
    for i in range(12):
        kind = ["noise", "red", "green", "grey"][i % 4]
        pixels = {"noise": lambda: rng.integers(0, 256, (256, 256, 3)),
                  "red": lambda: np.broadcast_to([230, 20, 20], (256, 256, 3)),
                  "green": lambda: np.broadcast_to([20, 230, 20], (256, 256, 3)),
                  "grey": lambda: np.full((256, 256, 3), 128)}[kind]().astype(np.uint8).copy()
        path = folder / f"{i:02d}-{kind}.png"
        if i in (1, 6, 11):  # three pictures hold the pattern: red stripes beside green ones
            top_left = rng.integers(40, 180, size=2)
            y, x = top_left
            pixels[y : y + 24, x : x + 12] = (240, 10, 10)
            pixels[y : y + 24, x + 12 : x + 24] = (10, 240, 10)
            planted.append((str(path), (int(x) - 16, int(y) - 16)))  # in crop pixels (256 -> crop at 16)
        Image.fromarray(pixels, "RGB").save(path)
    result = top(planted_model(seeded_state_dict), folder, "conv1", 0)
    assert {im.path for im in result.images[:3]} == {p for p, _ in planted}
    assert result.images[2].value > 3 * result.images[3].value
    for im in result.images[:3]:
        x, y = dict(planted)[im.path]
        x0, y0, x1, y1 = im.crop_box  # the box holds the edge between red and green
        assert x0 <= x + 12 <= x1 and y0 < y + 24 and y <= y1


def test_a_bad_unit_is_refused_by_name(seeded_model, picture_folder):
    with pytest.raises(UnitError, match="256 channels"):
        top(seeded_model, picture_folder, "conv5", 256)
    with pytest.raises(UnitError, match="no layer named 'conv9'"):
        top(seeded_model, picture_folder, "conv9", 0)


def test_an_unreadable_file_is_listed_and_the_rest_ranked(seeded_model, picture_folder):
    (picture_folder / "broken.png").write_bytes(b"not a png")
    result = top(seeded_model, picture_folder, "fc7", 1)
    assert len(result.images) == 9 and result.scanned == 15
    assert list(result.failed) == [str(picture_folder / "broken.png")]


def test_the_box_in_the_image_is_the_crops_box_scaled_back():
    # 448 x 448: resized to 256 (x 4/7), the crop starts at 16.
    assert image_box((0, 0, 11, 11), 448, 448) == (28, 28, 48, 48)
    # 512 wide, 256 high: no scaling, the crop starts 144 pixels in.
    assert image_box((10, 20, 30, 40), 512, 256) == (154, 36, 174, 56)
