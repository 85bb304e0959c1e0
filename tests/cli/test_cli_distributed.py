"""`alexnet-cli finetune` and `classify` under torchrun (gloo, 2 processes on this machine):
the same answers as one process, only rank 0 speaks and writes, and a failing rank stops
the whole launch with nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from shape_folders import make_shapes
from torchrun_launch import FAULT_SCRIPT, part_files, torchrun

from alexnet_gui.cli import main

pytestmark = pytest.mark.distributed


@pytest.fixture
def folder(tmp_path) -> Path:
    return make_shapes(tmp_path / "shapes", per_class=9)


def cache_entries(cache_root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (cache_root / "alexnet-gui" / "features").rglob("*.f32")}


def assert_same_features(mine_root: Path, theirs_root: Path, names) -> None:
    """Every entry readable in both caches (magic, length, CRC-32 and key checked) and the same
    features. Bit-equal on the machines measured; compared to float rounding, as two batchings
    and thread counts may round differently on another CPU."""
    from alexnet_gui.core.finetune import FeatureCache

    mine, theirs = FeatureCache(mine_root / "alexnet-gui"), FeatureCache(theirs_root / "alexnet-gui")
    for name in names:
        key = name.removesuffix(".f32")
        a, b = mine.get(key, 4096), theirs.get(key, 4096)
        assert a is not None and b is not None
        assert np.max(np.abs(a - b)) <= 1e-5 * max(1.0, float(np.max(np.abs(a))))


def finetune_args(folder, weights, out):
    return ["finetune", folder, "--weights", weights, "--out", out, "--epochs", "5", "--flip", "--device", "cpu",
            "--json"]


def test_finetune_on_two_ranks_matches_one_process(folder, seeded_weights, tmp_path, capsys, monkeypatch):
    alone_cache, team_cache = tmp_path / "alone", tmp_path / "team"
    monkeypatch.setenv("XDG_CACHE_HOME", str(alone_cache))
    assert main([str(a) for a in finetune_args(folder, seeded_weights, tmp_path / "alone.pt")]) == 0
    alone = json.loads(capsys.readouterr().out)

    run = torchrun(*finetune_args(folder, seeded_weights, tmp_path / "team.pt"),
                   env={"XDG_CACHE_HOME": str(team_cache)})
    assert run.returncode == 0, run.stderr
    team = json.loads(run.stdout)  # one JSON object: rank 1 printed nothing
    assert team.pop("world_size") == 2
    assert team["classes"] == alone["classes"]
    # The same split: the same validation count per class, and the same cache keys, where
    # only training images have a flipped entry (so equal key sets mean equal training sets).
    assert np.sum(team["confusion_matrix"], axis=1).tolist() == np.sum(alone["confusion_matrix"], axis=1).tolist()
    mine, theirs = cache_entries(alone_cache), cache_entries(team_cache)
    assert len(mine) == 27 + 21 and set(theirs) == set(mine)  # 27 plain, 21 flipped (6 validation images)
    assert_same_features(alone_cache, team_cache, mine)
    assert abs(team["val_accuracy"] - alone["val_accuracy"]) <= 0.01
    assert (tmp_path / "team.pt").is_file() and not part_files(tmp_path)
    assert run.stderr.count("epoch 5/5") == 1  # progress from rank 0 only


def test_classify_on_two_ranks_prints_the_single_process_json(folder, seeded_weights, tmp_path, capsys):
    inputs = [folder / "squares", folder / "circles" / "circles-03.png", tmp_path / "missing.png", folder]
    args = ["classify", *inputs, "--weights", seeded_weights, "--json"]
    code = main([str(a) for a in args])
    alone = json.loads(capsys.readouterr().out)
    run = torchrun(*args)
    assert run.returncode == code == 1, run.stderr  # the missing file: partial, on both
    team = json.loads(run.stdout)
    assert [e.pop("world_size") for e in team] == [2] * len(alone)
    assert [e["path"] for e in team] == [e["path"] for e in alone]
    for mine, theirs in zip(alone, team):
        assert set(theirs) == set(mine)
        if "error" in mine:
            assert theirs == mine
            continue
        assert [s["label"] for s in theirs["top"]] == [s["label"] for s in mine["top"]]
        for s, t in zip(mine["top"], theirs["top"]):
            assert t["probability"] == pytest.approx(s["probability"], rel=1e-5)


@pytest.mark.parametrize("how, cause", [("kill", "SIGKILL"), ("raise", "rank 1 of 2 failed: RuntimeError: planted fault")])
def test_a_failing_rank_stops_every_rank_and_writes_nothing(how, cause, folder, seeded_weights, tmp_path):
    out = tmp_path / "model.pt"
    cache = tmp_path / "cache"
    run = torchrun(FAULT_SCRIPT, how, *finetune_args(folder, seeded_weights, out), module=False,
                   env={"XDG_CACHE_HOME": str(cache)}, timeout=90)
    assert run.returncode != 0
    assert cause in run.stderr
    assert "rank" in run.stderr and "1" in run.stderr  # torchrun's summary names the failed rank too
    assert run.stdout == "" and not out.exists() and not part_files(tmp_path)


def test_ctrl_c_on_the_launcher_stops_every_rank_and_writes_nothing(folder, seeded_weights, tmp_path):
    out = tmp_path / "model.pt"
    run = torchrun(FAULT_SCRIPT, "interrupt", *finetune_args(folder, seeded_weights, out), module=False,
                   env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=90)
    assert run.returncode != 0
    assert run.stdout == "" and not out.exists() and not part_files(tmp_path)


def test_a_rank_that_cannot_reach_its_check_ends_itself_after_ctrl_c(folder, seeded_weights, tmp_path):
    """A rank stuck where it never checks for the stop (blocked in a collective) removes its
    unfinished writes and exits a few seconds after the signal, before the launcher would
    kill it (30 s), and nothing is written."""
    out = tmp_path / "model.pt"
    run = torchrun(FAULT_SCRIPT, "stuck", *finetune_args(folder, seeded_weights, out), module=False,
                   env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=90)
    assert run.returncode != 0
    assert "stopped while waiting for the other ranks" in run.stderr
    assert "forcefully exiting" not in run.stderr  # not killed by the launcher
    assert run.stdout == "" and not out.exists() and not part_files(tmp_path)


def test_two_processes_extracting_overlapping_folders_into_one_cache(folder, seeded_weights, tmp_path, capsys,
                                                                   monkeypatch):
    import shutil
    import subprocess
    import sys

    halves = {"first": range(0, 6), "second": range(3, 9)}  # images 3-5 of every class in both
    for name, numbers in halves.items():
        for cls in ("circles", "squares", "triangles"):
            (tmp_path / name / cls).mkdir(parents=True)
            for i in numbers:
                shutil.copy(folder / cls / f"{cls}-{i:02d}.png", tmp_path / name / cls)
    shared, alone = tmp_path / "shared", tmp_path / "alone"
    env = {**os.environ, "XDG_CACHE_HOME": str(shared)}
    runs = [subprocess.Popen([sys.executable, "-m", "alexnet_gui.cli", "finetune", tmp_path / name, "--weights",
                              seeded_weights, "--out", tmp_path / f"{name}.pt", "--epochs", "1", "--device", "cpu"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for name in halves]
    assert [r.wait(timeout=120) for r in runs] == [0, 0], [r.stderr.read() for r in runs]
    monkeypatch.setenv("XDG_CACHE_HOME", str(alone))
    assert main([str(a) for a in ["finetune", folder, "--weights", seeded_weights, "--out", tmp_path / "all.pt",
                                  "--epochs", "1", "--device", "cpu"]]) == 0
    capsys.readouterr()
    mine, theirs = cache_entries(alone), cache_entries(shared)
    assert len(mine) == 27 and set(theirs) == set(mine)  # every image once, each written by one or both
    assert_same_features(alone, shared, mine)
    assert not part_files(shared)


def test_unit_scan_on_two_ranks_finds_the_single_process_top_nine(folder, seeded_weights, tmp_path, capsys):
    args = ["unit", folder, "--layer", "conv5", "--channel", "7", "--weights", seeded_weights, "--json"]
    assert main([str(a) for a in args + ["--out", tmp_path / "alone.png"]]) == 0
    alone = json.loads(capsys.readouterr().out)
    run = torchrun(*args, "--out", tmp_path / "team.png")
    assert run.returncode == 0, run.stderr
    team = json.loads(run.stdout)
    assert [e.pop("world_size") for e in team] == [2] * 9
    assert [e["path"] for e in team] == [e["path"] for e in alone]  # the best nine of 27, highest first
    assert [e["box"] for e in team] == [e["box"] for e in alone]
    for mine, theirs in zip(alone, team):
        assert theirs["value"] == pytest.approx(mine["value"], rel=1e-5)
    assert (tmp_path / "team.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not part_files(tmp_path)


def same_to_rounding(a, b) -> bool:
    """Equal JSON, floats to 1e-5 relative (two batchings may round the last bits differently)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(same_to_rounding(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same_to_rounding(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return b == pytest.approx(a, rel=1e-5, abs=1e-9)
    return a == b


def test_audit_on_two_ranks_prints_the_single_process_lists(folder, seeded_weights, tmp_path, capsys):
    import shutil

    shutil.copy(folder / "squares" / "squares-02.png", folder / "circles" / "moved-square.png")  # a mislabel
    args = ["audit", folder, "--weights", seeded_weights, "--json"]
    assert main([str(a) for a in args]) == 0
    alone = json.loads(capsys.readouterr().out)
    run = torchrun(*args)
    assert run.returncode == 0, run.stderr
    team = json.loads(run.stdout)
    assert team.pop("world_size") == 2
    assert same_to_rounding(alone, team), (alone, team)
    # the copy is found on both: a byte-identical duplicate of squares-02.png
    assert any("moved-square.png" in p["a"] + p["b"] for p in team["duplicates"])
