"""The wizard's and Refresh's smaller points of issue 13: no Back on the summary, counts that
add up, "Copy list" says it copied, a cancelled summary says how to finish, the last folder is
remembered, and Esc on Refresh asks before stopping and then shows the summary."""

from __future__ import annotations

import re
import shutil

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard

from helpers import NONFACES
from guihelpers import JOB_TIMEOUT, index


def test_the_summary_adds_up_has_no_back_and_copy_list_says_so(qtbot, window, small_folder,
                                                               clipboard):
    bad = sorted(NONFACES.iterdir())[:2]
    for p in bad:
        shutil.copyfile(p, small_folder / p.name)
    (small_folder / "broken.jpg").write_bytes(b"not a photo")
    wizard = window.show_wizard(str(small_folder))
    wizard.next()
    qtbot.waitUntil(lambda: wizard.options_page.count > 0, timeout=30_000)
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    summary = blocker.args[1]
    text = wizard.summary_page.text.text()
    numbers = {k: int(v) for v, k in [
        (re.search(pattern + r": (\d+)", text).group(1), key) for key, pattern in [
            ("found", "Files found"), ("with", "with faces"), ("without", "without faces"),
            ("unchanged", "unchanged"), ("skipped", r"skipped \(listed below\)")]]}
    assert numbers["found"] == summary.photos_found >= 14
    assert numbers["with"] + numbers["without"] + numbers["unchanged"] + numbers["skipped"] \
        == numbers["found"], text
    assert numbers["skipped"] >= 1
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    qtbot.mouseClick(wizard.summary_page.copy, Qt.MouseButton.LeftButton)
    assert "Copied" in wizard.summary_page.copied.text()
    assert "broken.jpg" in clipboard.text()
    wizard.accept()
    # The folder is remembered for the next time.
    window.wizard = None
    again = window.show_wizard()
    assert again.folder_page.folder.text() == str(small_folder)
    again.reject()


def test_a_cancelled_summary_says_how_to_finish(qtbot, window):
    from facefinder.gui.wizard import SummaryPage
    from facefinder.core.scan import IndexSummary

    page = SummaryPage()
    page.show_summary(IndexSummary(folder="/x", photos_found=10, photos_with_faces=3,
                                   cancelled=True))
    assert "index the same folder" in page.text.text()
    assert "not done yet: 7" in page.text.text()


def test_esc_on_refresh_asks_then_stops_and_shows_the_summary(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    for p in sorted(NONFACES.iterdir())[:6]:  # something new to refresh
        shutil.copyfile(p, small_folder / ("new-" + p.name))
    dialog = window.refresh_library()
    dialog.activateWindow()  # in front, as the window manager puts a new dialog
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    asked = []
    dialog.confirm_stop = lambda: asked.append(True) or False  # "No": keep going
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked and dialog.isVisible() and dialog.job is not None
    dialog.confirm_stop = lambda: asked.append(True) or True  # "Yes"
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT):
        QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert len(asked) == 2
    assert dialog.isVisible() and dialog.result.text()  # the summary, not a closed dialog
    dialog.reject()
    assert not dialog.isVisible()


def test_an_existing_library_shows_its_counts_in_the_wizard(qtbot, window, small_folder):
    summary = index(qtbot, window, small_folder)
    wizard = window.show_wizard()
    qtbot.waitUntil(lambda: "This library has" in wizard.folder_page.new_hint.text(),
                    timeout=30_000)
    assert f"{summary.faces_added} faces" in wizard.folder_page.new_hint.text()
    wizard.reject()


def test_esc_in_the_main_window_asks_before_stopping_indexing(qtbot, window, small_folder):
    for p in sorted(NONFACES.iterdir())[:6]:
        shutil.copyfile(p, small_folder / ("more-" + p.name))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    asked = []
    window.confirm_stop = lambda: asked.append(True) or False  # "No"
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        window.client.index("default", str(small_folder))
        QTest.keyClick(window, Qt.Key.Key_Escape)
        assert asked
    assert not blocker.args[1].cancelled  # "No" kept it going
