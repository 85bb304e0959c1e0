"""The core must run headless: importing any of it never pulls in Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, pkgutil, sys, importlib
import alexnet_gui.core as core
names = ["alexnet_gui.core"]
def failed(name):
    raise ImportError(f"cannot import {name}")
for info in pkgutil.walk_packages(core.__path__, prefix="alexnet_gui.core.", onerror=failed):
    importlib.import_module(info.name)
    names.append(info.name)
qt = sorted(m for m in sys.modules if m == "PySide6" or m.startswith(("PySide6.", "shiboken6", "PyQt")))
print(json.dumps({"modules": names, "qt": qt}))
"""


def test_importing_every_core_module_never_imports_qt():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    # the walk really covered the package, subpackages included
    assert {"alexnet_gui.core.model", "alexnet_gui.core.images", "alexnet_gui.core.predict"} <= set(report["modules"])
    core_dir = ROOT / "alexnet_gui" / "core"
    subpackages = {
        "alexnet_gui.core." + ".".join(init.parent.relative_to(core_dir).parts)
        for init in core_dir.rglob("__init__.py")
        if init.parent != core_dir
    }
    assert subpackages <= set(report["modules"])
    assert report["qt"] == []
