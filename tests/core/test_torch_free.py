"""What the window reads directly imports no torch: fine-tune settings, modes, sample sets,
result types, image checks, the download. Each import runs in a fresh interpreter, in
order, so the first module that pulls torch in is the one named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TORCH_FREE = (
    "alexnet_gui.core.finetune",
    "alexnet_gui.core.finetune.settings",
    "alexnet_gui.core.finetune.samples",
    "alexnet_gui.core.finetune.results",
    "alexnet_gui.core.finetune.control",
    "alexnet_gui.core.finetune.dataset",
    "alexnet_gui.core.finetune.errors",
    "alexnet_gui.core.finetune.cache",
    "alexnet_gui.core.prediction",
    "alexnet_gui.core.activations",
    "alexnet_gui.core.images",
    "alexnet_gui.core.preprocess",
    "alexnet_gui.core.prefetch",
    "alexnet_gui.core.weights_info",
    "alexnet_gui.core.download",
    "alexnet_gui.core.render",
    "alexnet_gui.core.files",
    "alexnet_gui.core.paths",
    "alexnet_gui.core.untrained",
    "alexnet_gui.core.units",
    "alexnet_gui.core.units.top",
    "alexnet_gui.core.units.mosaic",
    "alexnet_gui.core.units.picture_cache",
)

SCRIPT = r"""
import importlib, json, sys
first = None
for name in sys.argv[1:]:
    importlib.import_module(name)
    if first is None and "torch" in sys.modules:
        first = name
from alexnet_gui.core.finetune import MODES, SAMPLE_TITLES, FinetuneSettings
print(json.dumps({"torch_after": first, "torch": "torch" in sys.modules, "modes": list(MODES),
                  "samples": SAMPLE_TITLES, "defaults": FinetuneSettings().as_dict()}))
"""


def test_settings_modes_samples_and_results_import_without_torch():
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *TORCH_FREE], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["torch_after"] is None, f"importing {report['torch_after']} imported torch"
    assert report["torch"] is False
    # What the Fine-tune view reads with no worker to ask: the modes, the sample sets, the defaults.
    assert report["modes"] == ["head", "classifier", "all"]
    assert report["samples"] == {"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
    assert report["defaults"]["mode"] == "head" and report["defaults"]["epochs"] == 10


def test_the_torch_names_still_come_from_the_package_on_first_use():
    import alexnet_gui.core.finetune as finetune
    from alexnet_gui.core.finetune.extract import backbone_features
    from alexnet_gui.core.finetune.run import run_finetune

    assert finetune.run_finetune is run_finetune
    assert finetune.backbone_features is backbone_features
    assert all(hasattr(finetune, name) for name in finetune.__all__)


def test_the_sample_sets_and_their_titles_list_the_same_names():
    from alexnet_gui.core.finetune import SAMPLE_DATASETS, SAMPLE_TITLES

    assert list(SAMPLE_DATASETS) == list(SAMPLE_TITLES)
