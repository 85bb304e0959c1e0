"""`alexnet-gui`: the desktop window.

``create_window(argv)`` builds and returns the main window without entering the
event loop (tests and benchmarks use it); ``main(argv)`` wraps it. torch is not
imported here: the worker thread imports it while the window is already visible.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="alexnet-gui", description="AlexNet GUI: classify images, look inside AlexNet, "
                                "and fine-tune a new head on your own folders.")
    p.add_argument("paths", nargs="*", metavar="IMAGE_OR_FOLDER", help="images or folders to open as if dropped")
    p.add_argument("--weights", metavar="PATH", help="weights file (ImageNet .pth or a fine-tuned model)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="where the model runs (default: last used, else auto)")
    return p


def display_problem() -> str | None:
    """A one-line explanation when no window can be shown, else None."""
    if sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return ("alexnet-gui: no display found. Run it in a desktop session, or headless with "
                    "QT_QPA_PLATFORM=offscreen, or use `alexnet-cli` (e.g. `alexnet-cli classify IMAGE`).")
    return None


def create_window(argv: Sequence[str] | None = None):
    """Parse ``argv``, make sure a QApplication exists, build the window (not shown)."""
    args = build_parser().parse_args(list(argv) if argv is not None else [])
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("AlexNet GUI")
    app.setApplicationDisplayName("AlexNet GUI")
    app.setOrganizationName("alexnet-gui")
    app.setDesktopFileName("io.github.alexnet_gui")
    _set_icon(app)
    from .core.memory import keep_freed_memory_for_reuse
    from .ui.shell.main_window import MainWindow

    keep_freed_memory_for_reuse()  # the window receives the model process's large results again and again

    window = MainWindow(weights=args.weights, device=args.device)
    if args.paths:
        window.open_paths(args.paths)
    return window


def _set_icon(app) -> None:
    """The window icon from every rendered PNG size (sharp from 16 to 256 px)."""
    try:
        from PySide6.QtGui import QIcon

        from .resources_paths import ICON_SIZES, icon_path

        icon = QIcon()
        for size in ICON_SIZES:
            icon.addFile(str(icon_path(size)))
        app.setWindowIcon(icon)
    except Exception:  # noqa: BLE001, S110 - an icon is cosmetic; never block start-up on it
        pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    build_parser().parse_args(argv)  # --help and usage errors work without a display
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    window = create_window(argv)
    window.show()
    freeze_startup_heap(window)
    close_on_ctrl_c(window)
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().exec()


def freeze_startup_heap(window) -> None:
    """Keep what start-up made out of Python's full collections, in the app's own process.

    The modules, Qt's wrappers and the window are some hundred thousand objects that
    live as long as the app; a full collection walks all of them and held the GUI
    thread for 40-50 ms, once in a while, as results came in (``bench_soak.py``).
    ``gc.freeze()`` moves every object alive now out of the collector's view, in
    constant time; again once the first model has loaded (the model's description,
    the layer tables). Not in ``create_window``: a test process builds and closes many
    windows, and a frozen closed window's reference cycles would never be freed."""
    import gc

    gc.freeze()
    frozen = []

    def after_first_load(_info) -> None:
        if not frozen:
            frozen.append(True)
            gc.freeze()

    window.client.events.model_loaded.connect(after_first_load)


def close_on_ctrl_c(window) -> None:
    """Ctrl+C in the terminal that started the app closes the window as its close button
    does (running jobs cancelled, settings saved).

    Python runs a signal handler only when the interpreter gets control, and Qt's event
    loop may not call into Python for a long time; the signal's wake-up byte on a socket
    watched by the event loop gives it control at once."""
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    if threading.current_thread() is not threading.main_thread():
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        signal.set_wakeup_fd(writer.fileno())
    except ValueError:
        return
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def drain() -> None:  # the Python handler below runs as this slot is entered
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)
    signal.signal(signal.SIGINT, lambda *_: window.close())
    window._ctrl_c = (reader, writer, notifier)  # kept as long as the window


if __name__ == "__main__":
    sys.exit(main())
