"""`alexnet-cli summary | classify | weights`: output, exit codes, and a one-line
message (never a traceback) for every expected error."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from float_paths import assert_same_top
from loopback import BytesHandler, serving

from alexnet_gui import cli
from alexnet_gui.core import download as download_module
from alexnet_gui.core.images import ImageLoadError
from alexnet_gui.core.weights import IMAGENET_FILENAME, file_sha256, imagenet_categories

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# ---------------------------------------------------------------- summary


def test_summary_table(capsys):
    code, out, err = run(capsys, "summary")
    assert code == 0 and err == ""
    assert "AlexNet at 224x224" in out
    assert "61,100,840" in out and "2,469,696" in out and "58,631,144" in out and "37,752,832" in out
    assert "0.714 G multiply-adds" in out
    assert "features.0" in out and "classifier.6" in out


def test_summary_json_totals(capsys):
    code, out, _ = run(capsys, "summary", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["input_size"] == 224
    assert data["totals"] == {
        "params": 61_100_840, "conv_params": 2_469_696, "fc_params": 58_631_144,
        "macs": data["totals"]["macs"], "trainable_params": 61_100_840,
    }
    assert round(data["totals"]["macs"] / 1e9, 3) == 0.714
    assert len(data["layers"]) == 21
    first = data["layers"][0]
    assert first == {"name": "features.0", "kind": "Conv2d", "output_shape": [64, 55, 55],
                     "params": 23_296, "macs": 70_276_800, "trainable": True}


def test_summary_at_227(capsys):
    code, out, _ = run(capsys, "summary", "--json", "--input-size", "227")
    assert code == 0
    assert json.loads(out)["layers"][0]["output_shape"] == [64, 56, 56]


def test_summary_too_small_input_is_an_error(capsys):
    code, out, err = run(capsys, "summary", "--input-size", "40")
    assert code == 2 and out == ""
    assert err.startswith("alexnet-cli: error:") and "63" in err


def test_module_entry_point_runs_summary():
    proc = subprocess.run([sys.executable, "-m", "alexnet_gui.cli", "summary"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "61,100,840" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_help_lists_every_command_in_order(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [m.group(1) for line in lines if (m := re.match(r" {4}(\w+)", line))]
    assert listed == ["summary", "classify", "weights", "filters", "features", "unit", "visualize", "explain", "finetune",
                      "audit", "export", "cache", "doctor"]


# ---------------------------------------------------------------- classify


@pytest.fixture
def inputs(tmp_path, make_image, write_bytes):
    """Two files, a folder of two (one nested), and a corrupt file, in that order."""
    first = make_image("first.png", (120, 90), seed=1)
    folder = tmp_path / "holiday"
    make_image("b.jpg", (80, 100), seed=2, folder=folder)
    make_image("sub/a.png", (64, 64), seed=3, folder=folder)
    (folder / "readme.txt").write_text("not an image")
    corrupt = write_bytes("corrupt.jpg", b"\xff\xd8\xff not really")
    last = make_image("last.webp", (70, 70), seed=4, format="WEBP")
    return [first, folder, corrupt, last]


def expected_order(inputs) -> list[str]:
    first, folder, corrupt, last = inputs
    return [str(first), str(folder / "b.jpg"), str(folder / "sub" / "a.png"), str(corrupt), str(last)]


def test_classify_json_in_input_order_with_an_error_entry(capsys, seeded_weights, inputs):
    code, out, err = run(capsys, "classify", "--json", "--weights", seeded_weights, *inputs)
    assert code == 1  # one file failed, the rest were classified
    data = json.loads(out)
    assert isinstance(data, list)
    assert [d["path"] for d in data] == expected_order(inputs)
    categories = imagenet_categories()
    for entry in data:
        if entry["path"].endswith("corrupt.jpg"):
            assert set(entry) == {"path", "error", "engine"}
            assert "corrupt.jpg" in entry["error"] and "not an image" in entry["error"]
            continue
        assert set(entry) == {"path", "top", "engine"} and entry["engine"] == "torch"  # the suite's default
        assert len(entry["top"]) == 5
        for score in entry["top"]:
            assert set(score) == {"label", "index", "probability"}
            assert score["label"] == categories[score["index"]]
        probs = [s["probability"] for s in entry["top"]]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6


def test_classify_json_matches_the_library(capsys, seeded_weights, seeded_model, inputs):
    from alexnet_gui.core.predict import classify_paths

    code, out, _ = run(capsys, "classify", "--json", "--top", "3", "--weights", seeded_weights, inputs[0])
    assert code == 0
    (entry,) = json.loads(out)
    (pred,) = classify_paths(seeded_model, [inputs[0]], imagenet_categories(), k=3)
    expected = json.loads(json.dumps(pred.as_dict()))
    assert entry.keys() == expected.keys() | {"engine"} and entry["path"] == expected["path"]
    # The CLI's model is placed channels-last, the test's is contiguous: the same to float
    # rounding, so near-equal classes of the seeded model may trade places.
    assert_same_top(entry["top"], expected["top"])


def test_classify_all_ok_exits_0(capsys, seeded_weights, inputs):
    first, folder, _corrupt, last = inputs
    code, out, _ = run(capsys, "classify", "--json", "--weights", seeded_weights, first, folder, last)
    assert code == 0
    assert all("top" in d for d in json.loads(out))


def test_classify_text_output(capsys, seeded_weights, inputs):
    code, out, _ = run(capsys, "classify", "--top", "2", "--batch-size", "2", "--weights", seeded_weights, *inputs)
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == expected_order(inputs)
    assert lines[3].startswith(f"{inputs[2]}: error: corrupt.jpg: ")
    assert lines[0].count("%") == 2


def ctrl_c() -> None:
    """A real Ctrl+C, as a terminal sends it: SIGINT to this process."""
    os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_classify_after_the_batch_in_hand(capsys, seeded_weights, inputs, monkeypatch):
    from alexnet_gui.core import predict

    real = predict.predictions_for
    batches = []

    def first_batch_then_ctrl_c(*args, **kwargs):
        batches.append(1)
        if len(batches) == 1:
            ctrl_c()
        return real(*args, **kwargs)

    monkeypatch.setattr(predict, "predictions_for", first_batch_then_ctrl_c)
    before = signal.getsignal(signal.SIGINT)
    code, out, err = run(capsys, "classify", "--batch-size", "2", "--weights", seeded_weights, *inputs)
    assert code == 130 and err.strip() == "alexnet-cli: interrupted"
    assert len(batches) == 1  # three batches of two: the two after the Ctrl+C never ran
    assert [line.split(": ", 1)[0] for line in out.splitlines()] == expected_order(inputs)[:2]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_ctrl_c_interrupts_at_once():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), cli.StopOnCtrlC() as stop:
        ctrl_c()
        assert stop()  # the first one only asks the work to stop
        ctrl_c()
        pytest.fail("the second Ctrl+C did not interrupt")
    assert signal.getsignal(signal.SIGINT) is before


def test_work_that_ends_without_a_ctrl_c_is_left_alone():
    with cli.StopOnCtrlC() as stop:
        pass
    assert not stop()


def test_unreadable_folder_keeps_its_place(capsys, seeded_weights, inputs, monkeypatch):
    from alexnet_gui.core import images

    first, folder, _corrupt, last = inputs

    def refuse(path, *_a):
        if Path(path) == folder:
            raise ImageLoadError(path, "permission denied: the folder cannot be read")
        return real(path)

    real = images.find_images
    monkeypatch.setattr(images, "find_images", refuse)
    for as_json in (True, False):
        code, out, _ = run(capsys, "classify", *(["--json"] if as_json else []),
                           "--weights", seeded_weights, first, folder, last)
        assert code == 1
        if as_json:
            data = json.loads(out)
            assert [d["path"] for d in data] == [str(first), str(folder), str(last)]
            assert "holiday: permission denied" in data[1]["error"]
        else:
            assert [line.split(": ", 1)[0] for line in out.splitlines()] == [str(first), str(folder), str(last)]


def test_classify_odd_file_names(capsys, seeded_weights, tmp_path, random_image):
    nice = tmp_path / "café_猫.png"
    random_image(80, 80).save(nice)
    raw = os.fsencode(tmp_path) + b"/photo_\xff.png"
    random_image(80, 80, seed=1).save(raw)
    broken = os.fsencode(tmp_path) + b"/broken_\xfe.jpg"
    with open(broken, "wb") as f:
        f.write(b"junk")
    code, out, _ = run(capsys, "classify", "--json", "--weights", seeded_weights, tmp_path)
    assert code == 1
    data = json.loads(out)  # valid JSON whose strings decode back to the real paths
    by_path = {d["path"]: d for d in data}
    assert set(by_path) == {str(nice), os.fsdecode(raw), os.fsdecode(broken)}
    assert "top" in by_path[os.fsdecode(raw)]
    assert "broken_\ufffd.jpg" in by_path[os.fsdecode(broken)]["error"]
    code, out, _ = run(capsys, "classify", "--weights", seeded_weights, tmp_path)
    assert code == 1 and "café_猫.png: " in out and "photo_\\udcff.png: " in out


def test_empty_folder(capsys, seeded_weights, tmp_path):
    (tmp_path / "empty").mkdir()
    code, out, err = run(capsys, "classify", "--json", "--weights", seeded_weights, tmp_path / "empty")
    assert code == 1 and json.loads(out) == [] and "no images found" in err


def test_bad_weights_file_exits_2(capsys, tmp_path, make_image):
    bad = tmp_path / "bad.pt"
    bad.write_text("these are not weights")
    code, out, err = run(capsys, "classify", "--weights", bad, make_image("x.png"))
    assert code == 2 and out == ""
    assert err.startswith("alexnet-cli: error: bad.pt:") and len(err.strip().splitlines()) == 1


def test_missing_weights_file_exits_2(capsys, tmp_path, make_image):
    code, _, err = run(capsys, "classify", "--weights", tmp_path / "nope.pt", make_image("x.png"))
    assert code == 2 and "no such weights file" in err


def test_weights_in_the_hub_cache_are_found(capsys, seeded_weights, make_image):
    cached = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / IMAGENET_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(seeded_weights.read_bytes())
    code, out, _ = run(capsys, "classify", "--json", make_image("x.png"))
    assert code == 0 and len(json.loads(out)[0]["top"]) == 5


@pytest.mark.parametrize("top", ["0", "-3"])
def test_bad_top_exits_2(capsys, seeded_weights, make_image, top):
    code, out, err = run(capsys, "classify", "--top", top, "--weights", seeded_weights, make_image("x.png"))
    assert code == 2 and out == "" and "--top" in err


def test_non_numeric_top_is_a_usage_error(capsys, make_image):
    with pytest.raises(SystemExit) as info:
        cli.main(["classify", "--top", "many", str(make_image("x.png"))])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--top" in err and "Traceback" not in err


def test_bad_batch_size_exits_2(capsys, seeded_weights, make_image):
    code, _, err = run(capsys, "classify", "--batch-size", "0", "--weights", seeded_weights, make_image("x.png"))
    assert code == 2 and "--batch-size" in err


def test_bad_device_exits_2(capsys, seeded_weights, make_image):
    code, _, err = run(capsys, "classify", "--device", "tpu", "--weights", seeded_weights, make_image("x.png"))
    assert code == 2 and "unknown device 'tpu'" in err


def test_cuda_without_cuda_notes_and_runs_on_cpu(capsys, seeded_weights, make_image, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = run(capsys, "classify", "--json", "--device", "cuda", "--weights", seeded_weights,
                         make_image("x.png"))
    assert code == 0 and "note: CUDA is not available" in err
    assert "top" in json.loads(out)[0]


# ---------------------------------------------------------------- weights


def test_weights_status_without_a_file(capsys):
    code, out, err = run(capsys, "weights", "status")
    assert code == 1
    assert "no weights found" in out and os.environ["TORCH_HOME"] in out


def test_weights_status_with_a_file(capsys, seeded_weights):
    code, out, _ = run(capsys, "weights", "status", "--weights", seeded_weights)
    assert code == 0
    assert out.startswith(f"{seeded_weights}: ")
    assert f"sha256 {file_sha256(seeded_weights)[:8]}" in out


def test_weights_status_with_a_bad_file(capsys, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00" * 100)
    code, out, err = run(capsys, "weights", "status", "--weights", bad)
    assert code == 2 and out == "" and "bad.pth" in err


@pytest.fixture
def server(seeded_weights):
    """A loopback HTTP server serving the seeded weights at /alexnet.pth."""
    with serving(BytesHandler, routes={"/alexnet.pth": seeded_weights.read_bytes()}) as (_httpd, url):
        yield url


def test_weights_download_with_the_wrong_hash_saves_nothing(capsys, server, tmp_path):
    dest = tmp_path / "dl" / "alexnet.pth"
    code, out, err = run(capsys, "weights", "download", "--to", dest, "--url", f"{server}/alexnet.pth")
    assert code == 2 and out == ""
    assert "SHA-256" in err and "7be5be79" in err and "nothing was saved" in err
    assert len(err.strip().splitlines()) == 1
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # no part file left either


def test_weights_download_succeeds_when_the_hash_matches(capsys, server, tmp_path, seeded_weights, monkeypatch):
    # the real command checks the ImageNet hash; accept the seeded file's instead
    monkeypatch.setattr(download_module, "download_weights", functools.partial(
        download_module.download_weights, expected_sha256_prefix=file_sha256(seeded_weights)[:8]))
    dest = tmp_path / "dl" / "alexnet.pth"
    code, out, _ = run(capsys, "weights", "download", "--to", dest, "--url", f"{server}/alexnet.pth")
    assert code == 0 and out.strip() == f"saved {dest}"
    assert dest.read_bytes() == seeded_weights.read_bytes()
    assert list(dest.parent.iterdir()) == [dest]
    code, out, _ = run(capsys, "weights", "status", "--weights", dest)
    assert code == 0


def test_weights_download_404_saves_nothing(capsys, server, tmp_path):
    dest = tmp_path / "dl" / "alexnet.pth"
    code, _, err = run(capsys, "weights", "download", "--to", dest, "--url", f"{server}/missing.pth")
    assert code == 2 and "404" in err
    assert not dest.exists()


def test_weights_without_an_action_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["weights"])
    assert info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_every_classify_option_has_help_text(capsys):
    with pytest.raises(SystemExit):
        cli.main(["classify", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "--batch-size B images decoded and run through the model together (default 32)" in text
