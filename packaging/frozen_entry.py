"""Entry point of the PyInstaller bundle (dist/alexnet-gui/alexnet-gui).

    alexnet-gui [IMAGE_OR_FOLDER ...]          the window, as the `alexnet-gui` script
    alexnet-gui --cli COMMAND [ARGS ...]       `alexnet-cli COMMAND ...`, headless

A bundle has one executable, so the command-line tool rides along behind a
hidden first argument; the smoke test uses it to classify without a display.
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _attach_windows_console() -> None:
    # A windowed (console=False) build on Windows starts with no stdout/stderr;
    # for --cli, borrow the console of the shell that started us, if any.
    if sys.platform != "win32" or sys.stdout is not None:
        return
    import ctypes

    if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
        sys.stdout = open("CONOUT$", "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        sys.stderr = open("CONOUT$", "w", encoding="utf-8", buffering=1)  # noqa: SIM115
    else:
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def main() -> int:
    # Worker processes of a frozen app re-run this executable; let them dispatch.
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if argv[:1] == ["--cli"]:
        _attach_windows_console()
        from alexnet_gui.cli import main as cli_main

        return cli_main(argv[1:])
    if sys.platform == "win32":
        # torch before PySide6 on Windows: Qt's DLLs (and the runtime libraries
        # they pull in) loaded first make torch's c10.dll fail to initialise
        # ("WinError 1114"). Elsewhere torch stays lazy: the window must appear
        # before torch's multi-second import, which the worker thread does.
        import torch  # noqa: F401
    from alexnet_gui.app import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
