"""`alexnet-cli filters | features`: PNG grids of the model's kernels and of one
layer's activations, the same pixels the window draws, written atomically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from float_paths import assert_close_to_scale
from kernels import conv1_filters
from PIL import Image

from alexnet_gui import cli
from alexnet_gui.core import introspect
from alexnet_gui.core.images import load_image
from alexnet_gui.core.introspect import conv_layer, feature_maps
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.render import GAP, feature_mosaic, filters_mosaic, to_uint8

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def cli_activations(monkeypatch) -> list:
    """The layers each CLI run computed (its model is placed channels-last, the test's is
    contiguous: the two agree to float rounding, not bit for bit)."""
    real, seen = introspect.feature_maps, []

    def spy(model, x):
        layers = real(model, x)
        seen.append(layers)
        return layers

    monkeypatch.setattr(introspect, "feature_maps", spy)
    return seen


def png(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode == "RGB"
        return np.asarray(img).copy()


def test_filters_writes_conv1_per_filter(capsys, tmp_path, seeded_weights, seeded_model):
    out = tmp_path / "conv1.png"
    code, text, _ = run(capsys, "filters", "--weights", seeded_weights, "--out", out)
    assert code == 0 and "64 tiles" in text and str(out) in text
    rgb = png(out)
    assert rgb.shape == (8 * 44 + 9 * GAP, 8 * 44 + 9 * GAP, 3)  # 8x8 tiles of 11x11 at 4x
    assert np.array_equal(rgb, filters_mosaic(conv_layer(seeded_model, "features.0").weight.detach().numpy())[0])
    # the first tile, one pixel per weight, is conv1's filter 0 stretched to 0..255
    assert np.array_equal(rgb[GAP:GAP + 44:4, GAP:GAP + 44:4], to_uint8(conv1_filters(seeded_model)[0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv1.png"]  # no temp file left


def test_filters_global_scale_deep_layer_page(capsys, tmp_path, seeded_weights, seeded_model):
    out = tmp_path / "conv3.png"
    code, _, _ = run(capsys, "filters", "--weights", seeded_weights, "--layer", "features.6", "--global",
                     "--page", "2", "--scale", "5", "--out", out)
    assert code == 0
    w = conv_layer(seeded_model, "features.6").weight.detach().numpy()
    expected, layout = filters_mosaic(w, per_filter=False, page=1, scale=5)
    assert png(out).shape == (8 * 15 + 9 * GAP, 8 * 15 + 9 * GAP, 3) and layout.count == 64
    # Each grey is a kernel's mean over its inputs. The CLI's model is placed channels-last,
    # the test's is contiguous: the renderer sums in one order whatever the layout, so the
    # pixels are the same (the same weights, the same arithmetic).
    assert np.array_equal(png(out), expected)
    code, _, _ = run(capsys, "filters", "--weights", seeded_weights, "--per-filter", "--out", tmp_path / "a.png")
    code2, _, _ = run(capsys, "filters", "--weights", seeded_weights, "--global", "--out", tmp_path / "b.png")
    assert code == code2 == 0 and not np.array_equal(png(tmp_path / "a.png"), png(tmp_path / "b.png"))


@pytest.mark.parametrize(("name", "size", "mode"), [
    ("photo.png", (96, 80), "RGB"), ("grey.png", (63, 63), "L"), ("tiny.png", (10, 10), "RGB"),
])
def test_features_grid_is_the_layers_activations(capsys, tmp_path, make_image, seeded_weights, seeded_model,
                                                 cli_activations, name, size, mode):
    image = make_image(name, size=size, mode=mode)
    out = tmp_path / "maps.png"
    code, text, _ = run(capsys, "features", "--weights", seeded_weights, "--layer", "features.1", image, "--out", out)
    assert code == 0 and "features.1 ReLU 64x55x55" in text
    (computed,) = cli_activations
    layers = feature_maps(seeded_model, preprocess(load_image(image)))
    for got, want in zip(computed, layers, strict=True):  # the values, before any colour map
        assert_close_to_scale(got.maps, want.maps, what=got.name)
    # The PNG is exactly the render of the CLI's own maps; never pixels from two float paths,
    # where a last-bit difference at a rounding edge becomes a jump in the colour map.
    expected, layout, _ = feature_mosaic(computed[1].maps)
    rgb = png(out)
    assert rgb.shape == (8 * 55 + 9 * GAP, 8 * 55 + 9 * GAP, 3) and layout.count == 64
    assert np.array_equal(rgb, expected)


def test_features_shared_sorted_last_pool(capsys, tmp_path, make_image, seeded_weights, seeded_model,
                                          cli_activations):
    image = make_image("photo.jpg", size=(120, 90))
    out = tmp_path / "pool.png"
    code, _, _ = run(capsys, "features", image, "--weights", seeded_weights, "--layer", "features.12",
                     "--shared", "--sort", "--out", out)
    assert code == 0
    (computed,) = cli_activations
    layers = feature_maps(seeded_model, preprocess(load_image(image)))
    assert_close_to_scale(computed[12].maps, layers[12].maps)
    # drawn from the CLI's own maps (see above); near-equal means may sort either way across paths
    expected, layout, order = feature_mosaic(computed[12].maps, shared=True, sort_by_mean=True)
    assert layout.count == 256 and layout.cols == 16
    means = computed[12].maps.mean(axis=(1, 2))
    assert np.all(np.diff(means[order]) <= 0)
    assert np.array_equal(png(out), expected)


def test_bad_layer_bad_image_bad_folder(capsys, tmp_path, make_image, write_bytes, seeded_weights):
    code, _, err = run(capsys, "filters", "--weights", seeded_weights, "--layer", "features.1", "--out", tmp_path / "x.png")
    assert code == 2 and "not a conv layer" in err and "features.10" in err
    code, _, err = run(capsys, "filters", "--weights", seeded_weights, "--page", "2", "--out", tmp_path / "x.png")
    assert code == 2 and "between 1 and 1" in err
    image = make_image("photo.png")
    code, _, err = run(capsys, "features", "--weights", seeded_weights, "--layer", "features.13", image,
                       "--out", tmp_path / "x.png")
    assert code == 2 and "features.12" in err
    broken = write_bytes("broken.jpg", b"not an image")
    code, _, err = run(capsys, "features", "--weights", seeded_weights, "--layer", "features.0", broken,
                       "--out", tmp_path / "x.png")
    assert code == 1 and "broken.jpg" in err
    code, _, err = run(capsys, "filters", "--weights", seeded_weights, "--out", tmp_path / "missing" / "x.png")
    assert code == 2 and "does not exist" in err
    assert not (tmp_path / "x.png").exists()


def test_the_command_line_never_imports_qt():
    script = ("import importlib, pkgutil, sys; import alexnet_gui.cli as cli; "
              "names = [m.name for m in pkgutil.walk_packages(cli.__path__, 'alexnet_gui.cli.')]; "
              "[importlib.import_module(n) for n in names]; "
              "print('alexnet_gui.cli.views' in names, any(m.startswith('PySide6') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False"]
