"""A ``torchrun`` target: plant a failure in rank 1 at its first extraction batch, then run
``alexnet-cli`` with the remaining arguments.

    torchrun ... distributed_fault.py kill|raise|interrupt|stuck finetune FOLDER ...

kill: rank 1 dies by SIGKILL; raise: it raises RuntimeError("planted fault");
interrupt: it sends SIGINT to the launcher (Ctrl+C on torchrun), waits for the launcher's
signal to reach it, and carries on (its next cancel check stops it); stuck: the same, then
it never reaches a check (as a rank blocked in a collective whose partner has gone).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from alexnet_gui.cli import main
from alexnet_gui.core.finetune import extract


def plant(how: str) -> None:
    original = extract._forward_views

    def failing(*args, **kwargs):
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "raise":
            raise RuntimeError("planted fault")
        if how in ("interrupt", "stuck"):
            ctrl_c_on_the_launcher()
        if how == "stuck":
            time.sleep(600)  # as a rank blocked in a collective: Python's handler runs, the rank never checks
        return original(*args, **kwargs)

    extract._forward_views = failing


def ctrl_c_on_the_launcher() -> None:
    """SIGINT to torchrun, then wait until the launcher has passed it on to this rank (its
    handler, the command's own, runs as well). A flag, not signal.pause(): the launcher's
    signal may come before pause() would start, and pause() would then wait forever."""
    got = []
    previous = signal.getsignal(signal.SIGINT)

    def relay(signum, frame) -> None:
        got.append(signum)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGINT, relay)
    os.kill(os.getppid(), signal.SIGINT)
    while not got:
        time.sleep(0.005)
    signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    if os.environ.get("RANK") == "1":
        plant(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
