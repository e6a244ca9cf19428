"""The first run with an empty library says what to do: a panel with "Index a folder…"
(also Ctrl+I) and the hint that a folder can be dropped; it goes away once the library has
faces (issue 13, major 1)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from guihelpers import drop, file_mime, index


def _front(qtbot, w) -> None:
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)


def test_an_empty_library_says_what_to_do_and_ctrl_i_opens_the_wizard(qtbot, settings):
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)  # no model needed: the guidance is there before it loads
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        assert w.welcome.isVisible()
        text = w.welcome_text.text()
        assert "no photos yet" in text and "drop a folder" in text
        assert "Index a folder" in w.welcome_button.text()
        assert "Ctrl+I" in w.welcome_button.text()
        _front(qtbot, w)
        QTest.keyClick(w, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
        assert w.wizard is not None and w.wizard.isVisible()
        w.wizard.reject()
        assert not w.wizard.isVisible()
        qtbot.mouseClick(w.welcome_button, Qt.MouseButton.LeftButton)
        assert w.wizard.isVisible()
        w.wizard.reject()
    finally:
        w.close()


def test_a_dropped_folder_opens_the_wizard_and_the_guidance_goes_once_indexed(
        qtbot, window, small_folder):
    assert window.welcome.isVisible()
    drop(window, file_mime(small_folder))  # "You can also drop a folder on this window"
    assert window.wizard.isVisible()
    assert window.wizard.folder_page.folder.text() == str(small_folder)
    window.wizard.reject()
    index(qtbot, window, small_folder)
    qtbot.waitUntil(lambda: not window.welcome.isVisible(), timeout=30_000)
