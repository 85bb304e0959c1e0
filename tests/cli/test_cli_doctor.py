"""`alexnet-cli doctor`: the model process starts as the window starts it, loads the
weights, classifies an image through the pipe and stops cleanly; a broken weights file
is a failed check, not a traceback."""

from __future__ import annotations

import json

from alexnet_gui import cli


def test_doctor_runs_the_model_process_as_the_window_does(capsys, seeded_weights, make_image):
    image = make_image("photo.png", size=(320, 240))
    code = cli.main(["doctor", "--json", "--weights", str(seeded_weights), "--engine", "torch", str(image)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    report = json.loads(out)
    process = report["checks"]["model_process"]
    assert code == 0 and report["ok"] and process["ok"], process
    assert process["exit_code"] == 0 and process["pid"] > 0  # stopped when told to
    assert process["top1"] and 0.0 <= process["probability"] <= 1.0
    assert process["engine"] == "torch" and "seeded" in process["weights"]
    assert set(report["checks"]) == {"model_process", "display", "camera"}
    assert isinstance(report["checks"]["camera"]["ok"], bool)


def test_a_broken_weights_file_fails_the_check(capsys, tmp_path, make_image):
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"not a checkpoint")
    code = cli.main(["doctor", "--weights", str(bad), "--engine", "torch", str(make_image("a.png"))])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert "FAIL model process: did not work: the weights did not load" in out
