"""Shared pieces of the benchmarks: seeded data, isolated caches, a GUI-thread
heartbeat, event-loop waits and the result line every script prints.

Every benchmark is a script that runs alone (``python benchmarks/bench_x.py``)
and prints one line ``BENCH_RESULT {json}`` last; ``run_all.py`` collects them.
Data and weights live in ``$ALEXNET_BENCH_DIR`` (default: a folder in the
system temp dir), written once and reused, so nothing touches the user's
caches, settings or torch hub folder.

Weights are seeded random (``build_model(seed=0)``): the same tensors and the
same compute as the ImageNet file, without a 233 MB download.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULT_PREFIX = "BENCH_RESULT "
HEARTBEAT_MS = 10
IMAGE_SIZE = (160, 120)  # small generated JPEGs for folders
PHOTO_SIZE = (1024, 768)  # the one "photo" dropped in the latency benchmark
CLASSES = ("ellipse", "rectangle", "triangle", "cross")
DATA_VERSION = 2  # part of every data folder's name: bump when the generator changes


# ---------------------------------------------------------------- environment


def bench_dir() -> Path:
    root = os.environ.get("ALEXNET_BENCH_DIR") or str(Path(tempfile.gettempdir()) / f"alexnet-gui-bench-{os.getuid()}")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def isolate(name: str, fresh: bool = True) -> Path:
    """Point caches, settings and the torch hub at ``bench_dir()/env/<name>``.

    Call before Qt or torch is imported. ``fresh`` empties it first (a cold feature cache)."""
    home = bench_dir() / "env" / name
    if fresh and home.exists():
        shutil.rmtree(home)
    for sub in ("cache", "config", "torch"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(home / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    os.environ["TORCH_HOME"] = str(home / "torch")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # The app's own arrangement: the model in a worker process (the tests' thread host
    # would put torch back into the window's process and measure something else).
    os.environ["ALEXNET_GUI_WORKER_HOST"] = "process"
    return home


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """Resident memory (or ``VmHWM``, the peak) in MiB from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def app_rss_mb(window, field: str = "VmRSS") -> dict:
    """Resident memory of the app in MiB: the window's process, its worker process, and
    both together (the worker's pid comes with its ``ready`` event; nan before that)."""
    pid = window.client.pid
    window_mb = rss_mb("self", field)
    worker_mb = rss_mb(pid, field) if pid else float("nan")
    return {"window": window_mb, "worker": worker_mb, "total": window_mb + worker_mb}


# ---------------------------------------------------------------- data


_WRITE_WEIGHTS = """
import os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import torch
from alexnet_gui.core.model import build_model
path = Path(sys.argv[1])
tmp = path.with_suffix(".part")
torch.save(build_model(seed=0).state_dict(), tmp)
os.replace(tmp, path)
"""


def seeded_weights() -> Path:
    """``build_model(seed=0)``'s state dict, saved like torchvision's file (written once).

    Written by a child process: a benchmark that holds the window must not import torch
    itself, or its process would no longer be the app's torch-free window process."""
    import subprocess

    path = bench_dir() / "seeded-alexnet.pth"
    if not path.exists():
        subprocess.run([sys.executable, "-c", _WRITE_WEIGHTS, str(path), str(REPO)], check=True, timeout=300)
    return path


