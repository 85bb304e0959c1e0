"""The top-5 chart: its rows read right, and each bar's length is its probability."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPalette


def prediction(*pairs, error=None):
    top = [SimpleNamespace(label=label, probability=p, index=i) for i, (label, p) in enumerate(pairs)]
    return SimpleNamespace(top=top, error=error)


@pytest.fixture
def bars(qtbot):
    from alexnet_gui.ui.classify.prediction_bars import PredictionBarsWidget

    widget = PredictionBarsWidget("Top-5")
    qtbot.addWidget(widget)
    widget.resize(600, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def highlighted_run(chart, row: int) -> tuple[int, int]:
    """First and last x of the highlight colour along the middle of ``row``, and the track's width."""
    image = chart.grab().toImage()
    y = round((row + 0.5) * chart.row_height * image.devicePixelRatio())
    colour = chart.palette().color(QPalette.ColorRole.Highlight).rgb()
    xs = [x for x in range(image.width()) if image.pixel(x, y) == colour]
    return (xs[0], xs[-1]) if xs else (0, -1)


def test_rows_read_highest_first_and_bar_lengths_follow_the_probabilities(bars):
    bars.show_prediction(prediction(("tabby", 0.8), ("tiger cat", 0.1), ("lynx", 0.05)))
    assert bars.texts() == ["tabby — 80.0 %", "tiger cat — 10.0 %", "lynx — 5.0 %"]
    assert bars.chart.accessibleDescription() == "; ".join(bars.texts())
    first, last = highlighted_run(bars.chart, 0)
    second_first, second_last = highlighted_run(bars.chart, 1)
    assert first == second_first  # bars start at the same x
    long, short = last - first, second_last - second_first
    assert long == pytest.approx(8 * short, rel=0.15)  # 80 % vs 10 %
    assert highlighted_run(bars.chart, 3) == (0, -1)  # only three rows


def test_error_and_waiting_messages_replace_the_rows(bars):
    bars.show_prediction(prediction(("tabby", 0.8)))
    bars.clear("classifying…")
    assert bars.texts() == [] and bars.message() == "classifying…"
    bars.show_prediction(prediction(error="x.png: the file is empty (0 bytes)"))
    assert bars.message() == "⚠ x.png: the file is empty (0 bytes)" == bars.chart.accessibleDescription()
    assert highlighted_run(bars.chart, 0) == (0, -1)


def test_new_predictions_never_change_the_chart_size(bars):
    size = bars.chart.size()
    bars.show_prediction(prediction(*[(f"a very long class name number {i} " * 3, 0.2) for i in range(5)]))
    bars.clear("⚠ " + "a long error message " * 20)
    bars.show_prediction(prediction(("x", 1.0)))
    assert bars.chart.size() == size


def test_hovering_a_row_names_its_class_number(bars, qtbot):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    bars.show_prediction(prediction(("tabby", 0.8), ("tiger cat", 0.1)))
    chart = bars.chart
    pos = QPoint(20, int(chart.row_height * 1.5))
    QApplication.sendEvent(chart, QHelpEvent(QEvent.Type.ToolTip, pos, chart.mapToGlobal(pos)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == "class 1: tiger cat — 10.0 %"
