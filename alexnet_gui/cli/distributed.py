"""Commands launched by ``torchrun``: join the process group, share the work, speak as one.

``torchrun --nproc-per-node N -m alexnet_gui.cli finetune|classify ...`` starts N
copies of the command; ``WORLD_SIZE`` > 1 in the environment makes each one a rank
of a ``core.distributed.Team``. Rank 0 scans, prints and writes; every rank's error
names the rank, and a failure of any rank makes the whole launch exit non-zero
(``torchrun`` stops the others). Without ``torchrun`` nothing changes.
"""

from __future__ import annotations

import contextlib
import os

from .common import EXIT_PARTIAL, CliError


def launched() -> bool:
    """True under ``torchrun`` with more than one process (the environment says so)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return True  # let core.distributed name what is wrong with it


def launch_rank() -> int:
    """This process's rank in a ``torchrun`` launch (0 for a plain process), without joining anything."""
    try:
        return int(os.environ.get("RANK", "0")) if launched() else 0
    except ValueError:
        return 0


def is_root() -> bool:
    """True for the process that prints and writes: rank 0, or a plain process."""
    return launch_rank() == 0


@contextlib.contextmanager
def shared_run(bundle, device):
    """(team or None, bundle, device) for the command's work; the bundle moved to the rank's GPU.

    Inside, errors name the rank (``rank 1 of 2: ...``) and an unexpected one becomes a
    one-line failure (exit 1) instead of a traceback; the process group is left at the end."""
    if not launched():  # a plain process: torch.distributed is not even imported
        yield None, bundle, device
        return
    from ..core.distributed import DistributedError, Launch, Team

    try:
        launch = Launch.from_environ()
        team = Team.start(launch, device) if launch is not None else None
    except DistributedError as exc:
        raise CliError(str(exc), code=EXIT_PARTIAL) from None
    if team is None:
        yield None, bundle, device
        return
    if team.device != device:
        bundle, device = bundle.to(team.device), team.device
    try:
        yield team, bundle, device
    except CliError as exc:
        raise CliError(f"{team.name()}: {exc}", code=exc.code) from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as exc:  # noqa: BLE001 - one line naming the rank and the cause, then exit 1
        raise CliError(f"{team.name()} failed: {type(exc).__name__}: {exc}", code=EXIT_PARTIAL) from None
    finally:
        team.close()
