"""What every command shares: exit codes, the one-line error, the model arguments and
loading, and Ctrl+C as a request to stop."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading

from ..core import untrained as core_untrained

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CliError(Exception):
    """An expected failure: printed as one line, exits with ``code``."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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

    # A rank of a torchrun launch: once stopped, the others may never meet it at their next
    # collective, and the launcher kills what has not ended 30 s after its signal. So a rank
    # that has not ended this long after the signal removes its unfinished writes and exits.
    RANK_GRACE_S = 3.0

    def __init__(self, sigterm: bool = False) -> None:
        self.requested = False
        self._previous = None
        # A rank of a torchrun launch is stopped with SIGTERM when another rank fails or the
        # launcher gets Ctrl+C: the same request, so nothing half-written is left behind.
        self._signals = (signal.SIGINT, signal.SIGTERM) if sigterm else (signal.SIGINT,)
        self._previous_term = None
        self._ended = threading.Event()
        self._wakeup = None  # (reader, writer) sockets the signal is written to, even while blocked
        self._previous_wakeup = -1

    def __call__(self) -> bool:
        return self.requested

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopOnCtrlC:
        if threading.current_thread() is threading.main_thread():  # signal handlers live there only
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            if signal.SIGTERM in self._signals:
                self._previous_term = signal.signal(signal.SIGTERM, self._on_sigint)
                self._watch_as_rank()
        return self

    def _watch_as_rank(self) -> None:
        """A Python signal handler runs only when the main thread is back in Python; a rank
        blocked inside a collective is not. The signal's wake-up byte reaches a watcher thread
        at once, wherever the main thread is, and starts the grace period."""
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        self._wakeup = (reader, writer)
        self._previous_wakeup = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(reader,), name="rank-stop", daemon=True).start()

    def _watch(self, reader: socket.socket) -> None:
        try:
            if not reader.recv(1):
                return
        except OSError:
            return  # closed: the block ended
        if self._ended.wait(self.RANK_GRACE_S):
            return
        from ..core.files import remove_unfinished

        remove_unfinished()
        eprint("alexnet-cli: interrupted (stopped while waiting for the other ranks)")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._ended.set()
        if self._wakeup is not None:
            signal.set_wakeup_fd(self._previous_wakeup)
            for sock in self._wakeup:
                with contextlib.suppress(OSError):
                    sock.close()
            self._wakeup = None
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self._previous_term is not None:
            signal.signal(signal.SIGTERM, self._previous_term)
            self._previous_term = None
        if self.requested and exc_type is None:  # the work stopped early: say so from here
            raise KeyboardInterrupt


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
    from ..core.bundle import load_bundle
    from ..core.device import DeviceError, resolve_device
    from ..core.weights import WeightsError

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
