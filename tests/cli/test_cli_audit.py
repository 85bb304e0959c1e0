"""`alexnet-cli audit`: the JSON lists, paths as given, and a refused folder."""

from __future__ import annotations

import json
import os
import shutil

from shape_folders import make_shapes

from alexnet_gui.cli import main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lists_with_paths_as_given(tmp_path, seeded_weights, capsys, monkeypatch):
    root = make_shapes(tmp_path / "shapes", per_class=8)
    shutil.copyfile(root / "circles" / "circles-01.png", root / "circles" / "again.png")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "audit", "./shapes/", "--weights", seeded_weights, "--device", "cpu", "--json")
    assert code == 0, err
    report = json.loads(out)  # stdout is exactly one JSON object
    assert set(report) == {"mislabelled", "duplicates", "leaks"}
    exact = [p for p in report["duplicates"] if p["similarity"] == 1.0]
    assert {p["a"] for p in exact} | {p["b"] for p in exact} == {
        os.path.join("./shapes/", "circles", "again.png"), os.path.join("./shapes/", "circles", "circles-01.png")}
    assert all(set(p) == {"a", "b", "similarity"} for p in report["duplicates"] + report["leaks"])
    for m in report["mislabelled"]:
        assert set(m) == {"path", "folder_label", "predicted", "confidence"}
        assert m["path"].startswith("./shapes/") and m["folder_label"] != m["predicted"]
        assert 0 < m["confidence"] <= 1
    # the copy and its original share bytes: if the split put them on both sides it is a leak too
    for leak in report["leaks"]:
        assert {leak["a"], leak["b"]} <= {p["a"] for p in report["duplicates"]} | {p["b"] for p in report["duplicates"]}

    code, out, err = run_cli(capsys, "audit", "./shapes/", "--weights", seeded_weights, "--device", "cpu")
    assert code == 0, err
    assert "(0 through the network)" in out  # the second audit reads the cached features
    assert "duplicates (" in out and "again.png" in out


def test_a_folder_with_one_class_is_refused(tmp_path, seeded_weights, capsys):
    root = make_shapes(tmp_path / "one", per_class=4, classes=("circles",))
    code, out, err = run_cli(capsys, "audit", root, "--weights", seeded_weights, "--device", "cpu", "--json")
    assert code == 1 and out == ""
    assert "at least 2 class folders" in err
