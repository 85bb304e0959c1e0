"""Filters: the learned kernels of the loaded model, conv1's 64 as RGB tiles, deeper
layers' as grey tiles (each output channel's kernel averaged over its inputs), 64 a page.

Drawn from ``ModelInfo.conv_weights`` (plain arrays sent with every ``model_loaded``),
so new weights redraw the grid and no torch is needed here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QPushButton, QToolButton, QVBoxLayout, QWidget

from ...core.render import PAGE_SIZE, filters_mosaic, page_count, weight_ranges
from .feature_maps_view import FeatureMapsView
from .tile_grid import TileGridWidget, save_grid_dialog

HINT = ("Hover a filter for its index and weight range; click it to see what it finds in the selected image; "
        "right-click it for the images that excite it most and the image it wants.")


class FiltersView(QWidget):
    filter_clicked = Signal(str, int)  # layer name, output channel
    unit_top_requested = Signal(str, int)  # layer name, output channel: "Top images for this channel"
    unit_picture_requested = Signal(str, int)  # layer name, output channel: "What it wants"

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client = client = ctx.client
        self._weights: dict = {}  # "features.0" -> (C_out, C_in, k, k) float32
        self._ranges = None  # (C_out, 2) raw min/max of the shown layer
        self._page = 0
        self._dirty = False  # new weights or settings not drawn yet (drawn when shown)
        self._model_text = ""
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        self._build_grid(layout)
        self._sync_pages()
        client.worker.model_loaded.connect(self._on_worker_model_loaded)

    # ------------------------------------------------------------ building

    def _build_controls(self) -> QHBoxLayout:
        """Layer, scale, paging and Save, in one row above the grid."""
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("Which conv layer: conv1 sees RGB, so its kernels show in colour; deeper kernels "
                                  "see many channels and are shown averaged over them, in grey")
        self.layer_box.setAccessibleName("Conv layer")
        self.layer_box.setEnabled(False)
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_box.activated.connect(self._on_layer_box_activated)
        self.norm_box = QComboBox()
        self.norm_box.addItem("Per filter", True)
        self.norm_box.addItem("One scale for all", False)
        self.norm_box.setToolTip("Per filter: each kernel stretched to its own range (shows its pattern). "
                                 "One scale: the whole layer on one range (shows which kernels are strong)")
        self.norm_box.setAccessibleName("Normalisation")
        self.norm_box.activated.connect(lambda _: self._changed())
        self.prev_button = QToolButton()
        self.prev_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.prev_button.setToolTip("Previous page of kernels (PgUp)")
        self.prev_button.setShortcut("PgUp")
        self.prev_button.clicked.connect(lambda: self.set_page(self._page - 1))
        self.next_button = QToolButton()
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.next_button.setToolTip("Next page of kernels (PgDown)")
        self.next_button.setShortcut("PgDown")
        self.next_button.clicked.connect(lambda: self.set_page(self._page + 1))
        self.page_label = QLabel()
        self.page_label.setToolTip(f"{PAGE_SIZE} kernels a page")
        self.save_button = QPushButton("Save as PNG…")
        self.save_button.setToolTip("Write the grid as shown (each weight a square of pixels), without the window around it")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_dialog)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer_box)
        top.addWidget(QLabel("Scale:"))
        top.addWidget(self.norm_box)
        top.addWidget(self.prev_button)
        top.addWidget(self.page_label)
        top.addWidget(self.next_button)
        top.addStretch(1)
        top.addWidget(self.save_button)
        return top

    def _build_grid(self, layout: QVBoxLayout) -> None:
        """The title, the kernels' grid and the hovered kernel's line."""
        self.title = QLabel("Loading the model…")
        self.title.setWordWrap(True)
        self.grid = TileGridWidget("Loading the model…")
        self.grid.setToolTip(HINT)
        self.grid.setAccessibleName("Filters grid")
        self.grid.tile_hovered.connect(self._on_grid_tile_hovered)
        self.grid.tile_clicked.connect(self._on_grid_tile_clicked)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._on_grid_context_menu_requested)
        self.info = QLabel(HINT)
        self.info.setWordWrap(True)
        self.info.setAccessibleName(HINT)
        layout.addWidget(self.title)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.info)

    # ------------------------------------------------------------ state

    def layer(self) -> str:
        return self.layer_box.currentData() or "features.0"

    def per_filter(self) -> bool:
        return bool(self.norm_box.currentData())

    def pages(self) -> int:
        w = self._weights.get(self.layer())
        return page_count(w.shape[0]) if w is not None else 1

    def set_page(self, page: int) -> None:
        page = min(max(page, 0), self.pages() - 1)
        if page != self._page:
            self._page = page
            self._changed()

    def _on_worker_model_loaded(self, info) -> None:
        self._weights = dict(info.conv_weights)
        self._model_text = info.description if info.trained else \
            f"{info.description}: these kernels are random noise until weights are loaded"
        current = self.layer()
        self.layer_box.clear()
        for i, (name, w) in enumerate(self._weights.items()):
            c_out, c_in, k, _ = w.shape
            what = "RGB" if c_in == 3 else f"mean of {c_in} inputs"
            self.layer_box.addItem(f"{name} (conv{i + 1}): {c_out} × {c_in}×{k}×{k}, {what}", name)
        self.layer_box.setCurrentIndex(max(self.layer_box.findData(current), 0))
        self.layer_box.setEnabled(True)
        self._page = min(self._page, self.pages() - 1)
        self._changed()

    def _on_layer_box_activated(self, _index: int) -> None:
        self._page = 0
        self._changed()

    def _changed(self) -> None:
        self._dirty = True
        self._sync_pages()
        if self.isVisible():
            self.render()

    def _sync_pages(self) -> None:
        pages = self.pages()
        for w in (self.prev_button, self.next_button, self.page_label):
            w.setVisible(pages > 1)
        self.prev_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(self._page < pages - 1)
        text = f"page {self._page + 1} of {pages}"
        self.page_label.setText(text)
        self.page_label.setAccessibleName(text)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._dirty:
            self.render()

    # ------------------------------------------------------------ drawing

    def render(self) -> None:
        """Draw the current layer/page/normalisation (a few ms of numpy)."""
        w = self._weights.get(self.layer())
        if w is None:
            return
        rgb, layout = filters_mosaic(w, self.per_filter(), self._page)
        self._ranges = weight_ranges(w)
        self.grid.set_mosaic(rgb, layout, tip=self.describe_tile)
        self._dirty = False
        c_out, c_in, k, _ = w.shape
        first = self._page * PAGE_SIZE
        shown = f"{first}–{first + layout.count - 1} of {c_out}" if c_out > layout.count else f"all {c_out}"
        kind = "filters as RGB" if c_in == 3 else f"kernels averaged over their {c_in} input channels"
        text = f"{self.layer()}: {shown} {kind}, {k}×{k} — {self._model_text}"
        self.title.setText(text)
        self.title.setAccessibleName(text)
        self.save_button.setEnabled(True)

    def describe_tile(self, index: int) -> str:
        ch = self._page * PAGE_SIZE + index
        lo, hi = self._ranges[ch]
        return f"{self.layer()} filter {ch}: weights {lo:+.4f} … {hi:+.4f}"

    def _on_grid_tile_hovered(self, index: int) -> None:
        text = self.describe_tile(index) if index >= 0 and self._ranges is not None else HINT
        self.info.setText(text)
        self.info.setAccessibleName(text)

    def _on_grid_tile_clicked(self, index: int) -> None:
        self.filter_clicked.emit(self.layer(), self._page * PAGE_SIZE + index)

    def unit_actions(self, index: int) -> list[QAction]:
        """What a right-click on tile ``index`` offers: the Units tab's two questions for its channel."""
        channel = self._page * PAGE_SIZE + index
        top = QAction(f"Top images for channel {channel}", self)
        top.triggered.connect(lambda: self.unit_top_requested.emit(self.layer(), channel))
        wants = QAction("What it wants", self)
        wants.triggered.connect(lambda: self.unit_picture_requested.emit(self.layer(), channel))
        return [top, wants]

    def _on_grid_context_menu_requested(self, pos) -> None:
        index = self.grid.index_at(pos)
        if index < 0 or self._ranges is None:
            return
        menu = QMenu(self)
        menu.addActions(self.unit_actions(index))
        menu.exec(self.grid.mapToGlobal(pos))

    # ------------------------------------------------------------ export

    def save_dialog(self) -> str | None:
        suffix = f"-page{self._page + 1}" if self.pages() > 1 else ""
        return save_grid_dialog(self, self.grid.array(), "Save filters as PNG", f"filters-{self.layer()}{suffix}.png")


def add_views(window, ctx) -> tuple[FiltersView, FeatureMapsView]:
    """Add the Filters and Feature maps tabs to ``window``; a click on a filter opens its maps."""
    filters = FiltersView(ctx)
    maps = FeatureMapsView(ctx, window.classify_view)
    window.add_view(filters, "F&ilters", "The learned kernels: conv1's 64 RGB filters and the deeper conv layers'")
    window.add_view(maps, "F&eature maps", "What every layer of `features` computes for the image selected in Classify")
    filters.filter_clicked.connect(maps.show_channel)
    return filters, maps
