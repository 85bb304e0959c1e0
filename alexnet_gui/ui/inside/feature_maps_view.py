"""Feature maps: every channel of one `features` layer for the image selected in Classify.

One forward with hooks (the worker's ``compute_features``) gives every layer at
once; switching layers, scale or order only redraws from that result. The forward
runs only while this tab is shown: a selection made while it is hidden is
remembered and computed when the tab appears. Drawing is numpy into one mosaic
(``core.render``), then one QPixmap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.render import channel_bytes, channel_stats, colormap, feature_mosaic, overlay
from .tile_grid import TileGridWidget, save_grid_dialog

EMPTY_TEXT = "Open or drop an image in Classify to see its feature maps"
PICK_TEXT = "Click a channel to see it large"


class FeatureMapsView(QWidget):
    features_shown = Signal(str, str)  # image path, layer name: a grid was drawn
    channel_shown = Signal(str, int)  # layer name, channel shown large
    unit_top_requested = Signal(str, int)  # layer name, channel: "Top images for this channel"
    unit_picture_requested = Signal(str, int)  # layer name, channel: "What it wants"

    def __init__(self, ctx, classify_view, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = client = ctx.client
        self.classify_view = classify_view
        self.requests = 0  # forwards asked of the worker (one per image and model)
        self._path = classify_view.current_path() or ""
        self._generation = 0  # bumped by every model_loaded: older results are stale
        self._model_ready = False
        self._result = None  # FeatureMapsResult of the last forward
        self._result_generation = -1
        self._in_flight = None  # the features Job being computed, if any
        self._error: tuple[str, int, str] | None = None  # path, generation, message
        self._layer_name = "features.0"  # wanted layer, kept across images
        self._channel = -1  # wanted channel (network order), kept across images
        self._order = np.arange(0)  # channel shown in each grid tile
        self._drawn = None  # what the grid shows now, so a refresh that changes nothing redraws nothing
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        layout.addWidget(self._build_stack(self._build_grids()), 1)
        self._connect(client, classify_view)

    # ------------------------------------------------------------ building

    def _build_controls(self) -> QHBoxLayout:
        """Layer, scale, sorting and Save, in one row above the grid."""
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("Which layer of `features`: its name, type and output shape (channels×height×width)")
        self.layer_box.setAccessibleName("Layer")
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_box.setPlaceholderText("(no image)")
        self.layer_box.activated.connect(self._on_layer_box_activated)
        self.shared_box = QCheckBox("Shared scale")
        self.shared_box.setToolTip("One colour scale for every channel of the layer (compare strengths); "
                                   "off: each channel is stretched to its own range (see shapes)")
        self.shared_box.toggled.connect(self._redraw)
        self.sort_box = QCheckBox("Sort by mean activation")
        self.sort_box.setToolTip("Show the channels with the highest mean activation first")
        self.sort_box.toggled.connect(self._redraw)
        self.overlay_box = QCheckBox("Overlay on image")
        self.overlay_box.setToolTip("Blend the large channel over the 224×224 crop the network saw")
        self.overlay_box.toggled.connect(self._draw_channel)
        self.save_button = QPushButton("Save as PNG…")
        self.save_button.setToolTip("Write the grid as shown (one pixel per activation, scaled up to tiles of "
                                    "about 40 pixels), without the window around it")
        self.save_button.clicked.connect(self.save_dialog)
        self._enable_controls(False)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer_box)
        top.addWidget(self.shared_box)
        top.addWidget(self.sort_box)
        top.addStretch(1)
        top.addWidget(self.save_button)
        return top

    def _build_grids(self) -> QSplitter:
        """Every channel of the layer on the left, the one picked large on the right."""
        self.grid = TileGridWidget()
        self.grid.setToolTip("Every channel of the layer (viridis: dark low, yellow high); click one to see it large")
        self.grid.setAccessibleName("Feature maps grid")
        self.grid.tile_clicked.connect(self._on_grid_tile_clicked)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.channel_view = TileGridWidget(PICK_TEXT)
        self.channel_view.setToolTip("The selected channel, large")
        self.channel_view.setAccessibleName("Selected channel")
        self.stats = QLabel()  # the picked channel's numbers; the large view says what to do before a pick
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats.setAccessibleName("Selected channel's statistics")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.grid, 1)
        ll.addWidget(self.caption)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.channel_view, 1)
        rl.addWidget(self.stats)
        rl.addWidget(self.overlay_box)
        rl.addLayout(self._build_unit_buttons())
        self.splitter = QSplitter()
        self.splitter.setObjectName("feature-maps-splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        return self.splitter

    def _build_unit_buttons(self) -> QHBoxLayout:
        """What the picked channel sees beyond this image: the Units tab's two questions."""
        self.top_images_button = QPushButton("Top images for this channel")
        self.top_images_button.setToolTip("The images that excite this channel most (Units tab)")
        self.top_images_button.clicked.connect(lambda: self.unit_top_requested.emit(self._layer_name, self._channel))
        self.wants_button = QPushButton("What it wants")
        self.wants_button.setToolTip("The image this channel wants, made by gradient ascent (Units tab)")
        self.wants_button.clicked.connect(lambda: self.unit_picture_requested.emit(self._layer_name, self._channel))
        row = QHBoxLayout()
        row.addWidget(self.top_images_button)
        row.addWidget(self.wants_button)
        self._sync_unit_buttons(False)
        return row

    def _sync_unit_buttons(self, on: bool) -> None:
        for button in (self.top_images_button, self.wants_button):
            button.setEnabled(on)

    def _build_stack(self, grids: QWidget) -> QStackedWidget:
        """A message (no image, computing, an error) in place of the grids."""
        self.message = QLabel(EMPTY_TEXT)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setAccessibleName(EMPTY_TEXT)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(grids)
        return self.stack

    def _connect(self, client, classify_view) -> None:
        w = client.worker
        w.model_loaded.connect(self._on_worker_model_loaded)
        classify_view.current_image_changed.connect(self._on_classify_current_image_changed)
        # Clearing the list resets the model without a current-changed signal.
        classify_view.images.modelReset.connect(
            lambda: self._on_classify_current_image_changed(classify_view.current_path() or ""))

    # ------------------------------------------------------------ public

    def show_channel(self, layer: str, channel: int) -> None:
        """Bring this tab forward with ``layer``'s ``channel`` large (for the current image)."""
        self._layer_name, self._channel = layer, channel
        self._drawn = None
        self.ctx.show_view(self)  # showEvent computes what is missing
        self._refresh()

    def current_layer(self):
        """The LayerActivation on show, or None."""
        if self._result is None:
            return None
        for act in self._result.layers:
            if act.name == self._layer_name:
                return act
        return None

    def handle_drop(self, paths) -> bool:
        # Dropped here, an image opens in Classify and its maps show here.
        return self.classify_view.open_paths(paths) > 0  # opened there, shown here

    # ------------------------------------------------------------ events

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._refresh()

    def _on_classify_current_image_changed(self, path: str) -> None:
        self._path = path
        self._refresh()

    def _on_worker_model_loaded(self, _info) -> None:
        self._model_ready = True
        self._generation += 1  # new weights: every map so far is stale
        self._error = None
        self._refresh()

    def _on_job_result(self, generation: int, result) -> None:
        if generation == self._generation:
            self._result, self._result_generation = result, generation
            self._drawn = None
        self._done()

    def _on_job_failed(self, path: str, generation: int, message: str) -> None:
        self._error = (path, generation, message)
        self._done()

    def _done(self, job=None) -> None:
        """The job in flight has answered (or ended without): show it, or ask for the image
        selected meanwhile."""
        if job is None or self._in_flight is job:
            self._in_flight = None
            self._refresh()

    def _on_layer_box_activated(self, index: int) -> None:
        self._layer_name = self.layer_box.itemData(index)
        self._redraw()

    def _on_grid_tile_clicked(self, index: int) -> None:
        self._channel = int(self._order[index])
        self._draw_channel()

    # ------------------------------------------------------------ state

    def _current(self) -> bool:
        r = self._result
        return r is not None and r.path == self._path and self._result_generation == self._generation

    def _refresh(self) -> None:
        if not self._path:
            self._show_message(EMPTY_TEXT)
            return
        name = Path(self._path).name
        if self._current():
            self._show_result()
            return
        if self._error is not None and self._error[:2] == (self._path, self._generation):
            self._show_message(f"Could not compute the feature maps: {self._error[2]}")
            return
        if not self._model_ready:
            self._show_message("Loading the model…")
            return
        if not self.isVisible():
            return  # remembered in self._path; computed when the tab is shown
        if self._in_flight is None:
            path, generation = self._path, self._generation
            job = self._in_flight = self.client.features(path)
            job.partial.connect(lambda result: self._on_job_result(generation, result))
            job.failed.connect(lambda message: self._on_job_failed(path, generation, message))
            job.cancelled.connect(lambda: self._done(job))
            self.requests += 1
        if self._result is None:
            self._show_message(f"Computing the feature maps of {name}…")
        else:
            # Keep the previous image's grid up meanwhile: no flash on every selection.
            self._set_caption(f"Computing the feature maps of {name}…")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setAccessibleName(text)
        self.stack.setCurrentWidget(self.message)
        self._enable_controls(False)

    def _enable_controls(self, on: bool) -> None:
        for w in (self.layer_box, self.shared_box, self.sort_box, self.save_button):
            w.setEnabled(on)

    def _set_caption(self, text: str) -> None:
        self.caption.setText(text)
        self.caption.setAccessibleName(text)

    def _show_result(self) -> None:
        self._fill_layer_box()
        self.stack.setCurrentWidget(self.splitter)
        self._enable_controls(True)
        self._redraw()

    def _fill_layer_box(self) -> None:
        labels = [act.label for act in self._result.layers]  # "features.1 ReLU 64x55x55"
        if [self.layer_box.itemText(i) for i in range(self.layer_box.count())] != labels:
            self.layer_box.clear()
            for act in self._result.layers:
                self.layer_box.addItem(act.label, act.name)
        i = self.layer_box.findData(self._layer_name)
        if i < 0:
            i, self._layer_name = 0, self.layer_box.itemData(0)
        self.layer_box.setCurrentIndex(i)

    # ------------------------------------------------------------ drawing

    def _redraw(self) -> None:
        act = self.current_layer() if self._current() else None
        if act is None:
            return
        key = (id(self._result), act.name, self.shared_box.isChecked(), self.sort_box.isChecked())
        if key != self._drawn:
            rgb, layout, self._order = feature_mosaic(act.maps, key[2], key[3])
            self.grid.set_mosaic(rgb, layout, tip=self._tile_tip)
            self._drawn = key
            c, h, w = act.maps.shape
            self._set_caption(f"{act.label} of {Path(self._result.path).name}: {c} channels of {h}×{w}"
                              + (", highest mean first" if key[3] else "") + ". Click a channel to see it large.")
            self.features_shown.emit(self._result.path, act.name)
        self._draw_channel()

    def _draw_channel(self) -> None:
        act = self.current_layer() if self._current() else None
        if act is None:
            return
        c = act.maps.shape[0]
        if not 0 <= self._channel < c:
            self.grid.set_selected(-1)
            self.channel_view.set_mosaic(None)
            self.stats.clear()
            self.stats.setAccessibleName("Selected channel's statistics")
            self._sync_unit_buttons(False)
            return
        ch = self._channel
        self.grid.set_selected(int(np.flatnonzero(self._order == ch)[0]))
        u8 = channel_bytes(act.maps, ch, self.shared_box.isChecked())  # (H, W)
        picture = overlay(u8, self._result.preview) if self.overlay_box.isChecked() else colormap(u8)
        self.channel_view.set_mosaic(picture)
        lo, hi, mean = channel_stats(act.maps, ch)
        text = f"{act.name} {act.kind}, channel {ch} of {c}\nmin {lo:.4g}, max {hi:.4g}, mean {mean:.4g}"
        self.stats.setText(text)
        self.stats.setAccessibleName(text)
        self._sync_unit_buttons(True)
        self.channel_shown.emit(act.name, ch)

    def _tile_tip(self, index: int) -> str:
        act = self.current_layer()
        if act is None or index >= len(self._order):
            return ""
        ch = int(self._order[index])
        lo, hi, mean = channel_stats(act.maps, ch)
        return f"channel {ch}: mean {mean:.3g}, max {hi:.3g}"

    # ------------------------------------------------------------ export

    def save_dialog(self) -> str | None:
        if self._result is None:
            return None
        name = f"{Path(self._result.path).stem}-{self._layer_name}.png"
        return save_grid_dialog(self, self.grid.array(), "Save feature maps as PNG", name)
