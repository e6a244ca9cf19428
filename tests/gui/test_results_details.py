"""The main window's smaller points of issue 13: the query photo labelled "this photo" in its
results, "Search with this face" from a result's menu, a highlight while dragging, the query
photo never upscaled, a photo without faces kept on screen with its message said once, "People,
not photos" as a check box, and indexing progress in the main window."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent
from PySide6.QtWidgets import QApplication

from helpers import GROUPS, HOPKINS_1, NONFACES
from guihelpers import JOB_TIMEOUT, drop, file_mime, index
from facefinder.gui.results import QueryPhotoRole

GROUP = GROUPS / "dlib_2008_001322.jpg"


@pytest.fixture
def library(qtbot, window, small_folder):
    for p in GROUPS.iterdir():
        shutil.copyfile(p, small_folder / p.name)
    index(qtbot, window, small_folder)
    return small_folder


def _search(qtbot, w, path, face=-1):
    with qtbot.waitSignal(w.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        w.search_file(str(path), face)
    return blocker.args[1]


def test_the_query_photo_in_its_own_results_is_labelled_this_photo(qtbot, window, library):
    query = library / GROUP.name  # the indexed copy: result #1 is the query face itself
    _search(qtbot, window, query)
    m = window.model
    assert m.row(0).distance < 1e-3
    assert m.index(0).data(QueryPhotoRole) is True
    assert "the photo you searched with" in m.index(0).data(Qt.ItemDataRole.ToolTipRole)
    others = [i for i in range(m.rowCount()) if m.row(i).path != str(query)]
    assert others and not any(m.index(i).data(QueryPhotoRole) for i in others)


def test_search_with_this_face_searches_with_the_results_face(qtbot, window, library):
    _search(qtbot, window, HOPKINS_1)
    m = window.model
    row = next(i for i in range(m.rowCount()) if m.row(i).path.endswith(GROUP.name))
    box = m.row(row).box
    window.results.setCurrentIndex(m.index(row))
    window.results._menu_at_current()
    action = next(a for a in window.last_menu.actions() if a.text() == "Search with this face")
    window.last_menu.close()
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT):
        action.trigger()
    qtbot.waitUntil(lambda: window.outcome.path.endswith(GROUP.name)
                    and tuple(window.outcome.boxes[window.outcome.chosen]) == tuple(box),
                    timeout=JOB_TIMEOUT)


def test_dragging_over_the_window_highlights_the_drop_zone(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(HOPKINS_1))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert window.query_view.drag_over
    QApplication.sendEvent(window, QDragLeaveEvent())
    assert not window.query_view.drag_over


def test_the_query_photo_is_not_upscaled_in_a_large_window(qtbot, window, library):
    _search(qtbot, window, HOPKINS_1)  # 250 x 250 pixels
    window.resize(1600, 1200)
    qtbot.waitUntil(lambda: window.query_view.height() > 400, timeout=5000)
    target = window.query_view._target()
    assert target.width() <= 250 + 0.5 and target.height() <= 250 + 0.5


def test_a_photo_without_a_face_stays_on_screen_and_is_explained_once(qtbot, window, library):
    photo = sorted(NONFACES.iterdir())[0]
    with qtbot.waitSignal(window.client.searchFailed, timeout=JOB_TIMEOUT):
        window.search_file(str(photo))
    assert window.message.isVisible() and "No face" in window.message.text()
    assert "No face" not in window.statusBar().currentMessage()
    assert window.query_view._pixmap is not None  # the photo is still shown
    assert window.query_view.boxes == []
    assert window.model.rowCount() == 0


def test_people_not_photos_is_a_check_box(qtbot, window, library):
    _search(qtbot, window, HOPKINS_1)
    box = window.distinct_box
    assert box.isCheckable() and not box.isChecked()
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT) as blocker:
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert window.distinct_action.isChecked() and blocker.args[1].distinct


def test_the_main_window_shows_indexing_progress(qtbot, window, small_folder):
    seen = []
    window.client.indexProgress.connect(
        lambda *_: seen.append(window.index_bar.isVisible()))
    index(qtbot, window, small_folder)
    assert any(seen)
    assert not window.index_bar.isVisible()
