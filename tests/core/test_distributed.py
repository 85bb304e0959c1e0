"""core.distributed: who a process is in a torchrun launch, its share, and a real two-rank
Team (gloo) broadcasting, gathering in input order and counting over every rank."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alexnet_gui.core.distributed import DistributedError, Launch, shard_bounds, timeout_from_environ


@pytest.mark.parametrize("n, world", [(0, 2), (1, 2), (7, 2), (10, 3), (1000, 8), (5, 8)])
def test_shards_cover_the_items_once_in_order_and_differ_by_at_most_one(n, world):
    bounds = [shard_bounds(n, world, r) for r in range(world)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))  # contiguous, rank order = input order
    sizes = [hi - lo for lo, hi in bounds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_launch_is_read_from_torchruns_environment():
    assert Launch.from_environ({}) is None  # a plain process
    assert Launch.from_environ({"WORLD_SIZE": "1", "RANK": "0"}) is None  # a world of one shares nothing
    assert Launch.from_environ({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}) == Launch(4, 3, 1)
    with pytest.raises(DistributedError, match="RANK 4 is outside a world of 4"):
        Launch.from_environ({"WORLD_SIZE": "4", "RANK": "4"})
    with pytest.raises(DistributedError, match="whole numbers"):
        Launch.from_environ({"WORLD_SIZE": "two"})


def test_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("ALEXNET_GUI_DIST_TIMEOUT", "42")
    assert timeout_from_environ() == 42.0
    monkeypatch.setenv("ALEXNET_GUI_DIST_TIMEOUT", "soon")
    with pytest.raises(DistributedError, match="ALEXNET_GUI_DIST_TIMEOUT"):
        timeout_from_environ()


@pytest.mark.distributed
def test_two_ranks_broadcast_gather_in_input_order_and_count():
    probe = Path(__file__).with_name("distributed_probe.py")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                          str(probe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["told"] == {"files": ["a", "b"]}  # rank 0's object on rank 1 too (only rank 0 prints)
    assert seen["rows"] == [[3 * i + j + 0.5 for j in range(3)] for i in range(7)]  # 4 + 3 rows, in order
    assert seen["objects"] == [{"rank": 0, "share": [0, 4]}, {"rank": 1, "share": [4, 7]}]
    assert seen["total"] == 7 and seen["backend"] == "gloo"
