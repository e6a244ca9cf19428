"""Fixtures of the GUI tests (plain helpers are in guihelpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from guihelpers import MODEL_TIMEOUT, PEOPLE
from helpers import copy_faces


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "facefinder.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, no_leftover_threads):
    """A shown main window whose model is loaded. Closing it must end every background thread
    and worker process."""
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.client.modelReady, timeout=MODEL_TIMEOUT):
        w.client.load()
    yield w
    if w.isVisible():
        w.close()
    assert w.client.finished


@pytest.fixture
def clipboard(qapp):
    """The application clipboard, emptied after the test: QMimeData left on it makes the
    interpreter crash at exit (PySide6 and Qt both delete it; exit status 139)."""
    board = QApplication.clipboard()
    yield board
    board.clear()


@pytest.fixture
def small_folder(tmp_path) -> Path:
    """Four people, up to three photos each (11 photos: Hopkins has two)."""
    folder = tmp_path / "photos"
    copy_faces(folder, PEOPLE, per_person=3)
    return folder
