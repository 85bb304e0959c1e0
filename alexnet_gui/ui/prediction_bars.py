"""Top-k predictions as labelled horizontal bars, highest first."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

ROWS = 5


class PredictionBarsWidget(QWidget):
    """Shows a core ``Prediction``; every bar's text is readable (accessibleName)."""

    def __init__(self, title: str = "Top-5", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        # Every row keeps its size whether it shows a class or not, so filling and
        # clearing the bars repaints only them: a change in their size would lay out
        # and repaint the whole window while the model is working on the next image.
        two_lines = 2 * self.fontMetrics().lineSpacing()
        for i in range(ROWS):
            name = QLabel()
            name.setMinimumWidth(140)
            name.setWordWrap(True)
            name.setFixedHeight(two_lines)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            policy.setRetainSizeWhenHidden(True)
            bar.setSizePolicy(policy)
            grid.addWidget(name, i, 0)
            grid.addWidget(bar, i, 1)
            self.names.append(name)
            self.bars.append(bar)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.note)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.clear()

    def set_title(self, title: str) -> None:
        self.title.setText(f"<b>{title}</b>")

    def set_note(self, text: str | None) -> None:
        self.note.setText(text or "")
        self.note.setAccessibleName(text or "")
        self.note.setVisible(bool(text))

    def clear(self, message: str = "") -> None:
        with self._batched_repaint():
            self._clear(message)

    def _clear(self, message: str) -> None:
        for i, (name, bar) in enumerate(zip(self.names, self.bars)):
            name.setText(message if i == 0 else "")
            name.setAccessibleName(name.text())
            bar.setValue(0)
            bar.setFormat("")
            bar.setAccessibleName("")
            bar.setVisible(False)

    def show_prediction(self, prediction) -> None:
        with self._batched_repaint():
            self._show_prediction(prediction)

    @contextmanager
    def _batched_repaint(self):
        # QProgressBar.setValue repaints at once while visible: 30-odd repaints per
        # image, ~7 ms of GUI time taken from the forward pass. One repaint at the end.
        self.setUpdatesEnabled(False)
        try:
            yield
        finally:
            self.setUpdatesEnabled(True)

    def _show_prediction(self, prediction) -> None:
        if prediction is None:
            self._clear("")
            return
        if prediction.error:
            self._clear(f"⚠ {prediction.error}")
            return
        for i, (name, bar) in enumerate(zip(self.names, self.bars)):
            if i < len(prediction.top):
                s = prediction.top[i]
                pct = s.probability * 100
                text = f"{s.label} — {pct:.1f} %"
                name.setText(s.label)
                name.setToolTip(f"class {s.index}: {s.label}")
                name.setAccessibleName(text)
                bar.setValue(round(s.probability * 1000))
                bar.setFormat(f"{pct:.1f} %")
                bar.setAccessibleName(text)
                bar.setToolTip(text)
                bar.setVisible(True)
            else:
                name.setText("")
                bar.setVisible(False)

    def texts(self) -> list[str]:
        """The visible rows as "label — 12.3 %" (what a screen reader reads)."""
        return [b.accessibleName() for b in self.bars if b.isVisible()]
