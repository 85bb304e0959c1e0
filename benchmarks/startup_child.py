import time

T_TOP = time.time()  # first statement: when the interpreter got to our code

"""A fresh process for ``bench_startup.py``. Prints one JSON line and exits.

``startup_child.py app WEIGHTS``: build and show the real window (which spawns
its worker process: the worker imports torch and loads the model while the
window shows), note when it is first painted, run the GUI heartbeat until the
model has loaded and for ``AFTER_S`` more seconds. Also noted: the worker's
pid and whether this, the window's process, imported torch (it must not).

``startup_child.py bare WEIGHTS``: the reference: a plain QLabel, and a plain
Python thread that imports torch+torchvision and loads the same weights into
torchvision's AlexNet, with the same heartbeat.
"""

import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
AFTER_S = 2.0


def first_paint_spy(times: dict):
    from PySide6.QtCore import QEvent, QObject

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint and "painted" not in times:
                times["painted"] = time.time()
            elif event.type() == QEvent.Type.Expose and "exposed" not in times:
                times["exposed"] = time.time()
            return False

    return FirstPaint()


def main() -> int:
    mode, weights = sys.argv[1], sys.argv[2]
    from common import Heartbeat, on_gui
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication, QLabel

    times: dict[str, float] = {"top": T_TOP}
    spy = first_paint_spy(times)
    result: dict = {}

    if mode == "app":
        from alexnet_gui.app import create_window

        window = create_window(["--weights", weights, "--device", "cpu"])
        if window.client.host != "process":
            raise SystemExit(f"the window's model runs in a {window.client.host}, not in its worker process")
        loaded_signal = window.client.worker.model_loaded
    else:
        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = QLabel("loading…")
        window.resize(600, 400)

        class Loader(QObject):
            loaded = Signal(object)

        loader = Loader()
        loaded_signal = loader.loaded

        def load() -> None:
            import torch
            import torchvision

            model = torchvision.models.alexnet()
            model.load_state_dict(torch.load(weights, weights_only=True))
            loader.loaded.emit(model)

        threading.Thread(target=load, name="bare-loader", daemon=True).start()

    times["created"] = time.time()
    window.installEventFilter(spy)
    window.show()
    if window.windowHandle() is not None:
        window.windowHandle().installEventFilter(spy)
    times["show_returned"] = time.time()
    if mode == "app":
        from alexnet_gui.app import freeze_startup_heap

        freeze_startup_heap(window)  # as the app's main() does
    heartbeat = Heartbeat().start()
    perf_shown = time.perf_counter()
    QTimer.singleShot(0, lambda: times.setdefault("first_loop_turn", time.time()))
    app = QApplication.instance()

    def after() -> None:
        result["after_load"] = heartbeat.stats()
        heartbeat.stop()
        window.close()
        app.quit()

    def on_loaded(_info) -> None:
        if "loaded" in times:
            return
        times["loaded"] = time.time()
        result["load"] = heartbeat.stats()
        heartbeat.mark()
        QTimer.singleShot(int(AFTER_S * 1000), after)

    relay = on_gui(loaded_signal, on_loaded)  # noqa: F841 - kept alive while the loop runs
    QTimer.singleShot(180_000, app.quit)
    app.exec()
    worker = {}
    if mode == "app":
        worker = {"pid": window.client.pid, "torch_in_window": "torch" in sys.modules}
        window.client.shutdown()
    for stats in result.values():  # when the worst stall began, in seconds after show returned
        stats["max_stall_began"] = round(stats["max_stall_began"] - perf_shown, 3)
    print(json.dumps({"times": times, "stalls": result, "worker": worker}), flush=True)
    return 0 if "loaded" in times else 1


if __name__ == "__main__":
    sys.exit(main())
