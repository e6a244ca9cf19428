"""Fixtures and helpers shared by the GUI tests (imported by the test modules).

Kept out of a ``conftest.py`` on purpose: the top-level ``tests/conftest.py`` is imported as
``conftest`` by other test modules, and a second ``conftest`` module would shadow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import copy_faces
from facefinder.gui.heartbeat import Heartbeat  # noqa: F401  (the tests import it from here)

PEOPLE = ["anthony_hopkins", "al_gore", "bill_clinton", "angelina_jolie"]
MODEL_TIMEOUT = 180_000  # ms: the first load on a busy 2-core machine can be slow
JOB_TIMEOUT = 240_000


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


def index(qtbot, window, folder: Path, library: str = "default"):
    """Index ``folder`` through the model service and return the summary."""
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        window.client.index(library, str(folder))
    return blocker.args[1]


def drop(window, mime: QMimeData) -> None:
    """Drag ``mime`` onto the middle of a widget (the window, a drop zone) and drop it."""
    pos = QPoint(window.width() // 2, window.height() // 2)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def file_mime(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime
