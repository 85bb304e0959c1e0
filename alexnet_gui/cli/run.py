"""One command line, start to end: parse, run the command's handler, and turn every
expected failure into one line on stderr and an exit code."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from .common import EXIT_INTERRUPTED, EXIT_PARTIAL, CliError, eprint
from .parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    _printable_streams()
    args = build_parser().parse_args(argv)
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
