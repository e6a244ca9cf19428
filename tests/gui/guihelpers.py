"""Plain helpers shared by the GUI tests (imported by name; the fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication


PEOPLE = ["anthony_hopkins", "al_gore", "bill_clinton", "angelina_jolie"]
MODEL_TIMEOUT = 180_000  # ms: the first load on a busy 2-core machine can be slow
JOB_TIMEOUT = 240_000


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


def wait_people(qtbot, view, action, timeout: int = 60_000) -> int:
    """Do ``action()`` and wait for the People view's ``peopleLoaded``; returns its count."""
    with qtbot.waitSignal(view.peopleLoaded, timeout=timeout) as blocker:
        action()
    return blocker.args[0]


def select_rows(listview, rows) -> None:
    """Select exactly ``rows`` of a list view (as Ctrl+clicks would)."""
    from PySide6.QtCore import QItemSelectionModel

    sel = listview.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(listview.model().index(r), QItemSelectionModel.SelectionFlag.Select)
