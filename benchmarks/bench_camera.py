"""The Camera tab on the CPU: frames classified per second, and the GUI's longest stall.

The frames: ``--frames`` seeded 640x480 pictures (shapes on a plain ground, each frame
different), written as an MJPEG video file at 30 frames/s and played into the Camera
tab at ``--speed`` times its rate (default 3: 90 frames/s, more than the model can
answer, as a camera at 30 frames/s is on a slower machine). The app's path is the
whole camera path: Qt Multimedia decodes and converts each frame in the window's
process, the newest frame goes to the worker process whenever the model is free
(the others are dropped), the worker resizes, crops and runs the model (the engine
the app chose), and the top-5 is painted. Measured over ``--seconds`` after a
warm-up: frames answered per second, and the longest gap of a 10 ms GUI timer.

Reference, same frames, same seeded weights, in a process of its own (it sleeps
while the app runs): the frames decoded beforehand (a camera delivers them decoded),
then a bare loop of ``Image.fromarray`` (convert) + ``AlexNet_Weights.IMAGENET1K_V1
.transforms()`` + ``torchvision.models.alexnet()`` forward under ``inference_mode``,
eager and with channels-last weights and input; the faster one is the reference.
Budgets: >= 0.8x the reference's frames per second; GUI stall <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    REPO,
    Heartbeat,
    _draw,
    bench_dir,
    close_window,
    emit,
    engine_note,
    isolate,
    loadavg,
    open_window,
    row,
    seeded_weights,
    wait_model,
    wait_until,
)

RATE_BUDGET = 0.8  # frames answered per second, at least this times the bare torchvision loop's
STALL_BUDGET_MS = 50
FRAME_SIZE = (640, 480)
VIDEO_FPS = 30


def camera_clip(n: int) -> Path:
    """``n`` seeded 640x480 frames as JPEGs and as one MJPEG video of them, written once."""
    import numpy as np

    sys.path.insert(0, str(REPO / "tests"))
    from video_files import write_mjpeg_avi

    folder = bench_dir() / "data" / f"camera-v1-{n}"
    clip = folder / "clip.avi"
    if clip.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    frames = [_draw(i % 4, np.random.default_rng([77, i]), FRAME_SIZE) for i in range(n)]
    for i, frame in enumerate(frames):
        frame.save(folder / f"frame-{i:04d}.jpg", quality=90)
    write_mjpeg_avi(folder / ".clip.part.avi", frames, fps=VIDEO_FPS)
    (folder / ".clip.part.avi").replace(clip)
    return folder


def reference(folder: Path, weights: Path) -> dict:
    """In this process (the child): frames per second of the bare loop, eager and channels-last."""
    import numpy as np
    import torch
    import torchvision
    from PIL import Image
    from torchvision.models import AlexNet_Weights

    frames = []
    for path in sorted(folder.glob("frame-*.jpg")):
        with Image.open(path) as im:
            frames.append(np.asarray(im.convert("RGB")))
    transform = AlexNet_Weights.IMAGENET1K_V1.transforms()
    model = torchvision.models.alexnet()
    model.load_state_dict(torch.load(weights, weights_only=True))
    model.eval()
    out = {}
    for name, fmt in (("eager", torch.contiguous_format), ("channels_last", torch.channels_last)):
        m = model.to(memory_format=fmt)
        with torch.inference_mode():
            for arr in frames[:5]:  # warm
                m(transform(Image.fromarray(arr)).unsqueeze(0).to(memory_format=fmt))
            t0 = time.perf_counter()
            for arr in frames:
                m(transform(Image.fromarray(arr)).unsqueeze(0).to(memory_format=fmt))
            out[name] = len(frames) / (time.perf_counter() - t0)
    return out


def run_reference(folder: Path, weights: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--reference", str(folder), str(weights)],
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_app(folder: Path, weights: Path, speed: float, seconds: float) -> dict:
    _app, window = open_window(weights)
    try:
        wait_model(window)
        view = window.camera_view
        window.tabs.setCurrentWidget(view)
        if not view.prepare():
            raise RuntimeError(view.unavailable)
        feed = view.feed
        view.open_video(str(folder / "clip.avi"), rate=speed, loop=True)
        if not wait_until(lambda: feed.answered >= 20, timeout_s=120):
            raise RuntimeError("the camera path answered fewer than 20 frames in 2 minutes")
        beat = Heartbeat().start()
        answered, received, dropped = feed.answered, feed.received, feed.dropped
        t0 = time.perf_counter()
        wait_until(lambda: time.perf_counter() - t0 >= seconds, timeout_s=seconds + 30)
        span = time.perf_counter() - t0
        stall = beat.stats()
        beat.stop()
        result = {"fps": (feed.answered - answered) / span, "source_fps": (feed.received - received) / span,
                  "dropped": feed.dropped - dropped, "seconds": span, "stall": stall,
                  "model_ms": feed.last_seconds * 1000, "engine": engine_note(window)}
        view.stop()
        return result
    finally:
        close_window(window)


def result(app: dict, ref: dict, n: int, speed: float, load_before: float) -> dict:
    """The two rows from the measurements (pure: the tests check the verdicts)."""
    best = max(ref, key=ref.get)
    ratio = app["fps"] / ref[best]
    stall = app["stall"]["max_stall_ms"]
    rows = [
        row(f"camera: frames classified per second ({FRAME_SIZE[0]}x{FRAME_SIZE[1]} video at "
            f"{VIDEO_FPS * speed:g} frames/s, cpu)", f"{app['fps']:.1f} frames/s",
            f"bare torchvision loop ({best.replace('_', '-')}) {ref[best]:.1f} frames/s", ratio,
            f">= {RATE_BUDGET:g}x", ratio >= RATE_BUDGET),
        row("camera: GUI stall while classifying frames", f"{stall:.0f} ms", "", None,
            f"<= {STALL_BUDGET_MS} ms", stall <= STALL_BUDGET_MS),
    ]
    notes = [f"camera: {n} frames looped for {app['seconds']:.1f} s; the source delivered "
             f"{app['source_fps']:.1f} frames/s, {app['dropped']} dropped while the model was busy; the model "
             f"took {app['model_ms']:.1f} ms for the last frame (resize, crop, forward, in the worker)."
             f"{app['engine']} Reference eager {ref['eager']:.1f}, channels-last {ref['channels_last']:.1f} "
             f"frames/s. GUI p99 stall {app['stall']['p99_stall_ms']} ms."]
    return {"name": "camera-cpu", "rows": rows, "notes": notes, "load_before": load_before}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reference":
        print(json.dumps(reference(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--speed", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    isolate("camera")
    load_before = loadavg()
    weights = seeded_weights()
    folder = camera_clip(args.frames)
    ref = run_reference(folder, weights)
    app = measure_app(folder, weights, args.speed, args.seconds)
    emit(result(app, ref, args.frames, args.speed, load_before))


if __name__ == "__main__":
    main()
