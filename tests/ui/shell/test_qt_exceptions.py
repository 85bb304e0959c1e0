"""An exception raised inside a Qt virtual (a paint, a model's data(), an event handler)
fails the test that caused it, also when the paint was still pending as the test ended.

Each case runs in a pytest of its own (pytester, in a subprocess: Qt's application is one
per process), with the suite's own check loaded as tests/conftest.py loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS_DIR = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS_DIR)!r})
from qt_checks import pytest_runtest_call  # noqa: F401
"""

CASES = '''
import pytest
from PySide6.QtCore import QAbstractListModel, QEvent, QModelIndex, QSize, Qt
from PySide6.QtWidgets import QApplication, QListView, QWidget

KEEP = []  # the widgets outlive the test body, as a window fixture keeps them


class Rows(QAbstractListModel):
    """As the window's image list: rows of one size, each row's text read only to paint it.
    A row added after the first raises there (as a row in an unforeseen state did)."""

    count = 1
    painted = 0  # display texts read, i.e. rows painted

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else self.count

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(200, 40)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        self.painted += 1
        if index.row() > 0:
            raise AttributeError("data() of a row in an unforeseen state")
        return "a row"

    def add_row(self):
        self.beginInsertRows(QModelIndex(), self.count, self.count)
        self.count += 1
        self.endInsertRows()


def shown_list(qtbot):
    view = QListView()
    view.setUniformItemSizes(True)
    rows = Rows(view)
    view.setModel(rows)
    qtbot.addWidget(view)
    view.show()
    KEEP.append(view)
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: rows.painted > 0, timeout=5000)  # painted once, with its good row
    return view, rows


def test_data_raising_in_a_paint_still_pending_at_the_end(qtbot):
    view, rows = shown_list(qtbot)
    rows.add_row()  # its paint is due a few milliseconds after the test body


def test_data_raising_in_a_paint_while_waiting(qtbot):
    view, rows = shown_list(qtbot)
    rows.add_row()
    painted = rows.painted
    qtbot.waitUntil(lambda: rows.painted > painted, timeout=5000)  # the bad row's paint ran


def test_paint_event_raising(qtbot):
    class Broken(QWidget):
        def paintEvent(self, event):
            raise ValueError("paintEvent failed")

    widget = Broken()
    qtbot.addWidget(widget)
    widget.show()
    KEEP.append(widget)


def test_event_handler_raising(qtbot):
    class Broken(QWidget):
        def event(self, event):
            if event.type() == QEvent.Type.User:
                raise KeyError("event() failed")
            return super().event(event)

    widget = Broken()
    qtbot.addWidget(widget)
    KEEP.append(widget)
    QApplication.postEvent(widget, QEvent(QEvent.Type.User))


@pytest.fixture
def closed_with_an_error(qtbot):
    class Broken(QWidget):
        def event(self, event):
            if event.type() == QEvent.Type.User:
                raise LookupError("event() failed while the fixture closed")
            return super().event(event)

    widget = Broken()
    KEEP.append(widget)
    yield widget
    QApplication.postEvent(widget, QEvent(QEvent.Type.User))  # handled after the fixture is done


def test_an_exception_while_a_fixture_tears_down(closed_with_an_error):
    pass


def test_a_window_that_paints_fine_passes(qtbot):
    view, rows = shown_list(qtbot)
    painted = rows.painted
    rows.dataChanged.emit(rows.index(0), rows.index(0))
    qtbot.waitUntil(lambda: rows.painted > painted, timeout=5000)  # painted again, fine
'''


@pytest.fixture
def outcome(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_cases=CASES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rfE")
    return result


def test_each_exception_in_a_qt_virtual_fails_its_own_test(outcome):
    lines = "\n".join(outcome.outlines)
    # FAILED, not only an error at teardown: the paint the last step asked for is made
    # within the test (pytest-qt alone may see it while closing the window, or not at all).
    for name, raised in (("test_data_raising_in_a_paint_still_pending_at_the_end", "AttributeError"),
                         ("test_data_raising_in_a_paint_while_waiting", "AttributeError"),
                         ("test_paint_event_raising", "ValueError"),
                         ("test_event_handler_raising", "KeyError")):
        assert f"FAILED test_cases.py::{name}" in lines, lines
        assert raised in lines
    assert "ERROR test_cases.py::test_an_exception_while_a_fixture_tears_down" in lines
    assert "LookupError" in lines
    assert "test_a_window_that_paints_fine_passes" not in lines.split("short test summary info")[-1]
    assert outcome.parseoutcomes()["failed"] == 4, lines


def test_the_check_is_in_force_for_the_suite(request):
    """tests/conftest.py registers it: every window and fault test runs with it."""
    import qt_checks

    impls = request.config.pluginmanager.hook.pytest_runtest_call.get_hookimpls()
    assert any(impl.function is qt_checks.pytest_runtest_call for impl in impls)
