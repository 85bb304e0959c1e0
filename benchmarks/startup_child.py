import time

T_TOP = time.time()  # first statement: when the interpreter got to our code

"""The app process for ``bench_startup.py``: build and show the real window, note
when it is first painted, then time the GUI thread's heartbeat until the model
has loaded. Prints one JSON line and exits. Argument: the seeded weights file."""

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from alexnet_gui.app import create_window

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import Heartbeat, on_gui  # noqa: PLC0415

    times: dict[str, float] = {"top": T_TOP}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint and "painted" not in times:
                times["painted"] = time.time()
            elif event.type() == QEvent.Type.Expose and "exposed" not in times:
                times["exposed"] = time.time()
            return False

    window = create_window(["--weights", sys.argv[1], "--device", "cpu"])
    times["created"] = time.time()
    spy = FirstPaint()
    window.installEventFilter(spy)
    window.show()
    handle = window.windowHandle()
    if handle is not None:
        handle.installEventFilter(spy)
    times["show_returned"] = time.time()
    heartbeat = Heartbeat().start()
    QTimer.singleShot(0, lambda: times.setdefault("first_loop_turn", time.time()))
    result: dict = {}

    def on_loaded(_info) -> None:
        times["loaded"] = time.time()
        result.update(heartbeat.stats())
        heartbeat.stop()
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(0, QApplication.instance().quit)

    relay = on_gui(window.client.worker.model_loaded, on_loaded)  # noqa: F841 - kept alive
    QTimer.singleShot(180_000, QApplication.instance().quit)
    QApplication.instance().exec()
    window.client.shutdown()
    print(json.dumps({"times": times, "load_stall": result}), flush=True)
    return 0 if "loaded" in times else 1


if __name__ == "__main__":
    sys.exit(main())
