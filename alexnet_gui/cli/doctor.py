"""`alexnet-cli doctor`: does everything the window needs work on this machine?

It starts the model process exactly as the window does (spawned, the same
messages over the same pipe), loads the weights, classifies an image through it,
waits for the inference engine to be ready, stops the process and checks that it
exited; then it looks for a display and for Qt Multimedia and the cameras. Each
check prints one line (or a JSON object with ``--json``); exit status 0 when every
check that the window cannot do without passed, 1 otherwise. In the standalone
bundle this is how to check that its model process starts from the frozen program.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

from ..core.engine import engine_label
from .common import EXIT_OK, EXIT_PARTIAL, CliError
from .engine_args import add_engine_arg

ENGINE_WAIT_S = 300.0  # a first load exports the model to ONNX in a process of its own


class CheckFailed(Exception):
    """What the model process said went wrong."""


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check that the model process, the engine, a display and the camera work here")
    p.add_argument("image", nargs="?", help="an image to classify through the model process (default: a bundled sample)")
    p.add_argument("--weights", metavar="PATH", help="weights file (default: the ImageNet weights, else untrained)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    add_engine_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(handler=_cmd_doctor)


def _cmd_doctor(args) -> int:
    image = args.image or _sample()
    checks = {"model_process": _model_process(args.weights, args.device, args.engine, image),
              "display": _display(), "camera": _camera()}
    needed_ok = checks["model_process"]["ok"]
    if args.json:
        print(json.dumps({"ok": needed_ok, "checks": checks}, indent=2))
    else:
        for name, c in checks.items():
            print(f"{'ok  ' if c['ok'] else 'FAIL'} {name.replace('_', ' ')}: {c['detail']}")
    return EXIT_OK if needed_ok else EXIT_PARTIAL


def _sample() -> str:
    from ..resources_paths import sample_images

    samples = sample_images()
    if not samples:
        raise CliError("no image given and no bundled sample images found")
    return str(samples[0])


def _model_process(weights: str | None, device: str, engine: str, image: str) -> dict:
    """Spawn the worker as the window does, then load, classify, wait for the engine, stop."""
    from ..worker.main import process_main
    from ..worker.wire import Channel

    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=True)
    t0 = time.perf_counter()
    proc = ctx.Process(target=process_main, args=(theirs,), name="alexnet-gui-model", daemon=True)
    proc.start()
    theirs.close()
    channel = Channel(mine)
    out: dict = {"ok": False, "pid": proc.pid}
    try:
        out.update(_converse(channel, weights, device, engine, image, t0))
        channel.send(("stop",))
        proc.join(10)
        out["exit_code"] = proc.exitcode
        out["ok"] = bool(out.get("top1")) and proc.exitcode == 0
    except (CheckFailed, TimeoutError) as exc:
        out["error"] = str(exc)
    except (EOFError, OSError) as exc:
        proc.join(1)
        out["error"] = f"the model process stopped (exit code {proc.exitcode}; {type(exc).__name__} {exc})"
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        channel.close()
    out["detail"] = _describe(out)
    return out


def _converse(channel, weights, device, engine, image, t0) -> dict:
    got: dict = {}
    channel.send(("engine", engine))
    channel.send(("load", str(Path(weights).resolve()) if weights else None, device))
    got.update(_until(channel, "model_loaded", lambda info: {
        "started_s": round(time.perf_counter() - t0, 2), "weights": info.description, "device": info.device,
        "engine": info.engine, "engine_ready": info.engine_ready}))
    t1 = time.perf_counter()
    channel.send(("classify", 1, [image]))
    got.update(_until(channel, "predictions_ready", lambda _id, results: _top1(results), want_final=True))
    got["classify_ms"] = round((time.perf_counter() - t1) * 1000, 1)
    if not got["engine_ready"]:
        got.update(_until(channel, "engine_changed", lambda e: {"engine": e.engine, "engine_reason": e.reason}
                          if e.ready else None, timeout_s=ENGINE_WAIT_S))
    return got


def _until(channel, name: str, read, want_final: bool = False, timeout_s: float = 120.0) -> dict:
    """Events until ``name`` arrives and ``read(*args)`` gives a dict (None: keep waiting)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not channel.conn.poll(max(0.0, end - time.monotonic())):
            break
        message = channel.recv()
        if message[0] != "event":
            continue
        _, event, args = message
        if event == "model_load_failed":
            raise CheckFailed(f"the weights did not load: {args[0]}")
        if event == "job_failed":
            raise CheckFailed(f"classifying failed: {args[1]}")
        if event == name:
            if want_final and getattr(args[1][0], "pictures_pending", False):
                continue  # the top-5 went first; its pictures follow in a second message
            got = read(*args)
            if got is not None:
                return got
    raise TimeoutError(f"no {name.replace('_', ' ')} within {timeout_s:.0f} s")


def _top1(results) -> dict:
    prediction = results[0].prediction
    if prediction.error:
        raise CheckFailed(f"the image could not be classified: {prediction.error}")
    best = prediction.top[0]
    return {"top1": best.label, "probability": round(best.probability, 4)}


def _describe(c: dict) -> str:
    if "error" in c:
        return f"did not work: {c['error']}"
    engine = engine_label(c.get("engine") or "torch")
    why = f" ({c['engine_reason']})" if c.get("engine_reason") else ""
    return (f"process {c['pid']} started and loaded {c['weights']} on {c['device']} in {c['started_s']} s; "
            f"classified the image as {c['top1']} ({c['probability'] * 100:.1f} %) in {c['classify_ms']} ms; "
            f"engine {engine}{why}; stopped with exit code {c['exit_code']}")


def _display() -> dict:
    import os

    from ..app import display_problem

    problem = display_problem()
    platform = os.environ.get("QT_QPA_PLATFORM")
    found = f"windows can open (QT_QPA_PLATFORM={platform})" if platform else "a display is available"
    return {"ok": problem is None, "detail": problem or found}


def _camera() -> dict:
    """Qt Multimedia and the cameras it sees, asked in a short process of its own (it needs a Qt
    application object, which this process must not be left holding)."""
    ctx = multiprocessing.get_context("spawn")
    mine, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_camera_probe, args=(theirs,), name="alexnet-gui-camera-check", daemon=True)
    proc.start()
    theirs.close()
    try:
        found = mine.recv() if mine.poll(60) else {"ok": False, "cameras": [], "detail": "no answer within 60 s"}
    except EOFError:
        found = {"ok": False, "cameras": [], "detail": f"the check stopped (exit code {proc.exitcode})"}
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
        mine.close()
    return found


def _camera_probe(conn) -> None:
    try:
        from PySide6.QtCore import QCoreApplication

        from ..ui.camera import camera_source

        camera_source.multimedia()
    except ImportError as exc:
        conn.send({"ok": False, "cameras": [], "detail": f"Qt Multimedia cannot load ({exc}); the Camera tab says so"})
        return
    app = QCoreApplication([])  # noqa: F841 - Qt Multimedia needs one
    names = [d.description() for d in camera_source.cameras()]
    detail = f"{len(names)} camera(s): {', '.join(names)}" if names else "Qt Multimedia works; no camera is connected"
    conn.send({"ok": True, "cameras": names, "detail": detail})
