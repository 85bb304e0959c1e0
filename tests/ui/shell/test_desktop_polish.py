"""Desktop polish a user notices: tooltips, shortcuts, empty states, dark scheme, layout memory."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QApplication, QComboBox, QSlider, QTabBar, QWidget
from window_events import drag_enter, drag_leave

CONTROLS = (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider)


def controls_without_tooltip(window) -> list[str]:
    missing = []
    for w in window.findChildren(QWidget):
        if not isinstance(w, CONTROLS) or isinstance(w.parent(), QTabBar) or w.objectName().startswith("qt_"):
            continue  # Qt's own parts (tab scroll arrows, table corner buttons)
        if type(w).__name__ in ("QToolButton",) and not w.text():
            continue  # scroll arrows and tab-bar buttons that Qt makes itself
        if not w.toolTip() and not (w.parent() and isinstance(w.parent(), CONTROLS) and w.parent().toolTip()):
            missing.append(f"{type(w).__name__} {w.objectName() or ''} {getattr(w, 'text', lambda: '')()!r}")
    return missing


def test_every_control_has_a_tooltip(make_window):
    window = make_window()
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
    assert controls_without_tooltip(window) == []


def test_every_menu_action_is_listed_with_its_shortcut(make_window):
    from alexnet_gui.ui.shell.help_dialogs import shortcut_rows

    window = make_window()
    rows = dict(shortcut_rows(window))
    for name in ("Open images", "Open folder", "Export predictions", "Load weights", "Paste", "Cancel job",
                 "Quit", "Keyboard shortcuts", "Save fine-tuned model"):
        assert name in rows, name
    # Each tab has a Ctrl+N shortcut naming it.
    for i in range(window.tabs.count()):
        assert rows[f"Show {window.tabs.tabText(i).replace('&', '')}"] == f"Ctrl+{i + 1}"
    assert len(set(rows.values())) == len(rows), "two actions share a shortcut"


def test_empty_states_say_what_to_do(make_window):
    window = make_window()
    view = window.classify_view
    assert view.left.currentWidget() is view.empty
    assert "Drop images" in view.empty.text()
    window.tabs.setCurrentWidget(window.feature_maps_view)
    texts = " ".join(w.text() for w in window.feature_maps_view.findChildren(QWidget) if hasattr(w, "text")
                     and isinstance(getattr(w, "text")(), str))
    assert "Classify" in texts


def test_dark_palette_is_followed(make_window, qtbot):
    """Chrome uses palette roles: under a dark palette the empty-state text is light."""
    app = QApplication.instance()
    old = app.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Window, "#202124")
    dark.setColor(QPalette.ColorRole.WindowText, "#e8eaed")
    dark.setColor(QPalette.ColorRole.Base, "#2b2c2f")
    dark.setColor(QPalette.ColorRole.Text, "#e8eaed")
    app.setPalette(dark)
    try:
        window = make_window()
        label = window.classify_view.empty
        assert label.palette().color(label.foregroundRole()).lightness() > 180
        image = window.grab().toImage()
        # The window background is dark too (no hard-coded light panels over the whole window).
        assert image.pixelColor(image.width() // 2, image.height() - 5).lightness() < 100
    finally:
        app.setPalette(old)


def test_layout_is_restored(make_window, qtbot):
    window = make_window()
    window.resize(760, 560)  # fits the offscreen screen (800x600): restoreGeometry clamps to it
    window.classify_view.splitter.setSizes([180, 800])
    window.finetune_view.results.splitter.setSizes([150, 500])
    window.tabs.setCurrentIndex(1)
    sizes = window.classify_view.splitter.sizes()
    ft_sizes = window.finetune_view.results.splitter.sizes()
    size = window.size()
    window.close()
    again = make_window()
    assert again.tabs.currentIndex() == 1
    assert again.size() == size
    assert abs(again.classify_view.splitter.sizes()[0] - sizes[0]) <= 2
    assert again.finetune_view.results.splitter.sizes() == ft_sizes


def test_drop_highlight_shows_while_dragging(make_window, image_dir):
    window = make_window()
    drag_enter(window, [image_dir(1) / "img000.png"])
    overlay = window.drop_overlay
    assert overlay.isVisible() and overlay.text() == "Drop to open"
    # A frame and a badge: the window stays visible between them.
    inside = overlay.rect().adjusted(20, 20, -20, -20)
    assert not overlay.mask().contains(inside.topLeft()) and overlay.mask().contains(overlay.rect().topLeft())
    assert overlay.mask().contains(overlay.rect().center())  # the badge
    drag_leave(window)
    assert not window.drop_overlay.isVisible()


def test_ctrl_c_in_the_terminal_closes_the_window(make_window, qtbot):
    import os
    import signal

    from alexnet_gui.app import close_on_ctrl_c

    window = make_window()
    before = signal.getsignal(signal.SIGINT)
    try:
        close_on_ctrl_c(window)
        os.kill(os.getpid(), signal.SIGINT)  # what the terminal sends on Ctrl+C
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
        qtbot.waitUntil(lambda: not window.client.is_running(), timeout=5000)  # closed as by its button
    finally:
        signal.signal(signal.SIGINT, before)
        signal.set_wakeup_fd(-1)


def test_the_open_dialog_offers_every_suffix_the_app_reads():
    # One list in core.images: the Open dialog's filter is built from it (.pbm included).
    import re

    from alexnet_gui.core.images import IMAGE_SUFFIXES
    from alexnet_gui.ui.shell.main_window import image_filter

    globs = re.search(r"Images \(([^)]*)\)", image_filter()).group(1).split()
    assert globs == [f"*{s}" for s in IMAGE_SUFFIXES] and "*.pbm" in globs
