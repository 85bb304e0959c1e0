"""Units: what one unit of the network sees. A unit picker (layer, then channel, fc unit or
class); the nine images of a folder that excite it most, each as the patch of its receptive
field around the maximum with the value; and the picture it wants, made by gradient ascent
and shown live. Both run in the model's process as jobs with progress and Cancel, and both
save as PNG. The images looked through are a chosen folder, else those opened in Classify,
else the fine-tune's folder. Reached from here, from a channel of Feature maps, or from a
filter's right-click menu in Filters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.units import CLASS_LAYER, UNIT_LAYERS, TopImages, Unit, UnitPicture, layer_label
from ...core.units.mosaic import top_mosaic
from ..qtutil import array_to_qimage, make_label, set_text
from .tile_grid import save_grid_dialog

TILE = 120  # pixels of a top image's patch on screen
PICTURE_STEPS = 256
NO_IMAGES_TEXT = "Open images in Classify, or choose a folder, to find the images that excite this unit"


class UnitView(QWidget):
    top_shown = Signal(object)  # TopImages drawn
    picture_shown = Signal(object)  # UnitPicture drawn (the final one)

    def __init__(self, ctx, default_paths: Callable[[], tuple[str, list[str]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = ctx.client
        self._default_paths = default_paths  # () -> (what they are, paths)
        self.folder: str | None = None  # chosen here; None: the default images
        self.class_names: list[str] = []
        self._counts: dict[str, int] = {}  # layer -> channels or units, from the model's layer table
        self.top: TopImages | None = None
        self.picture: UnitPicture | None = None
        self._job = None  # the running top or picture Job
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_picker())
        layout.addLayout(self._build_source())
        layout.addLayout(self._build_progress_row())
        layout.addLayout(self._build_results(), 1)
        self.client.worker.model_loaded.connect(self._on_worker_model_loaded)
        self._sync_channel_range()

    # ------------------------------------------------------------ building

    def _build_picker(self) -> QHBoxLayout:
        self.layer_box = QComboBox()
        self.layer_box.setAccessibleName("Unit's layer")
        self.layer_box.setToolTip("The layer: a conv, ReLU or pool layer's channels, a fully connected layer's "
                                  "units, or fc8's classes")
        for name in UNIT_LAYERS:
            self.layer_box.addItem(layer_label(name) + (": classes" if name == CLASS_LAYER else ""), name)
        self.layer_box.setCurrentIndex(list(UNIT_LAYERS).index("features.10"))
        self.layer_box.currentIndexChanged.connect(self._sync_channel_range)
        self.channel_box = QSpinBox()
        self.channel_box.setAccessibleName("Channel")
        self.channel_box.setToolTip("Which channel of the layer (unit of an fc layer, class of fc8)")
        self.channel_box.valueChanged.connect(self._sync_unit_name)
        self.unit_name = make_label()
        self.top_button = QPushButton("Top images")
        self.top_button.setToolTip("The nine images that excite this unit most, each cut to the unit's "
                                   "receptive field around its strongest place")
        self.top_button.clicked.connect(self.find_top)
        self.picture_button = QPushButton("What it wants")
        self.picture_button.setToolTip(f"Make the image this unit wants: {PICTURE_STEPS} steps of gradient ascent "
                                       "from noise (shown as it forms)")
        self.picture_button.clicked.connect(self.make_picture)
        row = QHBoxLayout()
        for w in (QLabel("Layer:"), self.layer_box, QLabel("Channel:"), self.channel_box):
            row.addWidget(w)
        row.addWidget(self.unit_name, 1)
        row.addWidget(self.top_button)
        row.addWidget(self.picture_button)
        return row

    def _build_source(self) -> QHBoxLayout:
        self.source_label = make_label()
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("Look through the images of another folder (and its subfolders)")
        self.choose_button.clicked.connect(self.choose_folder_dialog)
        row = QHBoxLayout()
        row.addWidget(self.source_label, 1)
        row.addWidget(self.choose_button)
        return row

    def _build_progress_row(self) -> QHBoxLayout:
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Unit progress")
        self.progress.setToolTip("Images looked through, or steps of the picture")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop looking through the images, or stop making the picture")
        self.cancel_button.clicked.connect(self.cancel)
        self.status = make_label()
        self.status.setAccessibleName("Unit status")
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        return row

    def _build_results(self) -> QHBoxLayout:
        self.tiles: list[QLabel] = []
        self.captions: list[QLabel] = []
        grid = QGridLayout()
        for i in range(9):
            tile = QLabel()
            tile.setFixedSize(TILE, TILE)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setStyleSheet("background: #ddd")
            caption = make_label()
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(tile, 2 * (i // 3), i % 3)
            grid.addWidget(caption, 2 * (i // 3) + 1, i % 3)
            self.tiles.append(tile)
            self.captions.append(caption)
        self.save_top_button = QPushButton("Save top images as PNG…")
        self.save_top_button.setEnabled(False)
        self.save_top_button.setToolTip("Write the nine patches with their values as one PNG")
        self.save_top_button.clicked.connect(self.save_top_dialog)
        left = QVBoxLayout()
        left.addLayout(grid)
        left.addWidget(self.save_top_button)
        left.addStretch(1)
        self.picture_label = QLabel()
        self.picture_label.setFixedSize(224, 224)
        self.picture_label.setStyleSheet("background: #ddd")
        self.picture_label.setAccessibleName("The picture the unit wants")
        self.picture_caption = make_label()
        self.save_picture_button = QPushButton("Save picture as PNG…")
        self.save_picture_button.setEnabled(False)
        self.save_picture_button.setToolTip("Write the 224×224 picture as PNG")
        self.save_picture_button.clicked.connect(self.save_picture_dialog)
        right = QVBoxLayout()
        right.addWidget(self.picture_label)
        right.addWidget(self.picture_caption)
        right.addWidget(self.save_picture_button)
        right.addStretch(1)
        row = QHBoxLayout()
        row.addLayout(left)
        row.addSpacing(16)
        row.addLayout(right)
        row.addStretch(1)
        return row

    # ------------------------------------------------------------ public

    def unit(self) -> Unit:
        return Unit(self.layer_box.currentData(), self.channel_box.value())

    def set_unit(self, layer: str, channel: int) -> None:
        self.layer_box.setCurrentIndex(list(UNIT_LAYERS).index(layer))
        self.channel_box.setValue(channel)

    def show_top(self, layer: str, channel: int) -> None:
        """Bring this tab forward and find ``layer``'s ``channel``'s top images."""
        self.set_unit(layer, channel)
        self.ctx.show_view(self)
        self.find_top()

    def show_picture(self, layer: str, channel: int) -> None:
        """Bring this tab forward and make the picture ``layer``'s ``channel`` wants."""
        self.set_unit(layer, channel)
        self.ctx.show_view(self)
        self.make_picture()

    def paths(self) -> tuple[str, list[str]]:
        """What is looked through, in words, and its paths (files or folders)."""
        if self.folder:
            return f"Folder {self.folder}", [self.folder]
        return self._default_paths()

    def find_top(self) -> None:
        what, paths = self.paths()
        if not paths:
            set_text(self.status, NO_IMAGES_TEXT)
            return
        unit = self.unit()
        job = self.client.unit_top(unit.layer, unit.channel, paths)
        self._start(job, f"Looking through {what}…")
        job.partial.connect(lambda top, job=job: self._on_top_partial(top) if job is self._job else None)

    def make_picture(self) -> None:
        unit = self.unit()
        job = self.client.unit_picture(unit.layer, unit.channel, {"steps": PICTURE_STEPS})
        self._start(job, f"Making the picture {self._describe(unit)} wants…")
        job.partial.connect(lambda item, job=job: self._on_picture_partial(item) if job is self._job else None)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def choose_folder_dialog(self) -> None:
        start = self.ctx.settings.value("folders/units", self.folder or str(Path.home()), str)
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of images", start)
        if folder:
            self.set_folder(folder)
            self.ctx.settings.setValue("folders/units", folder)

    def set_folder(self, folder: str | None) -> None:
        self.folder = folder
        self._sync_source()

    # ------------------------------------------------------------ jobs

    def _start(self, job, text: str) -> None:
        """One job at a time (one progress bar, one Cancel): a new one cancels the one running."""
        if self._job is not None:
            self._job.cancel()
        self._job = job
        self._set_busy(True)
        set_text(self.status, text)
        self.progress.setRange(0, 0)
        self.progress.show()
        job.progressed.connect(self._on_job_progressed)
        job.failed.connect(lambda message, job=job: self._say(job, message))
        job.cancelled.connect(lambda job=job: self._say(job, "Cancelled"))
        job.ended.connect(lambda job=job: self._on_job_ended(job))

    def _say(self, job, text: str) -> None:
        if job is self._job:  # a job replaced by a newer one says nothing
            set_text(self.status, text)

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)

    def _on_job_progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_job_ended(self, job) -> None:
        if job is not self._job:
            return
        self._job = None
        self._set_busy(False)
        self.progress.hide()

    def _on_top_partial(self, top: TopImages) -> None:
        self.top = top
        for i, (tile, caption) in enumerate(zip(self.tiles, self.captions)):
            image = top.images[i] if i < len(top.images) else None
            if image is None:
                tile.clear()
                set_text(caption, "")
                continue
            if image.patch is not None and image.patch.size:
                pixmap = QPixmap.fromImage(array_to_qimage(image.patch))
                tile.setPixmap(pixmap.scaled(TILE, TILE, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))
            else:
                tile.clear()
            tile.setToolTip(f"{image.path}\nbox {image.box} in the image's pixels")
            set_text(caption, f"{i + 1}. {Path(image.path).name}: {image.value:.4g}")
        failed = f"; {len(top.failed)} could not be read" if top.failed else ""
        set_text(self.status, f"Top {len(top.images)} of {top.scanned} images for {self._describe(top.unit)} "
                              f"({top.computed} computed, {top.scanned - top.computed - len(top.failed)} "
                              f"from the cache{failed})")
        self.save_top_button.setEnabled(bool(top.images))
        self.top_shown.emit(top)

    def _on_picture_partial(self, item) -> None:
        self.picture_label.setPixmap(QPixmap.fromImage(array_to_qimage(item.image)))
        if not isinstance(item, UnitPicture):  # a frame on the way
            set_text(self.picture_caption, f"step {item.step} of {item.total}")
            return
        self.picture = item
        kept = " (made before, from the cache)" if item.from_cache else ""
        set_text(self.picture_caption, f"{self._describe(item.unit)}: {item.value:.4g} "
                                       f"(the noise it started from: {item.start_value:.4g}){kept}")
        set_text(self.status, f"The picture {self._describe(item.unit)} wants{kept}")
        self.save_picture_button.setEnabled(True)
        self.picture_shown.emit(item)

    # ------------------------------------------------------------ export

    def save_top_dialog(self) -> str | None:
        if self.top is None:
            return None
        u = self.top.unit
        return save_grid_dialog(self, top_mosaic(self.top), "Save top images as PNG", f"top-{u.layer}-{u.channel}.png")

    def save_picture_dialog(self) -> str | None:
        if self.picture is None:
            return None
        u = self.picture.unit
        return save_grid_dialog(self, self.picture.image, "Save picture as PNG", f"wants-{u.layer}-{u.channel}.png")

    # ------------------------------------------------------------ keeping in step

    def _on_worker_model_loaded(self, info) -> None:
        self.class_names = list(info.class_names)
        self._counts = {row.name: row.output_shape[0] for row in info.layer_tables.get(224, [])}
        self._sync_channel_range()

    def _sync_channel_range(self, *_args) -> None:
        layer = self.layer_box.currentData()
        self.channel_box.setRange(0, max(0, self._counts.get(layer, 1) - 1))
        self._sync_unit_name()
        self._sync_source()

    def _sync_unit_name(self, *_args) -> None:
        set_text(self.unit_name, self._describe(self.unit()))

    def _sync_source(self) -> None:
        what, paths = self.paths()
        set_text(self.source_label, f"Looking through: {what}" if paths else NO_IMAGES_TEXT)

    def _describe(self, unit: Unit) -> str:
        return unit.describe(self.class_names)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._sync_source()  # Classify's images may have changed meanwhile
        super().showEvent(event)


def add_unit_view(window, ctx) -> UnitView:
    """Add the Units tab to ``window``; a channel of Feature maps, or a filter's right-click menu,
    opens its top images or picture."""
    classify, finetune = window.classify_view, window.finetune_view

    def default_paths() -> tuple[str, list[str]]:
        opened = [classify.images.entry(r).path for r in range(classify.images.rowCount())]
        if opened:
            return f"the {len(opened)} images opened in Classify", opened
        if finetune.folder:
            return f"the fine-tune folder {finetune.folder}", [finetune.folder]
        return "", []

    view = UnitView(ctx, default_paths)
    window.add_view(view, "&Units", "What a unit sees: the images that excite it most and the image it wants")
    for source in (window.feature_maps_view, window.filters_view):
        source.unit_top_requested.connect(view.show_top)
        source.unit_picture_requested.connect(view.show_picture)
    return view
