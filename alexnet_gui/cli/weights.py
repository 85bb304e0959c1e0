"""`alexnet-cli weights status | download`: where the ImageNet weights are, or fetch them."""

from __future__ import annotations

import argparse
import sys

from .common import EXIT_OK, EXIT_PARTIAL, CliError


def add_parser(sub) -> None:
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
    from ..core.bundle import bundle_from_file
    from ..core.weights import WeightsError, hub_cache_path, resolve_weights

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

    from ..core.download import download_weights
    from ..core.weights import IMAGENET_URL, WeightsError

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
