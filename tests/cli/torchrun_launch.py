"""Launching the command line under ``torchrun`` (gloo, this machine) for the distributed tests.

``torchrun`` is ``python -m torch.distributed.run`` from the test's own interpreter;
``--standalone`` picks a free port, so tests never collide. ``fault_script`` is a
target that plants a failure in one rank before running the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FAULT_SCRIPT = Path(__file__).with_name("distributed_fault.py")


def torchrun(*argv, nproc: int = 2, env: dict | None = None, timeout: float = 120,
             module: bool = True) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node N -m alexnet_gui.cli ARGV`` (or a script when not ``module``)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "--monitor-interval=0.2"]
    cmd += ["-m", "alexnet_gui.cli"] if module else []
    cmd += [str(a) for a in argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def part_files(*folders: Path) -> list[Path]:
    """Temp files a write left behind (write_atomically's ``.NAME.RANDOM.part``)."""
    return [p for folder in folders if folder.exists() for p in folder.rglob("*.part")]