def _draw(label: int, rng, size: tuple[int, int]):
    """One seeded image of class ``label``: a random background, a few dots, and one big
    shape whose kind is the class and whose hue leans towards the class's own (quarter of
    the colour wheel, spread 0.08 turn), so fc7 of random weights separates the classes
    to ~70 %: well above chance, well below 100 %, room for a head to be worse than a probe."""
    import colorsys

    from PIL import Image, ImageDraw

    w, h = size
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 256, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 6))):  # small distractor dots
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(2, 8))
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    hue = (label / len(CLASSES) + rng.normal(0, 0.08)) % 1.0
    colour = tuple(int(255 * v) for v in colorsys.hsv_to_rgb(hue, rng.uniform(0.5, 1), rng.uniform(0.5, 1)))
    s = int(rng.integers(min(w, h) // 4, min(w, h) // 2))
    cx, cy = int(rng.integers(s, w - s)), int(rng.integers(s // 2 + 1, h - s // 2))
    kind = CLASSES[label % len(CLASSES)]
    if kind == "ellipse":
        d.ellipse((cx - s, cy - s // 2, cx + s, cy + s // 2), fill=colour)
    elif kind == "rectangle":
        d.rectangle((cx - s, cy - s // 2, cx + s, cy + s // 2), fill=colour)
    elif kind == "triangle":
        d.polygon([(cx, cy - s // 2), (cx - s, cy + s // 2), (cx + s, cy + s // 2)], fill=colour)
    else:  # cross
        t = max(3, s // 4)
        d.rectangle((cx - s, cy - t, cx + s, cy + t), fill=colour)
        d.rectangle((cx - t, cy - s // 2, cx + t, cy + s // 2), fill=colour)
    return img


def shapes_folder(per_class: int, name: str | None = None, flat: bool = False, seed: int = 0) -> Path:
    """``per_class`` seeded 160x120 JPEGs of each shape in ``CLASSES``, written once.

    Class-per-folder (``<class>/<n>.jpg``, for fine-tuning) unless ``flat``."""
    import numpy as np

    name = name or f"shapes-v{DATA_VERSION}-{per_class}{'-flat' if flat else ''}-s{seed}"
    target = bench_dir() / "data" / name
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
    for c, kind in enumerate(CLASSES):
        folder = tmp if flat else tmp / kind
        folder.mkdir(exist_ok=True)
        for i in range(per_class):
            rng = np.random.default_rng([seed, c, i])
            _draw(c, rng, IMAGE_SIZE).save(folder / f"{kind}-{i:04d}.jpg", quality=90)
    os.replace(tmp, target)
    return target


def photo_copies(n: int) -> list[Path]:
    """``n`` files holding the same seeded 1024x768 JPEG (a typical dropped photo)."""
    import numpy as np

    folder = bench_dir() / "data" / f"photo-v{DATA_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    master = folder / "photo-00.jpg"
    if not master.exists():
        img = _draw(0, np.random.default_rng(1234), PHOTO_SIZE)
        img.save(folder / ".photo.part.jpg", quality=92)
        os.replace(folder / ".photo.part.jpg", master)
    paths = [master]
    for i in range(1, n):
        p = folder / f"photo-{i:02d}.jpg"
        if not p.exists():
            shutil.copyfile(master, p)
        paths.append(p)
    return paths


# ---------------------------------------------------------------- reference model


def torchvision_reference(device: str = "cpu"):
    """torchvision's own AlexNet with the seeded weights and its ImageNet transforms."""
    import torch
    import torchvision
    from torchvision.models import AlexNet_Weights

    model = torchvision.models.alexnet()
    model.load_state_dict(torch.load(seeded_weights(), weights_only=True))
    return model.eval().to(device), AlexNet_Weights.IMAGENET1K_V1.transforms()


class ReferenceProcess:
    """``reference_child.py`` running beside the benchmark: ``seconds(path)`` times torchvision's
    open + transform + forward of ``path`` in that separate process; with ``hook`` (a module
    name such as ``features.0``) the forward keeps that module's output (a forward hook)."""

    def __init__(self, weights: Path, device: str = "cpu", hook: str | None = None) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("reference_child.py")), str(weights), device,
             *([hook] if hook else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the reference process did not start")

    def seconds(self, path) -> float:
        """The reference's total for ``path``; the part before its forward pass (open +
        convert + transform) is kept in ``self.before_forward``."""
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        total, self.before_forward = (float(v) for v in self.proc.stdout.readline().split())
        return total

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def preprocessed(paths, transform):
    """(N, 3, 224, 224) float tensor of the images at ``paths`` (not timed by callers)."""
    import torch
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append(transform(im.convert("RGB")))
    return torch.stack(out)


def model_only_forward_seconds(model, x, batch: int = 64, device: str = "cpu") -> float:
    """Wall time of the forward passes over ``x`` in batches (inputs already on the device)."""
    import torch

    chunks = [x[s : s + batch].to(device) for s in range(0, x.shape[0], batch)]
    with torch.inference_mode():
        for _ in range(2):  # warm: the first calls at a new batch shape set up kernels and memory
            model(chunks[0])
        sync(device)
        t0 = time.perf_counter()
        for c in chunks:
            model(c)
        sync(device)
    return time.perf_counter() - t0


class PathsDataset:
    """What a torchvision user writes for a flat folder (``ImageFolder`` wants class
    subfolders): a map-style ``Dataset`` over the paths, PIL open + convert("RGB") +
    the weights' transforms, done in the ``DataLoader``'s worker processes."""

    def __init__(self, paths, transform) -> None:
        self.paths = [str(p) for p in paths]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        from PIL import Image

        with Image.open(self.paths[i]) as im:
            return self.transform(im.convert("RGB"))


def dataloader_reference_seconds(model, paths, transform, workers: int, batch: int = 64,
                                 device: str = "cpu") -> float:
    """A capable torchvision user's folder classification, decode included: a ``DataLoader``
    (``workers`` decode processes, batch ``batch``, pinned memory on CUDA) over
    ``PathsDataset`` feeding ``model`` (give it channels-last weights) under
    ``inference_mode``; argmax of each batch taken, as any user needs an answer.
    Timed from creating the loader (its workers start inside the clock, as in a
    user's script) to the last batch's result; the model is warmed at the batch
    shape beforehand."""
    import torch
    from torch.utils.data import DataLoader

    with torch.inference_mode():
        warm = torch.zeros(batch, 3, 224, 224, device=device)
        for _ in range(2):
            model(warm)
        sync(device)
        del warm
        t0 = time.perf_counter()
        loader = DataLoader(PathsDataset(paths, transform), batch_size=batch, num_workers=workers,
                            pin_memory=str(device).startswith("cuda"))
        seen = 0
        for x in loader:
            model(x.to(device, non_blocking=True)).argmax(1).cpu()
            seen += x.shape[0]
        seconds = time.perf_counter() - t0
    if seen != len(paths):
        raise RuntimeError(f"the DataLoader gave {seen} images, expected {len(paths)}")
    return seconds


def channels_last(model):
    """A copy of ``model`` with its conv weights channels-last (NHWC), as a torchvision
    user who read the performance guide keeps them."""
    import copy

    import torch

    return copy.deepcopy(model).to(memory_format=torch.channels_last)


def channels_last_note(model, x, device: str, batch: int = 64) -> str:
    """How fast the same reference forward runs with its conv weights channels-last, as the
    app keeps them on the CPU (``core.device.place_model``): where the app's lead comes from."""
    import copy

    import torch

    if device != "cpu":
        return ""
    fast = copy.deepcopy(model).to(memory_format=torch.channels_last)
    seconds = model_only_forward_seconds(fast, x, batch, device)
    return (f" The same torchvision forward with channels-last conv weights (what the app runs on the CPU): "
            f"{seconds:.2f} s ({x.shape[0] / seconds:.1f} img/s).")


def sync(device) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


# ---------------------------------------------------------------- Qt helpers


def qapp():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv[:1])


def open_window(weights: Path, device: str = "cpu", show: bool = True):
    """The real window (``create_window``) with the seeded weights; not waited for."""
    from PySide6.QtCore import QSettings

    app = qapp()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.environ["XDG_CONFIG_HOME"])
    from alexnet_gui.app import create_window

    window = create_window(["--weights", str(weights), "--device", device])
    if show:
        window.show()
    from alexnet_gui.app import freeze_startup_heap

    freeze_startup_heap(window)  # as the app's main() does
    return app, window


def wait_until(condition, signals=(), timeout_s: float = 120.0) -> bool:
    """Run the real event loop until ``condition()`` holds; wakes on any of ``signals``
    and every 50 ms. No busy polling: the loop sleeps between events."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    wake = QTimer()
    wake.setInterval(50)
    wake.timeout.connect(loop.quit)
    conns = [s.connect(loop.quit) for s in signals]
    wake.start()
    try:
        while not condition():
            if time.monotonic() > deadline:
                return False
            loop.exec()
        return True
    finally:
        wake.stop()
        for s in signals:
            with contextlib.suppress(RuntimeError, TypeError):
                s.disconnect(loop.quit)
        del conns


def idle(seconds: float) -> None:
    """Let the event loop run (nothing else) for ``seconds``."""
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() >= end, timeout_s=seconds + 5)


def drop_files(window, paths, hover_s: float = 0.0) -> float:
    """A user's drop of ``paths`` on the window: drag enter, then drop (both synthesised).

    ``hover_s``: the time between the two, with a drag move every 16 ms as a window system
    sends them while the pointer travels; 0 sends the drop right after the enter.
    Returns ``time.perf_counter()`` just before the drop: when the user let go."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = window.rect().center()
    enter = QDragEnterEvent(QPoint(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    end = time.monotonic() + hover_s
    while time.monotonic() < end:
        idle(0.016)
        move = QDragMoveEvent(QPoint(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(window, move)
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    t0 = time.perf_counter()
    QApplication.sendEvent(window, drop)
    return t0


def classify_folder(window, folder, n: int, timeout_s: float = 900) -> float:
    """Open ``folder`` in the window's Classify view as a user does; seconds until the
    folder job has finished (``batch_running()`` false again). Checks all ``n`` were done."""
    view = window.classify_view
    t0 = time.perf_counter()
    queued = window.open_paths([str(folder)])
    if queued != n:
        raise RuntimeError(f"{queued} images queued, expected {n}")
    if not wait_until(lambda: not view.batch_running(), [view.batch_running_changed], timeout_s):
        raise RuntimeError("the folder job did not finish")
    seconds = time.perf_counter() - t0
    done = sum(e.status == "done" for e in view.images.entries())
    if done < n:
        raise RuntimeError(f"only {done} of {n} images classified")
    return seconds


def close_window(window) -> None:
    window.close()
    wait_until(lambda: not window.client.is_running(), timeout_s=30)


def wait_model(window, timeout_s: float = 180.0) -> None:
    """Until the model has loaded and the engine the app chose is ready: after a load the worker
    classifies with torch while it exports (or reads from its cache) and checks the ONNX graphs
    in the background, so the app is measured as it runs once that is done."""
    if not wait_until(lambda: window.model_info is not None, [window.client.worker.model_loaded], timeout_s):
        raise RuntimeError(f"the model did not load within {timeout_s:.0f} s")
    controls = getattr(window, "engine_controls", None)
    if controls is not None and not wait_until(lambda: controls.state is not None and controls.state.ready,
                                               [window.client.events.engine_changed], timeout_s):
        raise RuntimeError(f"the inference engine was not ready within {timeout_s:.0f} s")


def engine_note(window) -> str:
    """Which engine the app classified with, for a benchmark's notes."""
    state = getattr(getattr(window, "engine_controls", None), "state", None)
    return f" The app's engine: {state.line()}." if state is not None else ""


def on_gui(signal, fn):
    """Connect ``fn`` to a (worker) signal so it runs on the GUI thread.

    A plain function connected to a worker's signal runs in the worker's thread
    (no receiver object, so no queueing); a bound method of a GUI-thread QObject
    is queued. The relay is kept alive by being returned; hold on to it."""
    from PySide6.QtCore import QObject

    class Relay(QObject):
        def call(self, *args):
            fn(*args)

    relay = Relay()
    signal.connect(relay.call)
    return relay


class Heartbeat:
    """A 10 ms timer on the GUI thread; a stall is the longest gap between ticks minus 10 ms.

    ``mark()`` starts a phase; ``stats()`` reports the phase so far (the open gap
    since the last tick counts too, so a stall still in progress is not missed)."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.mark()

    def start(self) -> "Heartbeat":
        self.mark()
        self.timer.start()
        return self

    def stop(self) -> None:
        self.timer.stop()

    def mark(self) -> None:
        self.last = time.perf_counter()
        self.gaps: list[float] = []
        self.worst = (0.0, self.last)  # (longest gap, perf_counter when it began)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self.last)
        if now - self.last > self.worst[0]:
            self.worst = (now - self.last, self.last)
        self.last = now

    def stats(self) -> dict:
        now = time.perf_counter()
        gaps = self.gaps + [now - self.last]
        stalls = sorted(max(0.0, g - self.interval) * 1000 for g in gaps)
        worst_began = self.worst[1] if self.worst[0] >= now - self.last else self.last
        return {
            "max_stall_ms": round(stalls[-1], 1),
            "max_stall_began": worst_began,  # perf_counter: where in the phase it fell
            "p99_stall_ms": round(stalls[min(len(stalls) - 1, int(0.99 * len(stalls)))], 1),
            "ticks": len(self.gaps),
            "stalls_over_50ms": sum(s > 50 for s in stalls),
        }


# ---------------------------------------------------------------- results


def row(what: str, measured: str, reference: str, ratio: float | None, budget: str, passed: bool | None) -> dict:
    return {"what": what, "measured": measured, "reference": reference,
            "ratio": None if ratio is None else round(ratio, 3), "budget": budget, "passed": passed}


def median(values) -> float:
    return statistics.median(values)


def emit(result: dict) -> None:
    """Print the result line ``run_all.py`` looks for (last line of stdout)."""
    result.setdefault("load_after", loadavg())
    print(RESULT_PREFIX + json.dumps(result, default=float), flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
