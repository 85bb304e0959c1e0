"""Every result that crosses from the model's process to the window unpickles without torch or Qt.

Unpickling an object imports the module its class is defined in; the window's process
never imports torch, so each type below must live in a torch-free module. Each is built
here (with torch loaded), pickled, unpickled in a fresh interpreter that then checks
``sys.modules``, pickled back, and compared with the original field by field.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import types
from pathlib import Path

import numpy as np

from alexnet_gui.core.explain import ExplainError, ExplainSettings, Explanation, UnknownClassError
from alexnet_gui.core.finetune import (
    MODES,
    SAMPLE_DATASETS,
    SAMPLE_TITLES,
    CacheInfo,
    FinetuneCancelled,
    FinetuneError,
    FinetuneSettings,
    HealthReport,
    ImageEntry,
    SkippedFile,
)
from alexnet_gui.core.finetune.control import Eta, Progress
from alexnet_gui.core.finetune.results import FinetuneResult, ValPrediction
from alexnet_gui.core.finetune.train import EpochStats
from alexnet_gui.core.images import ImageLoadError
from alexnet_gui.core.introspect import LayerActivation
from alexnet_gui.core.predict import ClassScore, Prediction
from alexnet_gui.core.units import TopImage, TopImages, Unit, UnitError, UnitFrame, UnitPicture, VisualizeSettings
from alexnet_gui.core.weights import DownloadCancelled, WeightsError

ROOT = Path(__file__).resolve().parents[2]

UNPICKLE = r"""
import pickle, sys
objects = pickle.loads(sys.stdin.buffer.read())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "PySide6", "shiboken6"))
assert not heavy, f"unpickling imported {heavy[:5]}"
assert 'torch' not in sys.modules and 'PySide6' not in sys.modules
sys.stdout.buffer.write(pickle.dumps(objects, protocol=5))
"""


def _samples() -> dict[str, object]:
    """One instance of every type that crosses, by name (each listed explicitly)."""
    score = ClassScore("tabby", 281, 0.75)
    entry = ImageEntry("/data/cats/a.png", 0, "ab" * 32)
    skipped = SkippedFile("/data/cats/b.txt", "not an image file (.txt)")
    settings = FinetuneSettings(mode="classifier", epochs=3, flip_view=True)
    epoch = EpochStats(1, 0.9, 0.5, 1.1, 0.4)
    val = ValPrediction("/data/dogs/c.png", "dogs", "cats", 0.8)
    failed = FinetuneError("class 'dogs' has 1 readable image: each class needs at least 2", [skipped])
    return {
        "ClassScore": score,
        "Prediction": Prediction("/data/cat.jpg", [score], seconds=0.02),
        "Prediction (error)": Prediction("/data/x.jpg", error="x.jpg: the file is empty (0 bytes)"),
        "LayerActivation": LayerActivation("features.1", "ReLU", np.arange(24, dtype=np.float32).reshape(2, 3, 4)),
        "Progress": Progress("train", 2, 10, 3.5, loss=0.5, accuracy=0.75, val_loss=0.6, val_accuracy=0.7,
                             batch=1, batches=4, message="epoch 2"),
        "Eta": Eta(10, start_step=2),
        "ImageEntry": entry,
        "SkippedFile": skipped,
        "HealthReport": HealthReport("/data", "folders", ["cats", "dogs"], [entry], [], [skipped], ["w"], ["p"]),
        "FinetuneSettings": settings,
        "MODES": MODES,
        "SAMPLE_DATASETS": SAMPLE_DATASETS,
        "SAMPLE_TITLES": SAMPLE_TITLES,
        "EpochStats": epoch,
        "ValPrediction": val,
        "FinetuneResult": FinetuneResult(
            classes=["cats", "dogs"], epochs=[epoch], val_accuracy=0.5, per_class_accuracy=[1.0, 0.0],
            confusion_matrix=np.array([[1, 0], [1, 0]], dtype=np.int64), mistakes=[val], skipped=[skipped],
            seconds=1.5, state_dict=None, settings=settings, train_count=8, val_count=2, layout="folders",
            computed=10, warnings=["w"], val_predictions=[val]),
        "FinetuneError": failed,
        "FinetuneCancelled": FinetuneCancelled("fine-tune cancelled"),
        "CacheInfo": CacheInfo("/cache", 3, 300, 0),
        "ImageLoadError": ImageLoadError("/data/x.jpg", "the file is empty (0 bytes)"),
        "WeightsError": WeightsError("w.pth: no such weights file"),
        "DownloadCancelled": DownloadCancelled("w.pth: download cancelled; nothing was saved"),
        "ExplainSettings": ExplainSettings(method="occlusion", target="tabby", patch=48),
        "Explanation": Explanation("/data/cat.jpg", "gradcam", "features.11", score,
                                   np.linspace(0, 1, 224 * 224, dtype=np.float32).reshape(224, 224), 0.3, "units",
                                   (10, 20), (30, 40), (640, 480), np.zeros((224, 224, 3), np.uint8), "seeded",
                                   {"method": "gradcam"}, 0.05),
        "ExplainError": ExplainError("'features.12' is not a convolution block"),
        "UnknownClassError": UnknownClassError("no class named 'x'"),
        "TopImages": TopImages(Unit("features.10", 3), [
            TopImage("/data/a.png", 1.5, (0, 0, 40, 40), (0, 0, 97, 97), (2, 0), np.zeros((97, 97, 3), np.uint8)),
            TopImage("/data/b.png", 1.0, (0, 0, 64, 48), (0, 0, 224, 224), None)], 14, 2, {"/data/c.png": "empty"}),
        "UnitFrame": UnitFrame(Unit("classifier.6", 9), 8, 256, np.zeros((224, 224, 3), np.uint8)),
        "UnitPicture": UnitPicture(Unit("features.7", 20), np.zeros((224, 224, 3), np.uint8), 0.5, 0.01,
                                   VisualizeSettings(steps=64), True),
        "UnitError": UnitError("no layer named 'conv9'"),
    }


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, BaseException):
        return str(a) == str(b) and _same(vars(a), vars(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, types.FunctionType):  # the sample sets' loaders travel by name
        return a is b
    if hasattr(a, "__dict__"):
        return _same(vars(a), vars(b))
    return a == b


def test_every_crossing_type_unpickles_without_torch_or_qt():
    objects = _samples()
    proc = subprocess.run([sys.executable, "-c", UNPICKLE], cwd=ROOT, input=pickle.dumps(objects, protocol=5),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    back = pickle.loads(proc.stdout)
    assert back.keys() == objects.keys()
    for name, original in objects.items():
        assert _same(back[name], original), name


def test_an_image_error_keeps_its_path_and_reason_across_processes():
    back = pickle.loads(pickle.dumps(ImageLoadError("/data/x.jpg", "the file is empty (0 bytes)")))
    assert (back.path, back.reason, str(back)) == ("/data/x.jpg", "the file is empty (0 bytes)",
                                                   "x.jpg: the file is empty (0 bytes)")


def test_a_refusal_keeps_the_files_it_skipped():
    skipped = [SkippedFile("/d/a.txt", "not an image file (.txt)")]
    back = pickle.loads(pickle.dumps(FinetuneError("too few images", skipped)))
    assert (str(back), back.skipped) == ("too few images", skipped)
