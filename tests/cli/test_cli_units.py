"""`alexnet-cli unit` and `alexnet-cli visualize`: the JSON the issue names, the same ranking as the
core, boxes in the image's pixels, the PNGs written, a second run from the cache, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from shape_folders import make_shapes

from alexnet_gui import cli
from alexnet_gui.core.images import expand_paths
from alexnet_gui.core.units.run import run_to_end, top_images_steps
from alexnet_gui.core.units.scan import weights_key


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def folder(tmp_path):
    return make_shapes(tmp_path / "shapes", per_class=4)


def test_unit_prints_the_nine_images_as_json_and_writes_their_grid(capsys, seeded_weights, seeded_model, folder,
                                                                   tmp_path):
    out = tmp_path / "top9.png"
    code, stdout, _ = run(capsys, "unit", folder, "--weights", seeded_weights, "--device", "cpu",
                          "--layer", "conv4", "--channel", "12", "--out", out, "--json")
    assert code == 0
    nine = json.loads(stdout)
    assert [sorted(item) for item in nine] == [["box", "path", "value"]] * 9
    paths = [str(p) for p in expand_paths([folder])]
    core = run_to_end(top_images_steps(seeded_model, paths, "features.8", 12, weights_key(seeded_model),
                                       torch.device("cpu")))
    assert [item["path"] for item in nine] == [im.path for im in core.images]
    assert np.allclose([item["value"] for item in nine], [im.value for im in core.images], rtol=1e-4, atol=1e-6)
    for item in nine:
        w, h = Image.open(item["path"]).size
        x0, y0, x1, y1 = item["box"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert Image.open(out).size == (400, 448)

    code, stdout, _ = run(capsys, "unit", folder, "--weights", seeded_weights, "--device", "cpu",
                          "--layer", "features.8", "--channel", "3", "--out", out)
    assert code == 0 and "(0 computed, the rest from the cache)" in stdout


def test_a_class_units_box_is_the_whole_image(capsys, seeded_weights, folder, tmp_path):
    code, stdout, _ = run(capsys, "unit", folder, "--weights", seeded_weights, "--device", "cpu",
                          "--layer", "fc8", "--channel", "281", "--out", tmp_path / "t.png", "--json")
    assert code == 0
    for item in json.loads(stdout):
        assert item["box"] == [0, 0, *Image.open(item["path"]).size]


def test_visualize_writes_the_picture_and_reports_it_beside_the_best_real_image(capsys, seeded_weights, folder,
                                                                                 tmp_path):
    out = tmp_path / "wants.png"
    code, stdout, _ = run(capsys, "visualize", "--weights", seeded_weights, "--device", "cpu", "--layer", "conv3",
                          "--channel", "5", "--steps", "24", "--seed", "2", "--folder", folder, "--out", out,
                          "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["layer"] == "features.6" and report["channel"] == 5 and report["steps"] == 24
    assert report["activation"] > report["best_real_activation"] and report["activation"] > report["start_activation"]
    assert report["best_real_path"].startswith(str(folder))
    image = Image.open(out)
    assert image.size == (224, 224) and image.mode == "RGB"

    code, stdout, _ = run(capsys, "visualize", "--weights", seeded_weights, "--device", "cpu", "--layer", "conv3",
                          "--channel", "5", "--steps", "24", "--seed", "2", "--out", tmp_path / "again.png", "--json")
    again = json.loads(stdout)
    assert again["activation"] == report["activation"] and "best_real_activation" not in again
    assert np.array_equal(np.asarray(Image.open(tmp_path / "again.png")), np.asarray(image))


@pytest.mark.parametrize("argv,message", [
    (["--layer", "conv9", "--channel", "0"], "no layer named 'conv9'"),
    (["--layer", "conv1", "--channel", "64"], "conv1 (features.0) has 64 channels: choose 0 to 63"),
])
def test_a_bad_unit_is_one_line_and_exit_2(capsys, seeded_weights, folder, tmp_path, argv, message):
    code, stdout, err = run(capsys, "unit", folder, "--weights", seeded_weights, "--device", "cpu", *argv,
                            "--out", tmp_path / "t.png")
    assert code == 2 and message in err and not (tmp_path / "t.png").exists()
    code, _, err = run(capsys, "visualize", "--weights", seeded_weights, "--device", "cpu", *argv,
                       "--out", tmp_path / "v.png")
    assert code == 2 and message in err


def test_an_unreadable_image_is_skipped_with_exit_1(capsys, seeded_weights, folder, tmp_path):
    (folder / "broken.png").write_bytes(b"not a png")
    code, stdout, err = run(capsys, "unit", folder, "--weights", seeded_weights, "--device", "cpu",
                            "--layer", "pool5", "--channel", "1", "--out", tmp_path / "t.png", "--json")
    assert code == 1 and "broken.png" in err and len(json.loads(stdout)) == 9
