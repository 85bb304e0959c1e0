"""Screenshots of the real window for the README: `make screenshots` (or
`python packaging/screenshots.py docs`).

Runs the app on a virtual X screen (restarting itself under xvfb-run when there
is no display), opens the sample images, and saves one PNG per view: Classify
with its top-5, Model, Filters, Feature maps, Fine-tune after a real run on
the Fashion-MNIST sample (Debian's dataset-fashion-mnist) or, without it, on
generated shapes, and Camera playing a video of the sample pictures. Settings and caches go to a temporary folder.

Weights: the ImageNet file when it is in the torch hub cache (or given with
--weights); otherwise the app's own untrained start (random weights, the banner
offering the download), exactly what a first start without the file shows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1280, 820)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?", default=str(ROOT / "docs"))
    p.add_argument("--weights", help="weights file (default: the hub cache, else seeded random)")
    args = p.parse_args()
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        if shutil.which("xvfb-run") is None:
            print("screenshots need Xvfb: apt-get install xvfb xauth (or set QT_QPA_PLATFORM=offscreen)",
                  file=sys.stderr)
            return 2
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, *sys.argv[1:]]
        return subprocess.call(cmd)
    tmp = Path(tempfile.mkdtemp(prefix="alexnet-gui-shots-"))
    os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
    try:
        return shoot(Path(args.out), args.weights, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wait_until(condition, timeout: float, what: str) -> None:
    """Run the real event loop until ``condition()`` holds (never busy-polls)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start(50)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QTimer.singleShot(250, loop.quit)
        loop.exec()
    timer.stop()


def settle(ms: int = 400) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def shapes_folder(tmp: Path) -> str:
    """Three classes of drawn shapes, for when the Fashion-MNIST files are missing."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(0)
    root = tmp / "shapes"
    for name, colour in (("circles", (200, 40, 40)), ("squares", (40, 160, 60)), ("triangles", (40, 60, 200))):
        (root / name).mkdir(parents=True)
        for i in range(40):
            im = Image.new("RGB", (96, 96), tuple(rng.randint(180, 255) for _ in range(3)))
            d = ImageDraw.Draw(im)
            x, y, r = rng.randint(25, 70), rng.randint(25, 70), rng.randint(12, 24)
            if name == "circles":
                d.ellipse((x - r, y - r, x + r, y + r), fill=colour)
            elif name == "squares":
                d.rectangle((x - r, y - r, x + r, y + r), fill=colour)
            else:
                d.polygon([(x, y - r), (x - r, y + r), (x + r, y + r)], fill=colour)
            im.save(root / name / f"{i:03d}.png")
    return str(root)


def shoot(out: Path, weights: str | None, tmp: Path) -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    from alexnet_gui.app import create_window
    from alexnet_gui.core.weights import resolve_weights
    from alexnet_gui.resources_paths import sample_images

    out.mkdir(parents=True, exist_ok=True)
    found = resolve_weights(weights)  # explicit path, else the hub cache, else None: untrained
    samples = [str(p) for p in sample_images()]
    argv = ["--device", "cpu", *samples]
    window = create_window((["--weights", str(found)] if found else []) + argv)
    window.resize(*SIZE)
    window.show()
    app = QApplication.instance()
    view = window.classify_view
    wait_until(lambda: window.model_info is not None, 120, "the model")
    wait_until(lambda: all(e.status in ("done", "error") for e in view.images.entries()), 120, "classification")
    ball = next((p for p in samples if "ball" in Path(p).name), samples[0])
    view.select(ball)
    wait_until(lambda: len(view.bars.texts()) == 5 and view.images.entry_for(ball).preview is not None, 60,
               "the top-5")
    settle()
    saved = [grab(window, out / "classify.png")]

    window.tabs.setCurrentWidget(window.model_view)
    settle()
    saved.append(grab(window, out / "model.png"))

    window.tabs.setCurrentWidget(window.filters_view)
    settle()
    saved.append(grab(window, out / "filters.png"))

    maps = window.feature_maps_view
    window.tabs.setCurrentWidget(maps)
    shown = []
    maps.features_shown.connect(lambda *a: shown.append(a))
    wait_until(lambda: bool(shown), 60, "feature maps")
    maps.show_channel("features.3", 7)
    settle()
    saved.append(grab(window, out / "feature-maps.png"))

    ft = window.finetune_view
    window.tabs.setCurrentWidget(ft)
    ended, reported = [], []
    ft.run_ended.connect(ended.append)
    ft.health_report_shown.connect(lambda: reported.append(True))
    wait_until(ft.is_ready, 120, "the fine-tune defaults")
    if Path("/usr/share/datasets/fashion-mnist").is_dir():
        ft.create_sample("fashion-mnist")
    else:
        ft.set_folder(shapes_folder(tmp))
    wait_until(lambda: bool(reported), 300, "the health report")
    ft.set_settings(epochs=15)
    ft.start()
    wait_until(lambda: bool(ended), 600, "the fine-tune")
    settle(800)
    saved.append(grab(window, out / "finetune.png"))

    saved.append(camera_shot(window, out, tmp, samples))
    window.close()
    app.processEvents()
    for path in saved:
        print(path)
    return 0


def camera_shot(window, out: Path, tmp: Path, samples: list[str]) -> Path:
    """The Camera tab playing a short video of the sample pictures (no camera here), live top-5
    and rates shown, after a second of capture into a class of the fine-tune folder."""
    sys.path.insert(0, str(ROOT / "tests"))
    from PIL import Image
    from video_files import write_mjpeg_avi

    frames = []
    for path in samples:
        with Image.open(path) as im:
            frames += [im.convert("RGB").resize((640, 480))] * 30
    clip = write_mjpeg_avi(tmp / "samples.avi", frames, fps=30)
    view = window.camera_view
    window.tabs.setCurrentWidget(view)
    view.class_box.setEditText("my-objects")
    view.open_video(str(clip), loop=True)
    wait_until(lambda: view.feed.answered >= 10, 60, "the camera's top-5")
    if view.record_button.isEnabled():
        view.record_button.pressed.emit()
        settle(1000)
        view.record_button.released.emit()
    settle(1500)
    shot = grab(window, out / "camera.png")
    view.stop()
    return shot


def grab(window, path: Path) -> Path:
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
