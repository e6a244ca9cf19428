"""The indexing wizard's first step takes a dropped folder anywhere on it, turns drops on the
Folder field into local paths (never ``file:///``), and says why Next is not available
(issue 13, major 4)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard

from guihelpers import drop, file_mime


@pytest.fixture
def wizard(qtbot, settings):
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)  # the first step needs no model
    qtbot.addWidget(w)
    w.show()
    wiz = w.show_wizard()
    qtbot.waitExposed(wiz)
    yield wiz
    wiz.reject()
    w.close()


def _next(wiz) -> bool:
    return wiz.button(QWizard.WizardButton.NextButton).isEnabled()


def test_a_folder_dropped_on_the_page_or_its_header_is_taken(wizard, small_folder):
    page = wizard.folder_page
    assert not _next(wizard)
    assert "Choose a folder" in page.why.text()
    drop(wizard, file_mime(small_folder))  # on the wizard's header / margins
    assert page.folder.text() == str(small_folder)
    assert _next(wizard) and page.why.text() == ""
    page.folder.clear()
    drop(page, file_mime(small_folder))  # on the page itself
    assert page.folder.text() == str(small_folder)
    assert _next(wizard)


def test_a_drop_on_the_folder_field_is_a_local_path(wizard, small_folder):
    page = wizard.folder_page
    drop(page.folder, file_mime(small_folder))
    assert page.folder.text() == str(small_folder)
    assert not page.folder.text().startswith("file:")
    assert _next(wizard)
    photo = next(small_folder.rglob("*.jpg"))  # a photo: its folder is meant
    drop(page.folder, file_mime(photo))
    assert page.folder.text() == str(photo.parent)
    mime = QMimeData()
    mime.setText(small_folder.as_uri())  # a URL dropped or pasted as text
    drop(page.folder, mime)
    assert page.folder.text() == str(small_folder)


def test_next_says_why_it_is_not_available(qtbot, wizard, tmp_path):
    page = wizard.folder_page
    page.folder.setFocus()
    QTest.keyClicks(page.folder, str(tmp_path / "no such folder"))
    assert not _next(wizard)
    assert "There is no folder" in page.why.text()
    page.folder.clear()
    QTest.keyClicks(page.folder, (tmp_path).as_uri())  # typed as a URL: fine too
    assert _next(wizard)
    QTest.keyClick(page.folder, Qt.Key.Key_Tab)  # leaving the field shows the path
    assert page.folder.text() == str(tmp_path)
    page.library.setCurrentText(".hidden")
    assert not _next(wizard) and "library name" in page.why.text()
