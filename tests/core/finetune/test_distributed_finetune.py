"""Mode ``all`` under torchrun: DistributedDataParallel keeps the two ranks' replicas equal,
every layer trains, and rank 0 alone returns the result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alexnet_gui.core.model import build_model

from .conftest import make_shapes

pytestmark = pytest.mark.distributed


def test_every_layer_trains_in_step_on_two_ranks(tmp_path):
    folder = make_shapes(tmp_path / "shapes", per_class=4)
    probe = Path(__file__).with_name("ddp_probe.py")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                          str(probe), str(folder)], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    rank0, rank1 = seen["sums"]
    for name, value in rank0.items():  # gradients averaged over the ranks: the same update on both
        assert rank1[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name
    seed = {k: float(v.double().sum()) for k, v in build_model(seed=0).state_dict().items()}
    assert rank0["features.0.weight"] != pytest.approx(seed["features.0.weight"], rel=1e-6)  # conv1 trained
    assert seen["epochs"] == 1 and seen["train"] + seen["val"] == 12
