"""The main window from the keyboard alone (issue 13, majors 2 and 3): Tab reaches the query
photo's faces and the results; the arrow keys (or Ctrl+] / Ctrl+[) switch faces; Enter opens a
result; the Menu key or Shift+F10 opens its context menu; a new search or another face starts
the results at the top."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from helpers import GROUPS
from guihelpers import JOB_TIMEOUT, index
from facefinder.gui import main_window as main_window_module

GROUP = GROUPS / "dlib_2008_001322.jpg"


@pytest.fixture
def searched(qtbot, window, small_folder):
    """A library of the small folder plus the group photos, and a search with a group
    photo (several faces) done; opening files is recorded instead of launching a viewer."""
    for p in GROUPS.iterdir():
        shutil.copyfile(p, small_folder / p.name)
    index(qtbot, window, small_folder)
    window.resize(700, 500)  # small enough that the results scroll
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT):
        window.search_file(str(GROUP))
    assert len(window.query_view.boxes) > 2
    return window


def key(widget, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(widget, k, mods)


def tab_to(qtbot, window, target, limit: int = 30) -> None:
    """Press Tab until ``target`` has the focus (as a user would), failing after ``limit``."""
    window.library_box.setFocus()
    for _ in range(limit):
        if target.hasFocus():
            return
        key(window.focusWidget() or window, Qt.Key.Key_Tab)
    assert target.hasFocus(), f"Tab never reached {target} (stopped at {window.focusWidget()})"


def test_tab_reaches_the_faces_and_the_results_and_enter_opens_a_result(
        qtbot, searched, monkeypatch):
    w = searched
    opened = []
    monkeypatch.setattr(main_window_module.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    tab_to(qtbot, w, w.query_view)
    first = w.query_view.chosen
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        key(w.query_view, Qt.Key.Key_Right)  # the next face
    assert blocker.args[1].chosen == first + 1 == w.query_view.chosen
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        key(w.query_view, Qt.Key.Key_1)  # face number 1
    assert blocker.args[1].chosen == 0
    key(w.query_view, Qt.Key.Key_Tab)
    assert w.results.hasFocus()
    assert w.results.currentIndex().row() == 0
    key(w.results, Qt.Key.Key_Right)
    key(w.results, Qt.Key.Key_Return)
    assert opened == [w.model.row(1).path]


def test_menu_key_and_shift_f10_open_the_results_context_menu(qtbot, searched):
    w = searched
    tab_to(qtbot, w, w.results)
    key(w.results, Qt.Key.Key_Menu)
    menu = w.last_menu
    assert menu is not None and menu.isVisible()
    assert [a.text() for a in menu.actions()][:2] == ["Open", "Show in folder"]
    key(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=5000)
    key(w.results, Qt.Key.Key_Down)
    row = w.results.currentIndex().row()
    key(w.results, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert w.last_menu is not menu and w.last_menu.isVisible()
    assert w.results.currentIndex().row() == row
    key(w.last_menu, Qt.Key.Key_Escape)


def test_switching_faces_by_shortcut_starts_the_results_at_the_top(qtbot, searched):
    w = searched
    bar = w.results.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5000)
    bar.setValue(bar.maximum())
    w.results.setCurrentIndex(w.model.index(w.model.rowCount() - 1))
    chosen = w.query_view.chosen
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        key(w, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args[1].chosen == chosen + 1
    assert bar.value() == 0
    assert w.results.currentIndex().row() == 0
    bar.setValue(bar.maximum())
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT):
        w.search_file(str(GROUPS / "facenetpytorch_multiface.jpg"))  # a new search
    assert bar.value() == 0


def test_a_result_that_cannot_be_opened_is_said_in_the_window(qtbot, searched, monkeypatch):
    w = searched
    monkeypatch.setattr(main_window_module.QDesktopServices, "openUrl", lambda url: False)
    assert not w.open_result(0)
    assert w.message.isVisible() and "Could not open" in w.message.text()
