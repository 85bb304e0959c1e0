"""The main window: views in tabs, menus, drops, status bar, weights banner."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QUrl
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..bridge.client import WorkerClient
from ..camera.camera_view import add_camera_view
from ..classify.classify_view import ClassifyView
from ..explain.explain_view import ExplainView
from ..finetune.finetune_view import FinetuneView
from ..inside.filters_view import add_views as add_inside_views
from ..inside.model_view import ModelView
from ..inside.unit_view import add_unit_view
from ..qtutil import set_text
from .drop_overlay import DropOverlayWidget, local_path, paths_from_mime
from .engine_controls import EngineControls
from .export_model_dialog import ExportModelDialog
from .help_dialogs import show_about, show_shortcuts
from .view_context import ViewContext
from .weights_banner import WeightsBannerWidget

WEIGHTS_FILTER = "Weights (*.pth *.pt *.ckpt);;All files (*)"
DEVICES = (("Auto", "auto"), ("CPU", "cpu"), ("CUDA", "cuda"))
# Settings: the base weights and the fine-tuned model on top of them are remembered apart,
# so a fine-tuned file never becomes the base ("" means the default: hub cache, else untrained).
BASE_KEY, FINETUNED_KEY = "weights/path", "weights/finetuned"
CLI_WEIGHTS_HINT = "pass --weights PATH"  # the core's advice, for the command line
TABS = 8  # Ctrl+1 … Ctrl+8 show them


def app_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "alexnet-gui", "alexnet-gui")


def image_filter() -> str:
    """The Open dialog's filter: every suffix the app reads (core.images decides)."""
    from ...core.images import IMAGE_GLOBS

    return f"Images ({IMAGE_GLOBS});;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, weights: str | None = None, device: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle("AlexNet GUI")
        self.setAcceptDrops(True)
        self.settings = app_settings()
        # The model runs in a process of its own; ALEXNET_GUI_WORKER_HOST=thread runs it in a thread
        # of this process instead (the same messages; for debugging and tests that patch the model code).
        self.client = WorkerClient(self, host=os.environ.get("ALEXNET_GUI_WORKER_HOST", "process"))
        self.model_info = None
        self.actions: dict[str, QAction] = {}

        self.banner = WeightsBannerWidget()
        self.banner.hide()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        ctx = ViewContext(self.client, self.settings, status=lambda text: self.statusBar().showMessage(text, 8000),
                          open_paths=self.open_paths, show_view=self.tabs.setCurrentWidget)
        self.classify_view = ClassifyView(ctx)
        self.model_view = ModelView()
        self.add_view(self.classify_view, "&Classify", "Drop images and see AlexNet's top-5")
        self.add_view(self.model_view, "&Model", "Every layer's output shape, parameters and multiply-adds")
        self.filters_view, self.feature_maps_view = add_inside_views(self, ctx)
        self.finetune_view = FinetuneView(ctx)
        self.finetune_view.compare_changed.connect(self.classify_view.set_compare)
        self.classify_view.correction_requested.connect(self.finetune_view.correct_image)
        self.explain_view = ExplainView(ctx)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.drop_overlay = DropOverlayWidget(central)

        self._build_status_bar()
        self._build_menus()
        self._add_finetune_view()
        self._add_explain_view()
        self.unit_view = add_unit_view(self, ctx)
        self.camera_view = add_camera_view(self, ctx)
        self._sync_tab_actions()
        self._connect_worker()
        self._restore_settings()

        self.weights_arg = weights if weights is not None else self.settings.value(BASE_KEY, "", str)
        self.device_arg = device or self.settings.value("device", "auto", str)
        self._select_device_box(self.device_arg)
        self.set_busy_text("Loading model…")
        self._rebased = False  # a fine-tuned file loaded alone got its base behind it once
        self._startup_notice = ""  # shown instead of "Ready" once the model is there
        self.engine_controls.send_remembered()  # before the model: it is prepared for that engine
        self.client.load_requested.emit(self.weights_arg or "", self.device_arg)
        finetuned = self._remembered_finetuned() if weights is None else ""
        if finetuned:  # queued after the base: the worker keeps that base for Back to base and Compare
            self.client.weights_file_requested.emit(finetuned)

    def add_view(self, widget: QWidget, title: str, tip: str) -> int:
        index = self.tabs.addTab(widget, title)
        self.tabs.setTabToolTip(index, tip)
        return index

    # ------------------------------------------------------------ building

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.device_box = QComboBox()
        for text, spec in DEVICES:
            self.device_box.addItem(text, spec)
        self.device_box.setToolTip("Where the model runs: Auto uses CUDA when there is a GPU")
        self.device_box.setAccessibleName("Device")
        self.device_box.activated.connect(self._on_device_box_activated)
        self.device_label = QLabel("device: —")
        self.weights_label = QLabel("weights: loading…")
        self.time_label = QLabel("")
        for w, tip in ((self.device_label, "The device the model runs on"),
                       (self.weights_label, "Where the weights came from"),
                       (self.time_label, "Time of the last forward pass")):
            w.setToolTip(tip)
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(self.device_box)

    def _action(self, key: str, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setToolTip(tip or text.replace("&", "").rstrip("…"))
        act.setStatusTip(act.toolTip())
        act.triggered.connect(slot)
        self.actions[key] = act
        return act

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        m.addAction(self._action("open_images", "&Open images…", self.open_images_dialog, QKeySequence.StandardKey.Open))
        m.addAction(self._action("open_folder", "Open &folder…", self.open_folder_dialog, "Ctrl+Shift+O"))
        m.addAction(self._action("export", "&Export predictions…", self.export_dialog, "Ctrl+E",
                                 "Write the predictions of every opened image to a CSV file"))
        m.addAction(self._action("export_model", "Export &model…", self.export_model_dialog, None,
                                 "Write the model as ONNX (with a standalone predict.py) or TorchScript"))
        m.addSeparator()
        m.addAction(self._action("load_weights", "&Load weights…", self.load_weights_dialog, "Ctrl+L",
                                 "Load ImageNet weights or a fine-tuned model"))
        m.addAction(self._action("default_weights", "Use d&efault weights", self.use_default_weights, None,
                                 "Go back to the stock model: the ImageNet weights in the torch hub cache "
                                 "when present, else the untrained model"))
        m.addAction(self._action("download", "&Download ImageNet weights", self.start_download, None,
                                 "Download alexnet-owt-7be5be79.pth (233 MB) into the torch hub cache"))
        self.file_menu = m
        self._file_tail = m.addSeparator()
        m.addAction(self._action("quit", "&Quit", self.close, "Ctrl+Q"))

        e = self.menuBar().addMenu("&Edit")
        e.addAction(self._action("paste", "&Paste", self.paste, QKeySequence.StandardKey.Paste,
                                 "Open an image or file paths from the clipboard"))
        e.addAction(self._action("clear", "C&lear images", self.classify_view.images.clear, "Ctrl+Shift+Del",
                                 "Remove every image from the list (a folder being classified stops)"))
        for key, act in (("remove", self.classify_view.remove_action), ("again", self.classify_view.again_action)):
            self.actions[key] = act
            e.addAction(act)
        e.addAction(self._action("cancel", "&Cancel job", self.cancel_jobs, "Esc",
                                 "Stop classifying the folder, or the fine-tune"))

        v = self.menuBar().addMenu("&View")
        for i in range(TABS):
            v.addAction(self._action(f"tab{i + 1}", f"Tab {i + 1}", lambda _=False, i=i: self.tabs.setCurrentIndex(i),
                                     f"Ctrl+{i + 1}"))
        self._sync_tab_actions()
        v.addSeparator()
        self.engine_controls = EngineControls(v, self.statusBar(), self.settings, self.client)

        h = self.menuBar().addMenu("&Help")
        h.addAction(self._action("shortcuts", "&Keyboard shortcuts", lambda: show_shortcuts(self), "F1"))
        h.addAction(self._action("about", "&About AlexNet GUI", lambda: show_about(self)))

    def _add_finetune_view(self) -> None:
        """Last tab, with its File menu actions placed before Quit."""
        view = self.finetune_view
        self.add_view(view, "Fine-&tune", "Teach AlexNet new classes from a folder of your images")
        save = self._action("save_finetuned", "&Save fine-tuned model…", view.save_dialog, "Ctrl+S",
                            "Save the last fine-tuned model as one self-contained file")
        clear = self._action("clear_feature_cache", "Clear feature &cache", view.clear_feature_cache, None,
                             "Delete cached fine-tune features (they are recomputed when needed)")
        for act in (save, clear):
            self.file_menu.insertAction(self._file_tail, act)
        save.setEnabled(False)
        view.result_changed.connect(save.setEnabled)
        view.run_started.connect(self._sync_cancel_action)
        view.run_ended.connect(self._sync_cancel_action)
        self._sync_tab_actions()

    def _add_explain_view(self) -> None:
        """Last tab: why the model decided, for Classify's image, a clicked bar or a gallery card."""
        view = self.explain_view
        self.add_view(view, "E&xplain", "Which pixels drove a class: heat maps over the image")
        self.classify_view.current_image_changed.connect(view.set_image)
        self.classify_view.explain_requested.connect(view.explain_class)
        self.finetune_view.explain_requested.connect(view.explain_run_image)
        self.finetune_view.compare_changed.connect(view.set_compare)
        self._sync_tab_actions()

    def _sync_tab_actions(self) -> None:
        for i in range(TABS):
            act = self.actions[f"tab{i + 1}"]
            if i < self.tabs.count():
                act.setText(f"Show {self.tabs.tabText(i).replace('&', '')}")
                act.setVisible(True)
            else:
                act.setVisible(False)

    def _connect_worker(self) -> None:
        w = self.client.worker
        w.model_loading.connect(self.set_busy_text)
        w.model_loaded.connect(self._on_worker_model_loaded)
        w.model_load_failed.connect(self._on_worker_model_load_failed)
        w.notice.connect(self._on_worker_notice)
        w.worker_stopped.connect(self._on_worker_stopped)
        w.predictions_ready.connect(self._on_worker_predictions_ready)
        w.download_progressed.connect(self.banner.set_progress)
        w.download_finished.connect(self._on_worker_download_finished)
        w.download_failed.connect(self._on_worker_download_failed)
        self.banner.download_clicked.connect(self.start_download)
        self.banner.open_clicked.connect(self.load_weights_dialog)
        self.banner.cancel_clicked.connect(self.client.cancel_download)
        self.classify_view.batch_running_changed.connect(self._sync_cancel_action)
        self.actions["cancel"].setEnabled(False)

    def cancel_jobs(self) -> None:
        """Esc: stop the folder being classified and the fine-tune, whichever run."""
        self.classify_view.cancel_batch()
        if self.finetune_view.is_running():
            self.finetune_view.cancel()

    def _sync_cancel_action(self, *_args) -> None:
        running = self.classify_view.batch_running() or self.finetune_view.is_running()
        self.actions["cancel"].setEnabled(running)

    # ------------------------------------------------------------ worker events

    def set_busy_text(self, text: str) -> None:
        set_text(self.weights_label, f"weights: {text}")
        self.statusBar().showMessage(text)

    def _on_worker_model_loaded(self, info) -> None:
        self.model_info = info
        set_text(self.weights_label, f"weights: {info.description}")
        set_text(self.device_label, f"device: {info.device}")
        cuda_item = self.device_box.model().item(2)
        cuda_item.setEnabled(info.cuda_available)
        cuda_item.setToolTip("" if info.cuda_available else "CUDA is not available on this machine")
        self.banner.setVisible(not info.trained)
        self.classify_view.set_model_state(info.trained, info.description, info.base_description)
        notice, self._startup_notice = self._startup_notice, ""
        ready = f"Ready — {info.description} on {info.device}"
        self.statusBar().showMessage(notice or ready, 10000 if notice else 5000)
        self.model_view.set_model(info)
        self._remember_weights(info)
        self.engine_controls.show(info)  # after "Ready": a fallback's reason is the line to read

    def _remember_weights(self, info) -> None:
        if info.source != "finetuned":
            self.settings.setValue(FINETUNED_KEY, "")
            if info.weights_path and info.source != "untrained":
                self.settings.setValue(BASE_KEY, info.weights_path)
            return
        self.settings.setValue(FINETUNED_KEY, info.weights_path or "")  # an unsaved run cannot be reopened
        if info.weights_path and self.settings.value(BASE_KEY, "", str) == info.weights_path:
            self.settings.setValue(BASE_KEY, "")  # kept as the base by an older version of the app
        if info.base_description is None and info.weights_path and not self._rebased:
            # Loaded alone (--weights, or remembered as the base before): load the base
            # behind it, so Back to base and Compare have a model to go to.
            self._rebased = True
            self.client.load_requested.emit(self.settings.value(BASE_KEY, "", str), self._device_spec())
            self.client.weights_file_requested.emit(info.weights_path)

    def _remembered_finetuned(self) -> str:
        path = self.settings.value(FINETUNED_KEY, "", str)
        if path and not Path(path).is_file():
            self.settings.setValue(FINETUNED_KEY, "")
            self._startup_notice = (f"{Path(path).name}: the fine-tuned model used last time is no longer "
                                    f"there ({path}); using the base model")
            return ""
        return path

    def _device_spec(self) -> str:
        return self.model_info.device_spec if self.model_info else self.device_arg

    def _on_worker_model_load_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not load weights: {message}", 10000)
        QMessageBox.warning(self, "Could not load weights", f"{message}\n\nThe current model stays in use.")

    def _on_worker_notice(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def _on_worker_stopped(self, message: str) -> None:
        """The model's process died: one line that stays until the next message."""
        self.statusBar().showMessage(message)

    def _on_worker_predictions_ready(self, _job: int, results) -> None:
        seconds = [r.prediction.seconds for r in results if r.prediction.ok and r.prediction.seconds]
        if seconds:  # a batch shares one forward pass: its last image says it all
            set_text(self.time_label, f"last inference {seconds[-1] * 1000:.0f} ms")

    def _on_worker_download_finished(self, path: str) -> None:
        self.banner.set_downloading(False)
        self.statusBar().showMessage(f"Downloaded {path}", 8000)
        self.client.weights_file_requested.emit(path)

    def _on_worker_download_failed(self, message: str) -> None:
        self.banner.set_downloading(False)
        message = message.replace(CLI_WEIGHTS_HINT, "open it with File › Load weights… (Ctrl+L)")
        text = "Download cancelled; nothing was kept." if message == "cancelled" else f"Download failed: {message}"
        self.banner.set_message(text)
        self.statusBar().showMessage(text, 10000)

    # ------------------------------------------------------------ actions

    def open_paths(self, paths) -> int:
        self.tabs.setCurrentWidget(self.classify_view)
        return self.classify_view.open_paths(paths)

    def open_images_dialog(self) -> None:
        start = self.settings.value("folders/images", str(Path.home()), str)
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", start, image_filter())
        if files:
            self.settings.setValue("folders/images", str(Path(files[0]).parent))
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        start = self.settings.value("folders/images", str(Path.home()), str)
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.settings.setValue("folders/images", folder)
            self.open_paths([folder])

    def export_dialog(self) -> None:
        nothing = self.classify_view.nothing_to_export()
        if nothing:
            self.statusBar().showMessage(nothing, 8000)
            return
        start = self.settings.value("folders/export", str(Path.home() / "predictions.csv"), str)
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", start, "CSV (*.csv)")
        if not path:
            return
        try:
            rows = self.classify_view.export_csv(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"{Path(path).name}: {exc.strerror or exc}")
            return
        self.settings.setValue("folders/export", path)
        self.statusBar().showMessage(f"Wrote {rows} rows to {path}", 8000)

    def export_model_dialog(self) -> ExportModelDialog:
        dialog = getattr(self, "_export_model_dialog", None)
        if dialog is None:
            dialog = self._export_model_dialog = ExportModelDialog(self.client, self.settings, self)
        dialog.show()
        dialog.raise_()
        return dialog

    def load_weights_dialog(self) -> None:
        start = self.settings.value("folders/weights", str(Path.home()), str)
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", start, WEIGHTS_FILTER)
        if path:
            self.settings.setValue("folders/weights", str(Path(path).parent))
            self.load_weights(path)

    def load_weights(self, path: str) -> None:
        self.client.weights_file_requested.emit(str(path))

    def use_default_weights(self) -> None:
        """The stock model (hub cache, else untrained), remembered as the base; no fine-tuned head."""
        self.settings.setValue(BASE_KEY, "")
        self.settings.setValue(FINETUNED_KEY, "")
        self.set_busy_text("loading the default weights…")
        self.client.load_requested.emit("", self._device_spec())

    def start_download(self, url: str = "", dest: str = "") -> None:
        self.banner.show()
        self.banner.set_downloading(True)
        self.client.download_requested.emit(url or "", dest or "")

    def paste(self) -> int:
        """Clipboard image data (saved to a PNG in the cache) or file paths/URLs."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:  # an empty clipboard, on some platforms
            self.statusBar().showMessage("The clipboard holds no image or file path", 5000)
            return 0
        paths = paths_from_mime(mime)
        if not paths and mime.hasText():
            for line in mime.text().splitlines():
                line = line.strip()
                p = local_path(QUrl(line)) if line.startswith("file:") else line
                if p and Path(p).exists():
                    paths.append(p)
        if not paths and mime.hasImage():
            paths = [self._save_pasted_image(mime.imageData())]
        if not paths:
            self.statusBar().showMessage("The clipboard holds no image or file path", 5000)
            return 0
        return self.open_paths([p for p in paths if p])

    def _save_pasted_image(self, image) -> str:
        import time

        from ...core.paths import cache_dir

        folder = cache_dir() / "pasted"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 1000000}.png"
        if not image.save(str(path), "PNG"):
            self.statusBar().showMessage(f"Could not save the pasted image to {path}", 8000)
            return ""
        return str(path)

    def _select_device_box(self, spec: str) -> None:
        i = self.device_box.findData(spec.split(":")[0])
        self.device_box.setCurrentIndex(max(i, 0))

    def _on_device_box_activated(self, index: int) -> None:
        spec = self.device_box.itemData(index)
        self.settings.setValue("device", spec)
        self.client.device_requested.emit(spec)

    # ------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if paths_from_mime(event.mimeData()) or event.mimeData().hasImage():
            event.acceptProposedAction()
            self.drop_overlay.show_over(self.centralWidget())
            self.classify_view.prepare(paths_from_mime(event.mimeData()))
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.drop_overlay.hide()
        self.classify_view.drag_left()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.drop_overlay.hide()
        paths = paths_from_mime(event.mimeData())
        if not paths and event.mimeData().hasImage():
            paths = [self._save_pasted_image(event.mimeData().imageData())]
        paths = [p for p in paths if p]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        view = self.tabs.currentWidget()
        handler = getattr(view, "handle_drop", None)
        if handler is not None and handler(paths):
            return
        self.open_paths(paths)

    # ------------------------------------------------------------ settings and closing

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 760)
        for splitter in self._splitters():
            state = self.settings.value(f"splitters/{splitter.objectName()}")
            if state is not None:
                splitter.restoreState(state)
        self.tabs.setCurrentIndex(int(self.settings.value("window/tab", 0)))

    def _splitters(self) -> list[QSplitter]:
        """Every named splitter of every view: their positions are remembered."""
        return [s for s in self.findChildren(QSplitter) if s.objectName()]

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.settings.setValue("window/geometry", self.saveGeometry())
        for splitter in self._splitters():
            self.settings.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        for i in range(self.tabs.count()):
            closing = getattr(self.tabs.widget(i), "on_window_closing", None)
            if closing is not None:
                closing()
        self.settings.sync()
        self.client.shutdown()
        super().closeEvent(event)
