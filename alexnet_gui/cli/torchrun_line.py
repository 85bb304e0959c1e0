"""The ``torchrun`` command line that runs a fine-tune with the window's settings on more
processes (or nodes): what the Fine-tune view shows, to copy into a terminal.

Built from the command's own flags (``finetune._SETTINGS_ARGS``), so it parses back to the
same settings; only what differs from the defaults is spelled out, and the seed always
(the same seed, the same split and the same result). Imports neither torch nor Qt.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .finetune import _SETTINGS_ARGS


def finetune_argv(folder: str, settings: dict, defaults: dict | None = None, nproc_per_node: int = 2,
                  out: str | None = None) -> list[str]:
    """``torchrun --nproc-per-node N -m alexnet_gui.cli finetune FOLDER [options] --out MODEL.pt --json``."""
    defaults = defaults or {}
    argv = ["torchrun", f"--nproc-per-node={nproc_per_node}", "-m", "alexnet_gui.cli", "finetune", str(folder)]
    for arg, field in _SETTINGS_ARGS:
        if field not in settings:
            continue
        value = settings[field]
        if field == "seed" or value != defaults.get(field):
            argv += [f"--{arg.replace('_', '-')}", str(value)]
    if settings.get("flip_view"):
        argv.append("--flip")
    argv += ["--out", out or f"{Path(str(folder)).name or 'model'}-alexnet.pt", "--json"]
    return argv


def finetune_line(folder: str, settings: dict, defaults: dict | None = None, nproc_per_node: int = 2,
                  out: str | None = None) -> str:
    """``finetune_argv`` quoted for a POSIX shell."""
    return shlex.join(finetune_argv(folder, settings, defaults, nproc_per_node, out))
