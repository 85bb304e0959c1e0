"""`alexnet-cli explain`: the heat map PNG (the picture the core draws for the window too)
and the JSON the issue names; a bad class, layer or image is one clear line and no file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from alexnet_gui import cli
from alexnet_gui.core.explain import ExplainSettings, crop_to_image, explain
from alexnet_gui.core.explain.picture import explanation_picture
from alexnet_gui.core.weights import imagenet_categories


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_json_has_the_fields_the_issue_names(capsys, seeded_weights, make_image, tmp_path):
    image = make_image("photo.png", size=(400, 300), seed=2)
    out = tmp_path / "map.png"
    code, stdout, _ = run(capsys, "explain", "--weights", seeded_weights, "--device", "cpu", image,
                          "--out", out, "--json")
    assert code == 0
    d = json.loads(stdout)
    assert set(d) == {"path", "target", "method", "layer", "map_size", "peak", "peak_in_image"}
    assert d["path"] == str(image) and d["method"] == "gradcam" and d["layer"] == "features.11"
    assert d["map_size"] == [224, 224]
    assert set(d["target"]) == {"label", "index", "probability"}
    assert d["target"]["label"] == imagenet_categories()[d["target"]["index"]]
    assert 0 <= d["peak"][0] < 224 and 0 <= d["peak"][1] < 224
    assert d["peak_in_image"] == list(crop_to_image(*d["peak"], 400, 300))


def test_the_png_is_the_cores_picture_for_the_same_settings(capsys, seeded_weights, seeded_model, make_image,
                                                            tmp_path):
    image = make_image("photo.png", size=(256, 256), seed=3)
    out = tmp_path / "map.png"
    code, stdout, _ = run(capsys, "explain", "--weights", seeded_weights, "--device", "cpu", image, "--out", out,
                          "--method", "occlusion", "--patch", "56", "--stride", "28", "--target", "7",
                          "--opacity", "0.7")
    assert code == 0 and "Occlusion" in stdout
    e = explain(seeded_model, imagenet_categories(), str(image),
                ExplainSettings(method="occlusion", patch=56, stride=28, target=7))
    written = np.asarray(Image.open(out).convert("RGB"))
    expected = explanation_picture(e, 0.7)
    assert written.shape == expected.shape
    # The CLI's model is channels-last, the test's contiguous: the maps agree to float rounding,
    # so a handful of heat-map pixels may differ by a level.
    assert np.abs(written.astype(int) - expected.astype(int)).max() <= 2


@pytest.mark.parametrize("argv, words", [(("--target", "no such class"), "no class named 'no such class'"),
                                         (("--target", "1000"), "class 1000 does not exist"),
                                         (("--layer", "features.12"), "is not a convolution block")])
def test_a_bad_class_or_layer_is_one_line_and_no_file(capsys, seeded_weights, make_image, tmp_path, argv, words):
    out = tmp_path / "map.png"
    code, stdout, err = run(capsys, "explain", "--weights", seeded_weights, make_image("a.png", size=(120, 100)), "--out", out,
                            *argv)
    assert code == 2 and words in err and not out.exists()


def test_an_undecodable_image_is_named_and_no_file(capsys, seeded_weights, write_bytes, tmp_path):
    bad = write_bytes("not-an-image.jpg", b"plain text")
    out = tmp_path / "map.png"
    code, _, err = run(capsys, "explain", "--weights", seeded_weights, bad, "--out", out)
    assert code == 1 and "not-an-image.jpg" in err and not out.exists()
