"""`alexnet-cli finetune` / `cache`: JSON shape, exit codes, and the classify round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shape_folders import make_shapes

from alexnet_gui.cli import main
from alexnet_gui.core.finetune import extract as extract_module

EPOCH_KEYS = {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}


@pytest.fixture
def split_shapes(tmp_path) -> Path:
    root = tmp_path / "split"
    make_shapes(root / "train", per_class=6)
    make_shapes(root / "val", per_class=3, seed=11)
    return root


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_and_classify_round_trip(split_shapes, seeded_weights, tmp_path, capsys):
    out_file = tmp_path / "shapes.pt"
    code, out, err = run_cli(capsys, "finetune", split_shapes, "--weights", seeded_weights, "--out", out_file,
                             "--epochs", "6", "--device", "cpu", "--json")
    assert code == 0, err
    report = json.loads(out)  # stdout is exactly one JSON object
    assert set(report) == {"classes", "val_accuracy", "epochs", "confusion_matrix", "seconds", "skipped"}
    assert report["classes"] == ["circles", "squares", "triangles"]
    assert len(report["epochs"]) == 6 and all(set(e) == EPOCH_KEYS for e in report["epochs"])
    assert report["val_accuracy"] > 0.5
    assert sum(map(sum, report["confusion_matrix"])) == 9
    assert report["skipped"] == [] and report["seconds"] > 0
    assert "epoch 6/6" in err  # progress on stderr
    assert out_file.is_file()

    val_images = sorted((split_shapes / "val").rglob("*.png"))
    code, out, err = run_cli(capsys, "classify", *val_images, "--weights", out_file, "--top", "2", "--json")
    assert code == 0, err
    predictions = json.loads(out)
    correct = sum(Path(p["path"]).parent.name == p["top"][0]["label"] for p in predictions)
    assert len(predictions) == 9
    # Training judged cached features with the head, classify runs the whole placed model: the
    # same to float rounding, so only an image whose best two classes are a near-tie may differ.
    near_ties = sum(a["probability"] - b["probability"] <= 1e-4 * a["probability"]
                    for a, b in (p["top"] for p in predictions))
    assert abs(correct / 9 - report["val_accuracy"]) <= near_ties / 9 + 1e-9


def test_text_output_lists_accuracy_and_skipped_files(seeded_weights, tmp_path, capsys):
    shapes = make_shapes(tmp_path / "small", per_class=4)
    (shapes / "circles" / "notes.txt").write_text("x")
    code, out, err = run_cli(capsys, "finetune", shapes, "--weights", seeded_weights,
                             "--out", tmp_path / "m.pt", "--epochs", "2", "--seed", "3", "--flip")
    assert code == 0, err
    assert "validation accuracy" in out and "saved" in out
    assert "notes.txt: not an image file (.txt)" in err


def test_refused_folder_exits_1_and_writes_nothing(tmp_path, seeded_weights, capsys):
    make_shapes(tmp_path / "one", per_class=3, classes=("circles",))
    out_file = tmp_path / "m.pt"
    code, out, err = run_cli(capsys, "finetune", tmp_path / "one", "--weights", seeded_weights,
                             "--out", out_file, "--json")
    assert code == 1
    assert out == "" and "only one class" in err and len(err.strip().splitlines()) == 1
    assert not out_file.exists()


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "epochs"),
    (["--val-fraction", "1.5"], "validation fraction"),
    (["--weights", "{tmp}/missing.pt"], "no such weights file"),
    (["--weights", "{tmp}/garbage.pt"], "garbage.pt"),
    (["--device", "tpu"], "unknown device"),
])  # fmt: skip
def test_usage_and_weights_errors_exit_2(shapes, seeded_weights, tmp_path, capsys, args, message):
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--weights" not in args:
        args += ["--weights", str(seeded_weights)]
    code, out, err = run_cli(capsys, "finetune", shapes, "--out", tmp_path / "m.pt", *args)
    assert code == 2 and message in err and out == ""
    assert not (tmp_path / "m.pt").exists()


def test_missing_out_is_a_usage_error(shapes, capsys):
    with pytest.raises(SystemExit) as info:
        main(["finetune", str(shapes)])
    assert info.value.code == 2


def test_ctrl_c_exits_130_and_leaves_no_file(shapes, seeded_weights, tmp_path, capsys, monkeypatch, private_cache):
    calls = {"n": 0}
    real = extract_module.backbone_features

    def interrupted(model, x, layer, *args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(model, x, layer, *args)

    monkeypatch.setattr(extract_module, "backbone_features", interrupted)
    code, out, err = run_cli(capsys, "finetune", shapes, "--weights", seeded_weights, "--out", tmp_path / "m.pt")
    assert code == 130
    assert not (tmp_path / "m.pt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.pt")] == []
    assert not [p for p in private_cache.rglob("*") if p.name.endswith(".part")]


def test_a_real_ctrl_c_stops_at_the_next_check(shapes, seeded_weights, tmp_path, capsys, monkeypatch,
                                              private_cache):
    """SIGINT during the file check: answered at the next check, not raised inside the thread pool."""
    import os
    import signal

    from alexnet_gui.core.finetune import dataset as dataset_module

    real = dataset_module._check_file
    checked = []

    def check_then_ctrl_c(path):
        checked.append(path)
        if len(checked) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return real(path)

    monkeypatch.setattr(dataset_module, "_check_file", check_then_ctrl_c)
    code, _out, err = run_cli(capsys, "finetune", shapes, "--weights", seeded_weights, "--out", tmp_path / "m.pt")
    assert code == 130 and err.strip().endswith("alexnet-cli: interrupted") and "Traceback" not in err
    assert [p for p in private_cache.rglob("*") if p.is_file()] == []  # stopped before any feature
    assert not (tmp_path / "m.pt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.pt")] == []


def test_cache_info_and_clear(seeded_weights, tmp_path, capsys):
    shapes = make_shapes(tmp_path / "small", per_class=4)
    assert run_cli(capsys, "finetune", shapes, "--weights", seeded_weights, "--out", tmp_path / "m.pt",
                   "--epochs", "1")[0] == 0
    code, out, _ = run_cli(capsys, "cache", "info", "--json")
    info = json.loads(out)
    assert code == 0 and info["feature_entries"] == 12 and info["feature_bytes"] > 12 * 16384
    code, out, _ = run_cli(capsys, "cache", "clear")
    assert code == 0 and "freed" in out
    assert json.loads(run_cli(capsys, "cache", "info", "--json")[1])["feature_entries"] == 0
