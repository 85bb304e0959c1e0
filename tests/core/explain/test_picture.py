"""The picture of an explanation: the crop under the map at the opacity asked, the colour
scale beside it from the largest value (top) to 0 (bottom), one uint8 RGB array."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from alexnet_gui.core.explain import Explanation
from alexnet_gui.core.explain.picture import BAR_W, LEGEND_W, SCALE, TITLE_H, explanation_picture, scale_labels
from alexnet_gui.core.prediction import ClassScore
from alexnet_gui.core.render import VIRIDIS, save_png


def explanation(method="gradcam", scale=0.25) -> Explanation:
    rng = np.random.default_rng(0)
    heat = np.zeros((224, 224), np.float32)
    heat[100:140, 60:100] = 1.0
    crop = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    return Explanation("/p.png", method, "features.11", ClassScore("bee", 309, 0.42), heat, scale, "units",
                       (100, 60), (130, 80), (300, 300), crop)


def body(rgb: np.ndarray) -> np.ndarray:
    return rgb[TITLE_H:, :224 * SCALE].astype(int)


def test_shape_title_band_and_legend():
    rgb = explanation_picture(explanation())
    assert rgb.dtype == np.uint8 and rgb.shape == (224 * SCALE + TITLE_H, 224 * SCALE + LEGEND_W, 3)
    bar = rgb[TITLE_H:, 224 * SCALE + 6:224 * SCALE + 6 + BAR_W]
    assert np.array_equal(bar[0, 0], VIRIDIS[255]) and np.array_equal(bar[-1, 0], VIRIDIS[0])


@pytest.mark.parametrize("opacity", [0.0, 1.0])
def test_opacity_zero_is_the_crop_and_one_is_the_map(opacity):
    e = explanation()
    got = body(explanation_picture(e, opacity))
    big = (224 * SCALE, 224 * SCALE)
    if opacity == 0.0:
        want = np.asarray(Image.fromarray(e.crop).resize(big, Image.Resampling.BILINEAR)).astype(int)
    else:
        want = np.asarray(Image.fromarray(VIRIDIS[(e.map * 255).astype(np.uint8)]).resize(
            big, Image.Resampling.BILINEAR)).astype(int)
    assert np.abs(got - want).max() <= 1


def test_the_scale_says_what_its_ends_stand_for():
    assert scale_labels(explanation("occlusion", 0.125)) == ("-12.5 %", "0 %")
    assert scale_labels(explanation("gradcam", 0.00123)) == ("0.00123", "0")


def test_saved_png_holds_exactly_the_array(tmp_path):
    rgb = explanation_picture(explanation(), 0.3)
    path = save_png(rgb, tmp_path / "e.png")
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), rgb)
