"""The keyboard-only walkthrough of the README ("Using the app from the keyboard"): index a
folder, search with a photo, switch faces, open a result and name a person, with keys only.
Every key goes to the widget that has the focus, as a keyboard's would (issue 13)."""

from __future__ import annotations

import shutil

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWizard

from helpers import GROUPS
from guihelpers import JOB_TIMEOUT
from facefinder.gui import main_window as main_window_module

GROUP = GROUPS / "dlib_2008_001322.jpg"
NO = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def press(key, mods=NO) -> None:
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, key, mods)


def type_text(text: str) -> None:
    QTest.keyClicks(QApplication.focusWidget(), text)


def front(qtbot, w) -> None:
    """The window manager brings a new window to the front (offscreen: we do)."""
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)


def in_modal(fn) -> None:
    """Run ``fn(dialog)`` once a modal dialog is open (it blocks the key press that opened
    it) and has given a widget its keyboard focus (its window is activated after it shows:
    on a busy machine a few event-loop turns later)."""
    tries = [0]

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        tries[0] += 1
        if dialog is None or (dialog.focusWidget() is None and tries[0] < 200):
            QTimer.singleShot(50, attempt)
            return
        try:
            fn(dialog)
        finally:
            if dialog.isVisible():  # never leave a test blocked in a dialog
                dialog.reject()

    QTimer.singleShot(50, attempt)


def tab_until(qtbot, widget, limit: int = 30) -> None:
    for _ in range(limit):
        if widget.hasFocus():
            return
        press(Qt.Key.Key_Tab)
    assert widget.hasFocus(), f"Tab never reached {widget}; focus: {QApplication.focusWidget()}"


def test_index_search_switch_face_open_and_name_with_the_keyboard_only(
        qtbot, window, small_folder, monkeypatch):
    w = window
    for p in GROUPS.iterdir():
        shutil.copyfile(p, small_folder / p.name)
    front(qtbot, w)

    # 1. Index a folder: Ctrl+I, type the folder, Enter (Next), Enter (Index), Enter (Finish).
    press(Qt.Key.Key_I, CTRL)
    wizard = w.wizard
    front(qtbot, wizard)
    assert wizard.folder_page.folder.hasFocus()
    type_text(str(small_folder))
    press(Qt.Key.Key_Return)
    assert wizard.currentPage() is wizard.options_page
    qtbot.waitUntil(lambda: wizard.options_page.count > 0, timeout=30_000)
    with qtbot.waitSignal(w.client.indexDone, timeout=JOB_TIMEOUT):
        press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    assert wizard.button(QWizard.WizardButton.FinishButton).isVisible()
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5000)

    # 2. Search: Ctrl+O, type the photo's path in the file dialog, Enter.
    front(qtbot, w)

    def choose_photo(dialog) -> None:
        edit = dialog.focusWidget()
        assert isinstance(edit, QLineEdit), edit
        QTest.keyClicks(edit, str(GROUP))
        QTest.keyClick(edit, Qt.Key.Key_Return)

    in_modal(choose_photo)
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT):
        press(Qt.Key.Key_O, CTRL)
    assert w.query_path == str(GROUP) and len(w.query_view.boxes) > 1
    front(qtbot, w)  # the dialog closed: the window manager gives the window back the focus

    # 3. Switch faces: Tab to the photo, then the arrow keys.
    tab_until(qtbot, w.query_view)
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        press(Qt.Key.Key_Right)
    assert blocker.args[1].chosen == 1

    # 4. Open a result: Tab to the results, Enter.
    opened = []
    monkeypatch.setattr(main_window_module.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    press(Qt.Key.Key_Tab)
    assert w.results.hasFocus()
    press(Qt.Key.Key_Return)
    assert opened == [w.model.row(0).path]

    # 5. Name a person: Ctrl+Shift+P, pick the first person, Tab to Name…, Space, type, Enter.
    press(Qt.Key.Key_P, CTRL | Qt.KeyboardModifier.ShiftModifier)
    people = w.people_view
    front(qtbot, people)
    qtbot.waitUntil(lambda: people.people_model.rowCount() > 0 and not people.busy,
                    timeout=JOB_TIMEOUT)
    tab_until(qtbot, people.people_list)
    press(Qt.Key.Key_Home)
    press(Qt.Key.Key_Space)  # select the current person
    person = people.selected_people()
    assert len(person) == 1
    tab_until(qtbot, people.name_button)

    def name_it(dialog) -> None:
        edit = dialog.focusWidget()  # the dialog's field, where its keys go
        assert isinstance(edit, QLineEdit), edit
        QTest.keyClicks(edit, "Keyboard Person")
        QTest.keyClick(edit, Qt.Key.Key_Return)

    in_modal(name_it)
    press(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: (people.group(person[0]) is not None and
                             people.group(person[0]).name == "Keyboard Person"),
                    timeout=JOB_TIMEOUT)
