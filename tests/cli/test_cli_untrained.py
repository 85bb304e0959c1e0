"""Without ImageNet weights the command line runs the untrained model, as the window
does: a warning on stderr, ``"weights": "untrained"`` in the JSON, exit code 0."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_gui import cli
from alexnet_gui.core.weights import load_weights

WARNING = ("warning: No ImageNet weights found: predictions use an untrained model and are random. "
           "Download the weights once (233 MB) with `alexnet-cli weights download`, or pass --weights PATH.")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(autouse=True)
def no_weights_anywhere():
    # TORCH_HOME points at an empty folder (tests/conftest.py)
    assert not any(Path(os.environ["TORCH_HOME"]).glob("**/*.pth"))


def test_classify_runs_untrained_and_says_so(capsys, make_image):
    code, out, err = run(capsys, "classify", "--device", "cpu", "--json", make_image("x.png"), make_image("y.jpg"))
    assert code == cli.EXIT_OK
    assert err.splitlines() == [WARNING]
    entries = json.loads(out)
    assert [e["weights"] for e in entries] == ["untrained", "untrained"]
    assert all(len(e["top"]) == 5 for e in entries)


def test_classify_text_output_warns_once(capsys, make_image):
    code, out, err = run(capsys, "classify", "--device", "cpu", make_image("x.png"))
    assert code == cli.EXIT_OK and err.splitlines() == [WARNING]
    assert out.startswith(f"{make_image('x.png')}: ") and "%" in out


def test_with_weights_there_is_no_warning_and_no_weights_key(capsys, make_image, seeded_weights):
    code, out, err = run(capsys, "classify", "--device", "cpu", "--json", "--weights", seeded_weights,
                         make_image("x.png"))
    assert code == cli.EXIT_OK and err == ""
    assert "weights" not in json.loads(out)[0]


def test_filters_run_untrained_with_the_warning(capsys, tmp_path):
    code, out, err = run(capsys, "filters", "--out", tmp_path / "conv1.png")
    assert code == cli.EXIT_OK and WARNING in err.splitlines()
    assert (tmp_path / "conv1.png").is_file()


def _two_classes(root: Path, per_class: int = 6) -> Path:
    rng = np.random.default_rng(0)
    for name, colour in (("red", (200, 40, 40)), ("blue", (40, 40, 200))):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = rng.integers(-30, 30, (48, 64, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_finetune_runs_untrained_and_says_so(capsys, tmp_path):
    folder = _two_classes(tmp_path / "colours")
    out_file = tmp_path / "colours.pt"
    code, out, err = run(capsys, "finetune", folder, "--out", out_file, "--epochs", "2", "--device", "cpu", "--json")
    assert code == cli.EXIT_OK, err
    assert WARNING in err.splitlines()
    summary = json.loads(out)
    assert summary["weights"] == "untrained" and summary["classes"] == ["blue", "red"]
    saved = load_weights(out_file)
    assert saved.class_names == ["blue", "red"]
    # the base is named as the window names the untrained model, not left empty
    assert saved.meta["base_weights_sha256"] == "untrained-seed0"
