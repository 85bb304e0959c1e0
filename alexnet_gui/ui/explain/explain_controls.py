"""The Explain view's settings: the class, the method and each method's own knobs.

The values come out as a plain dict of ``core.explain.ExplainSettings`` (what the
worker's explain job takes); only the knobs of the chosen method are shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from ...core.explain import DEFAULT_LAYER, LAYERS, METHOD_TITLES, METHODS, ExplainSettings

TOP1 = "Top-1 class"


class ExplainControls(QWidget):
    """Emits ``changed`` when a value the map depends on changes (not the opacity)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = ExplainSettings()
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.class_box.setToolTip("The class to explain: the top-1 class, or type any class name of the model")
        self.class_box.setAccessibleName("Class to explain")
        self.method_box = QComboBox()
        for m in METHODS:
            self.method_box.addItem(METHOD_TITLES[m], m)
        self.method_box.setAccessibleName("Method")
        self.method_box.setToolTip("Grad-CAM is instant; Guided Grad-CAM adds fine detail; Occlusion and "
                                   "Integrated Gradients take longer and show their progress")
        self.layer_box = QComboBox()
        for layer, alias in LAYERS.items():
            self.layer_box.addItem(f"{alias} ({layer})", layer)
        self.layer_box.setCurrentIndex(list(LAYERS).index(DEFAULT_LAYER))
        self.layer_box.setToolTip("The conv block whose activations Grad-CAM weighs; relu5 is the last")
        self.layer_box.setAccessibleName("Layer")
        self.patch = _spin(4, 224, defaults.patch, "Side of the grey square, in crop pixels")
        self.stride = _spin(2, 224, defaults.stride, "How far the square moves each time, in pixels")
        self.steps = _spin(2, 128, defaults.ig_steps, "Points on the path from the grey baseline to the image")
        self.samples = _spin(1, 64, defaults.noise_samples, "Noisy copies averaged (SmoothGrad)")
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(defaults.noise)
        self.noise.setToolTip("Noise standard deviation, as a fraction of the input's range")
        self.noise.setAccessibleName("Noise")
        self._build_form()
        self._connect()
        self.set_class_names([])

    def _build_form(self) -> None:
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.addRow("Class", self.class_box)
        self.form.addRow("Method", self.method_box)
        self.rows = {}
        for key, label, widget in (("layer", "Layer", self.layer_box), ("patch", "Patch", self.patch),
                                   ("stride", "Stride", self.stride), ("steps", "IG steps", self.steps),
                                   ("samples", "Noisy copies", self.samples), ("noise", "Noise", self.noise)):
            caption = QLabel(label)
            self.form.addRow(caption, widget)
            self.rows[key] = (caption, widget)
        self._show_knobs()

    def _connect(self) -> None:
        self.method_box.currentIndexChanged.connect(self._show_knobs)
        for box in (self.method_box, self.layer_box):
            box.currentIndexChanged.connect(lambda _=0: self.changed.emit())
        self.class_box.activated.connect(lambda _=0: self.changed.emit())
        self.class_box.lineEdit().editingFinished.connect(self._on_class_typed)
        for spin in (self.patch, self.stride, self.steps, self.samples, self.noise):
            spin.editingFinished.connect(self.changed.emit)

    def _show_knobs(self) -> None:
        method = self.method()
        shown = {"gradcam": {"layer"}, "guided-gradcam": {"layer"}, "occlusion": {"patch", "stride"},
                 "integrated-gradients": {"steps", "samples", "noise"}}[method]
        for key, (caption, widget) in self.rows.items():
            caption.setVisible(key in shown)
            widget.setVisible(key in shown)

    def _on_class_typed(self) -> None:
        if self.class_box.currentText() != self._last_class:
            self._last_class = self.class_box.currentText()
            self.changed.emit()

    # ------------------------------------------------------------ values

    def set_class_names(self, names: list[str]) -> None:
        """The model's classes, for the list and the completer; the choice goes back to top-1."""
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(TOP1, None)
        for i, name in enumerate(names):
            self.class_box.addItem(name, i)
        completer = QCompleter(names, self.class_box)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.class_box.setCompleter(completer)
        self.class_box.setCurrentIndex(0)
        self.class_box.blockSignals(False)
        self._last_class = TOP1

    def set_target(self, index: int | None) -> None:
        """Choose class ``index`` (None: top-1) without emitting ``changed``."""
        self.class_box.blockSignals(True)
        self.class_box.setCurrentIndex(0 if index is None else index + 1)
        self.class_box.blockSignals(False)
        self._last_class = self.class_box.currentText()

    def set_target_text(self, label: str) -> None:
        """Choose a class by name, without emitting ``changed``."""
        self.class_box.blockSignals(True)
        self.class_box.setEditText(label)
        self.class_box.blockSignals(False)
        self._last_class = label

    def target(self, by_name: bool = False) -> int | str | None:
        """None (top-1), the index of a listed class, or the text typed. ``by_name``: always the
        text (another model's classes, e.g. a fine-tune run's, are not the ones listed)."""
        text = self.class_box.currentText().strip()
        if not text or text == TOP1:
            return None
        if by_name:
            return text
        i = self.class_box.findText(text, Qt.MatchFlag.MatchFixedString)  # case-insensitive
        return self.class_box.itemData(i) if i > 0 else text  # a name the core will refuse by name

    def set_method(self, method: str) -> None:
        self.method_box.setCurrentIndex(METHODS.index(method))

    def method(self) -> str:
        return self.method_box.currentData()

    def values(self, by_name: bool = False) -> dict:
        return ExplainSettings(method=self.method(), layer=self.layer_box.currentData(), target=self.target(by_name),
                               patch=self.patch.value(), stride=self.stride.value(), ig_steps=self.steps.value(),
                               noise_samples=self.samples.value(), noise=round(self.noise.value(), 4)).as_dict()


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(low, high)
    s.setValue(value)
    s.setToolTip(tip)
    s.setAccessibleName(tip)
    return s
