"""`alexnet-cli`: everything the window does, headless, for scripts and tests.

Exit codes: 0 success, 1 some inputs failed (the rest still printed), 2 usage or
weights errors, 130 interrupted. No traceback reaches the user for an expected error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from .core import untrained as core_untrained

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# Each subcommand module adds itself here: name -> function(subparsers).
_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = []


class CliError(Exception):
    """An expected failure: printed as one line, exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def registrar(fn: Callable[[argparse._SubParsersAction], None]):
    _REGISTRARS.append(fn)
    return fn


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


class StopOnCtrlC:
    """Ctrl+C as a request to stop at the work's next check, for work that runs helper threads.

    A KeyboardInterrupt raised wherever the main thread happens to be can land inside a
    thread pool's own locking and leave a lock held, and the process then hangs instead of
    exiting (a Ctrl+C during the file check of a large fine-tune did, about 1 time in 20).
    Inside this block the first Ctrl+C only sets a flag; the work polls it (``cancelled=stop``)
    at least once per batch and returns early (or raises its own cancel error), and a block
    left normally then raises KeyboardInterrupt from a known place. A second Ctrl+C
    interrupts at once, as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __call__(self) -> bool:
        return self.requested

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnCtrlC:
        if threading.current_thread() is threading.main_thread():  # signal handlers live there only
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.requested and exc_type is None:  # the work stopped early: say so from here
            raise KeyboardInterrupt


# ---------------------------------------------------------------- summary


@registrar
def _add_summary(sub) -> None:
    p = sub.add_parser("summary", help="print the per-layer table with totals")
    p.add_argument("--input-size", type=int, default=224, metavar="N", help="square input size (default 224; 227 works too)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_cmd_summary)


def _cmd_summary(args) -> int:
    from .core.layers import format_table, layer_table, totals
    from .core.model import InputTooSmallError

    try:
        rows = layer_table(args.input_size)
    except InputTooSmallError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        t = totals(rows)
        print(json.dumps({
            "input_size": args.input_size,
            "layers": [r.as_dict() for r in rows],
            "totals": {"params": t.params, "conv_params": t.conv_params, "fc_params": t.fc_params,
                       "macs": t.macs, "trainable_params": t.trainable_params},
        }, indent=2))
    else:
        print(f"AlexNet at {args.input_size}x{args.input_size}")
        print(format_table(rows))
    return EXIT_OK


# ---------------------------------------------------------------- classify


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", metavar="PATH",
                   help="weights file (ImageNet .pth or a fine-tuned model); default: torch hub cache")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")


# The window's banner says the same first sentence; the advice is the command line's own.
UNTRAINED_WARNING = (f"{core_untrained.UNTRAINED_WARNING} "
                     "Download the weights once (233 MB) with `alexnet-cli weights download`, or pass --weights PATH.")


def load_model_for_cli(args):
    """(bundle, device) from --weights/--device; weights problems become CliError(2).

    Without any weights the untrained model runs, as in the window, after a warning on
    stderr; JSON output then says ``"weights": "untrained"``."""
    from .core.bundle import load_bundle
    from .core.device import DeviceError, resolve_device
    from .core.weights import WeightsError

    try:
        device, note = resolve_device(args.device)
    except DeviceError as exc:
        raise CliError(str(exc)) from None
    if note:
        eprint(f"note: {note}")
    try:
        bundle = load_bundle(args.weights)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    if not bundle.trained:
        eprint(f"warning: {UNTRAINED_WARNING}")
    return bundle.to(device), device


@registrar
def _add_classify(sub) -> None:
    p = sub.add_parser("classify", help="top-k predictions for images and folders")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (recursed)")
    add_model_args(p)
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many classes per image (default 5)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="images decoded and run through the model together (default 32); "
                   "smaller needs less memory, larger is faster on a GPU")
    p.add_argument("--json", action="store_true", help="print one JSON array, one object per image")
    p.set_defaults(handler=_cmd_classify)


def _cmd_classify(args) -> int:
    from .core.images import ImageLoadError, expand_paths
    from .core.predict import classify_paths

    if args.top < 1:
        raise CliError("--top must be at least 1")
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    # Output follows the input order: an unreadable folder's error sits where
    # the folder was given. ``order`` holds an index into ``paths`` or an error.
    paths, order = [], []
    for p in args.paths:
        skipped: list[ImageLoadError] = []
        try:
            found = expand_paths([p], skipped)
        except ImageLoadError as exc:
            order.append({"path": exc.path, "error": str(exc)})
        else:
            order.extend({"path": e.path, "error": str(e)} for e in skipped)
            order.extend(range(len(paths), len(paths) + len(found)))
            paths.extend(found)
    errors = [e for e in order if isinstance(e, dict)]
    bundle, device = load_model_for_cli(args)
    failed = bool(errors)
    shown = 0  # entries of ``order`` printed so far (text mode)

    def show_errors_up_to_next_path() -> None:
        nonlocal shown
        while shown < len(order) and isinstance(order[shown], dict):
            e = order[shown]
            if not args.json:
                print(f"{e['path']}: error: {e['error']}", flush=True)
            shown += 1

    def show(batch):
        nonlocal failed, shown
        for pred in batch:
            failed |= not pred.ok
            show_errors_up_to_next_path()
            shown += 1
            if not args.json:
                if pred.ok:
                    best = ", ".join(f"{s.label} {s.probability * 100:.1f}%" for s in pred.top)
                    print(f"{pred.path}: {best}", flush=True)
                else:
                    print(f"{pred.path}: error: {pred.error}", flush=True)

    with StopOnCtrlC() as stop:
        results = classify_paths(bundle.model, paths, bundle.class_names, k=args.top,
                                 batch_size=args.batch_size, device=device, on_batch=show, cancelled=stop)
    show_errors_up_to_next_path()
    if args.json:
        entries = [e if isinstance(e, dict) else results[e].as_dict() for e in order]
        if not bundle.trained:  # every answer is random: say so where a script looks
            entries = [{**e, "weights": "untrained"} for e in entries]
        print(json.dumps(entries, indent=2, ensure_ascii=False))
    if not paths and not errors:
        eprint("no images found")
        return EXIT_PARTIAL
    return EXIT_PARTIAL if failed else EXIT_OK


# ---------------------------------------------------------------- weights


@registrar
def _add_weights(sub) -> None:
    p = sub.add_parser("weights", help="where the ImageNet weights are, or download them")
    wsub = p.add_subparsers(dest="action", required=True, metavar="{status,download}")
    s = wsub.add_parser("status", help="say where weights were found")
    s.add_argument("--weights", metavar="PATH", help="check this file instead of the hub cache")
    s.set_defaults(handler=_cmd_weights_status)
    d = wsub.add_parser("download", help="download the ImageNet weights (233 MB) with a progress bar")
    d.add_argument("--to", metavar="PATH", help="destination file (default: the torch hub cache)")
    d.add_argument("--url", default=None, help=argparse.SUPPRESS)
    d.set_defaults(handler=_cmd_weights_download)


def _cmd_weights_status(args) -> int:
    from .core.bundle import bundle_from_file
    from .core.weights import WeightsError, hub_cache_path, resolve_weights

    try:
        path = resolve_weights(args.weights)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    if path is None:
        print(f"no weights found (looked for {hub_cache_path()}); "
              "run `alexnet-cli weights download` or pass --weights PATH")
        return EXIT_PARTIAL
    try:
        bundle = bundle_from_file(path)
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    print(f"{path}: {bundle.describe()}, sha256 {bundle.sha256[:8]}")
    return EXIT_OK


def _cmd_weights_download(args) -> int:
    from pathlib import Path

    from .core.download import download_weights
    from .core.weights import IMAGENET_URL, WeightsError

    bar = _ProgressBar("downloading")
    try:
        path = download_weights(Path(args.to) if args.to else None, url=args.url or IMAGENET_URL, progress=bar)
    except WeightsError as exc:
        bar.finish()
        raise CliError(str(exc)) from None
    bar.finish()
    print(f"saved {path}")
    return EXIT_OK


class _ProgressBar:
    """A one-line text progress bar on stderr (only when stderr is a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            pct = int(done * 100 / total)
            if pct != self.last:
                self.last = pct
                bar = "#" * (pct // 4)
                self._write(f"{self.label} [{bar:<25}] {pct:3d}% {done / 1e6:.1f}/{total / 1e6:.1f} MB")
        else:
            self._write(f"{self.label} {done / 1e6:.1f} MB")

    def _write(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r" + text)
            sys.stderr.flush()

    def finish(self) -> None:
        if self.tty and self.last >= 0:
            sys.stderr.write("\n")


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="alexnet-cli",
        description="AlexNet from the command line: layer table, classification, weights, "
        "filters and feature maps, fine-tuning.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-gui {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in _REGISTRARS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _printable_streams()
    _load_extra_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        eprint(f"alexnet-cli: error: {exc}")
        return exc.code
    except KeyboardInterrupt:
        eprint("alexnet-cli: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`alexnet-cli classify ... | head`): stop quietly,
        # and point stdout at /dev/null so the exit flush does not fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_PARTIAL


def _printable_streams() -> None:
    # File names may hold bytes that are not UTF-8 (Python keeps them as lone
    # surrogates, which a strict stream refuses with a traceback). Written as
    # "\udcff" instead, the text stays readable and, inside a JSON string, is
    # the JSON escape that decodes back to the same path.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


def _load_extra_commands() -> None:
    # Subcommands that live in their own modules register themselves on import.
    import importlib

    for name in ("cli_views", "cli_finetune"):
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise


if __name__ == "__main__":
    # `python -m alexnet_gui.cli` runs this file as ``__main__``; subcommand
    # modules register with ``alexnet_gui.cli``, so run that module's main.
    from alexnet_gui.cli import main as _main

    sys.exit(_main())
