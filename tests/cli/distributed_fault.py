"""A ``torchrun`` target: plant a failure in rank 1 at its first extraction batch, then run
``alexnet-cli`` with the remaining arguments.

    torchrun ... distributed_fault.py kill|raise|interrupt finetune FOLDER ...

kill: rank 1 dies by SIGKILL; raise: it raises RuntimeError("planted fault");
interrupt: it sends SIGINT to the launcher (Ctrl+C on torchrun), waits for the launcher's
signal to reach it, and carries on (its next cancel check stops it).
"""

from __future__ import annotations

import os
import signal
import sys

from alexnet_gui.cli import main
from alexnet_gui.core.finetune import extract


def plant(how: str) -> None:
    original = extract._forward_views

    def failing(*args, **kwargs):
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "raise":
            raise RuntimeError("planted fault")
        if how == "interrupt":
            os.kill(os.getppid(), signal.SIGINT)
            signal.pause()  # until the launcher passes the stop on to this rank
        return original(*args, **kwargs)

    extract._forward_views = failing


if __name__ == "__main__":
    if os.environ.get("RANK") == "1":
        plant(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
