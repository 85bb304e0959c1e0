"""`classify --engine` and `export`: the engine is named in every JSON entry and gives
torch's top-5; an export reads back with torch's logits, carries its class names and
preprocessing, and its predict.py, run in a process of its own, imports no torch and
prints the app's top-5."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import torch

from alexnet_gui import cli
from alexnet_gui.resources_paths import sample_images


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def top_indices(entries):
    return {e["path"]: [s["index"] for s in e["top"]] for e in entries if "top" in e}


def test_classify_json_names_the_engine_and_onnxruntime_gives_torchs_top5(capsys, seeded_weights, make_image, tmp_path):
    images = [str(p) for p in sample_images()] + [str(make_image("noise.png", size=(300, 200)))]
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"no")
    code, out, _ = run(capsys, "classify", "--json", "--engine", "torch", "--weights", seeded_weights, *images)
    by_torch = json.loads(out)
    code2, out2, err2 = run(capsys, "classify", "--json", "--engine", "onnxruntime", "--weights", seeded_weights,
                            *images, bad)
    by_ort = json.loads(out2)
    assert code == 0 and code2 == 1  # the bad file
    assert {e["engine"] for e in by_torch} == {"torch"}
    assert {e["engine"] for e in by_ort} == {"onnxruntime"}, err2
    assert top_indices(by_ort) == top_indices(by_torch)
    assert by_ort[-1]["path"] == str(bad) and "error" in by_ort[-1]


def test_a_failed_gate_classifies_with_torch_and_says_why(capsys, seeded_weights, make_image, monkeypatch):
    from alexnet_gui.core.engine import runners

    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: np.zeros((len(x), 1000), np.float32))
    code, out, err = run(capsys, "classify", "--json", "--engine", "onnxruntime", "--weights", seeded_weights,
                         make_image("a.png"))
    assert code == 0 and json.loads(out)[0]["engine"] == "torch"
    assert "classifying with torch" in err and "differ from torch" in err


def test_export_onnx_round_trip_and_predict_py_without_torch(capsys, seeded_weights, seeded_model, make_image,
                                                             tmp_path):
    import onnx
    import onnxruntime as ort

    out = tmp_path / "export" / "alexnet.onnx"
    out.parent.mkdir()
    code, text, err = run(capsys, "export", "--weights", seeded_weights, "--format", "onnx", "--out", out, "--json")
    assert code == 0, err
    report = json.loads(text)
    assert report["parity"]["ok"] and report["parity"]["top5_identical"]
    assert report["predict_script"] == str(out.parent / "predict.py")

    proto = onnx.load(str(out), load_external_data=False)
    assert proto.opset_import[0].version >= 17
    meta = {p.key: p.value for p in proto.metadata_props}
    assert len(json.loads(meta["class_names"])) == 1000
    pre = json.loads(meta["preprocessing"])
    assert (pre["resize"], pre["crop"], pre["interpolation"]) == (256, 224, "bilinear")
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((3, 3, 224, 224), dtype=np.float32)  # batch 3: the axis is dynamic
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    with torch.inference_mode():
        want = seeded_model(torch.from_numpy(x)).numpy()
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max()))

    images = [str(p) for p in sample_images()] + [str(make_image("tall.jpg", size=(150, 331))),
                                                  str(make_image("wide.png", size=(517, 260)))]
    proc = subprocess.run([sys.executable, "-X", "importtime", str(out.parent / "predict.py"), str(out), *images,
                           "--json"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = re.findall(r"\|\s+([\w.]+)\s*$", proc.stderr, flags=re.M)
    assert "onnxruntime" in imported and "PIL.Image" in imported
    assert not [m for m in imported if m == "torch" or m.startswith(("torch.", "torchvision"))]
    by_script = top_indices(json.loads(proc.stdout))
    code, text, _ = run(capsys, "classify", "--json", "--engine", "torch", "--weights", seeded_weights, *images)
    assert by_script == top_indices(json.loads(text))


def test_export_torchscript_round_trip(capsys, seeded_weights, seeded_model, tmp_path):
    out = tmp_path / "alexnet.pt"
    code, text, err = run(capsys, "export", "--weights", seeded_weights, "--format", "torchscript", "--out", out)
    assert code == 0, err
    assert "top-5 identical: yes" in text
    extra = {"class_names.json": "", "preprocessing.json": ""}
    loaded = torch.jit.load(str(out), _extra_files=extra)
    assert len(json.loads(extra["class_names.json"])) == 1000
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        want, got = seeded_model(x), loaded(x)
    assert (got - want).abs().max() <= 1e-4 * max(1.0, want.abs().max().item())


def test_export_int8_prints_its_agreement_on_the_users_images(capsys, seeded_weights, make_image, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(3):
        make_image(f"p{i}.png", size=(240, 200), seed=i, folder=folder)
    out = tmp_path / "int8.onnx"
    code, text, err = run(capsys, "export", "--weights", seeded_weights, "--out", out, "--int8", "--images", folder,
                          "--json")
    assert code == 0, err
    q = json.loads(text)["int8"]
    assert q["images"] == 3 and 0.0 <= q["top1_agreement"] <= 1.0 and 0.0 <= q["top5_agreement"] <= 1.0
    assert q["int8_bytes"] < q["float_bytes"] / 2 and out.stat().st_size == q["int8_bytes"]


def test_an_export_that_fails_its_check_writes_nothing(capsys, seeded_weights, monkeypatch, tmp_path):
    from alexnet_gui.core.engine import runners

    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: np.zeros((len(x), 1000), np.float32))
    out = tmp_path / "m.onnx"
    code, _, err = run(capsys, "export", "--weights", seeded_weights, "--out", out)
    assert code == 1 and "failed its check against torch" in err
    assert not out.exists() and not (tmp_path / "predict.py").exists()
