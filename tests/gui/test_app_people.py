"""The People window, person names on results, "People, not photos" and "Compare two photos"
from the main window, with the real model on real photos."""

from __future__ import annotations

import threading

from PySide6.QtCore import QMimeData, QSettings, Qt
from PySide6.QtWidgets import QApplication

from helpers import FACES, HOPKINS_1, HOPKINS_2, NONFACES, copy_faces
from guihelpers import PEOPLE, drop, file_mime, index
from facefinder.core.verify import DEFAULT_THRESHOLD
from facefinder.gui.results import GroupSizeRole, PersonRole

TIMEOUT = 60_000


def _search(qtbot, window, action):
    """Run ``action`` and wait for the answer the window shows (a search it started later, say
    after the result count changed, replaces an earlier one)."""
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT,
                          check_params_cb=lambda req, _o: req == window.search_id) as blocker:
        action()
    return blocker.args[1]


def test_people_window_groups_and_names_on_results(qtbot, window, small_folder, tmp_path,
                                                   monkeypatch):
    index(qtbot, window, small_folder)
    # Person lookups for the hits run in the model service's thread, with the search.
    import facefinder.core.people as people_mod

    threads = []
    real = people_mod.owners
    monkeypatch.setattr(people_mod, "owners", lambda *a, **k: (
        threads.append(threading.current_thread()), real(*a, **k))[1])
    outcome = _search(qtbot, window, lambda: window.search_files([str(HOPKINS_1)]))
    # Indexing grouped the new faces at once, but nobody is named yet: no person line.
    assert outcome.people and all(name is None for _, name, _ in outcome.people.values())
    assert not window.model.person_line

    # View ▸ People (Ctrl+Shift+P) opens the People window, which groups the faces.
    assert window.people_action.shortcut().toString() == "Ctrl+Shift+P"
    window.people_action.trigger()
    view = window.people_view
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT) as loaded:
        pass  # the answer comes through the GUI thread's event loop, so not before this
    assert view.isVisible() and view.isWindow() and view.windowTitle() == "People"
    assert loaded.args[0] == view.people_model.rowCount() >= len(PEOPLE) - 1
    top_face = window.model.row(0).face_id  # the query photo's own copy
    group = next(g for g in view.people_model.groups
                 if top_face in [t.face_id for t in g.faces])
    members = {t.face_id for t in group.faces}

    # Naming that person shows the name on the search results (searched again).
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT):
        view.rename(group.id, "Anthony")
    main = threading.main_thread()
    assert threads and all(t is not main for t in threads)
    model = window.model
    assert model.person_line
    names = [model.index(i).data(PersonRole) for i in range(model.rowCount())]
    assert names[0] == "Anthony"
    assert names == ["Anthony" if model.row(i).face_id in members else None
                     for i in range(model.rowCount())]
    assert "Anthony" in model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0).data(GroupSizeRole) is None  # sizes only for distinct people
    window.results.viewport().repaint()  # the delegate draws the name line

    # A finished indexing job reloads the People window; switching library shows its people.
    copy_faces(tmp_path / "more", ["condoleezza_rice"], per_person=2)
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT * 2) as loaded:
        index(qtbot, window, tmp_path / "more", library="second")
    assert view.group(group.id).name == "Anthony"
    assert window.library_box.findText("second") >= 0
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT) as loaded:
        window.library_box.setCurrentText("second")
    assert 1 <= loaded.args[0] <= 2 and all(
        "condoleezza_rice" in t.path for g in view.people_model.groups for t in g.faces)
    # Closing the main window shuts the People window's worker down: the window fixture
    # fails the test if a thread is left.


def test_people_not_photos_gives_each_person_once(qtbot, window, tmp_path, settings):
    folder = tmp_path / "photos"
    copy_faces(folder, ["al_gore", "bill_clinton", "condoleezza_rice", "angelina_jolie"],
               per_person=4)
    index(qtbot, window, folder)
    query = str(sorted((FACES / "al_gore").iterdir())[0])
    window.count_box.setValue(8)
    _search(qtbot, window, lambda: window.search_files([query]))
    model = window.model
    gore = [i for i in range(model.rowCount()) if "al_gore" in model.row(i).path]
    assert len(gore) >= 3  # photos: the same man fills the top of the grid

    assert window.distinct_action.isCheckable() and not window.distinct_action.isChecked()
    outcome = _search(qtbot, window, window.distinct_action.trigger)  # searches again
    assert outcome.distinct and window.distinct_action.isChecked()
    rows = [model.row(i) for i in range(model.rowCount())]
    assert 2 <= len(rows) <= 8
    people = [r.person_id for r in rows if r.person_id is not None]
    assert len(people) == len(set(people))  # at most one result per person
    assert "al_gore" in rows[0].path and rows[0].distance < DEFAULT_THRESHOLD
    sizes = [model.index(i).data(GroupSizeRole) for i in range(len(rows))]
    assert sizes[0] >= 2 and all(s >= 1 for s in sizes)
    assert [r.distance for r in rows] == sorted(r.distance for r in rows)
    assert "people" in window.results_header.text()
    window.results.viewport().repaint()  # the delegate draws "×n"

    # Remembered in the settings.
    window.close()
    assert QSettings(settings.fileName(), QSettings.Format.IniFormat).value(
        "search/distinct") in (True, "true")


def test_compare_two_photos_dialog(qtbot, window, tmp_path, monkeypatch, clipboard):
    assert window.compare_action.shortcut().toString() == "Ctrl+Shift+C"
    window.compare_action.trigger()
    dialog = window.compare_dialog
    assert dialog.isVisible()
    # Two photos of one person: the distance is under the threshold, "same person".
    with qtbot.waitSignal(window.client.compareDone, timeout=TIMEOUT) as blocker:
        dialog.compare_files(str(HOPKINS_1), str(HOPKINS_2))
    distance = blocker.args[1]
    assert distance < DEFAULT_THRESHOLD
    assert dialog.verdict.text() == "Same person"
    assert f"{distance:.3f}" in dialog.distance.text()
    # what the number is: how often strangers are this close, never "% sure"
    assert "pairs of photos of different people are this close" in dialog.detail.text()
    assert "% sure" not in dialog.detail.text() + dialog.verdict.text()
    assert "calibration" in dialog.detail.text() and dialog.error.isHidden()
    for slot in (dialog.first, dialog.second):
        assert slot.image.pixmap() is not None and not slot.image.pixmap().isNull()
    # The main window's threshold applies to the shown distance too.
    window.threshold_box.setValue(round(distance - 0.05, 2))
    assert "Different people" in dialog.verdict.text()
    window.threshold_box.setValue(0)  # auto: the calibrated threshold again
    assert dialog.verdict.text() == "Same person"

    # A photo without a face, dropped on the second side: said in plain words.
    nonface = sorted(NONFACES.iterdir())[0]
    with qtbot.waitSignal(window.client.compareFailed, timeout=TIMEOUT) as blocker:
        drop(dialog.second, file_mime(nonface))
    assert blocker.args[1:3] == [1, "noface"]
    assert dialog.error.isVisible() and "No face was found in the second photo" in \
        dialog.error.text()
    assert dialog.verdict.text() == ""

    # Not an image, pasted into the first side (it has focus).
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    clipboard.setMimeData(file_mime(text))
    dialog.first.setFocus()
    monkeypatch.setattr(dialog.first, "hasFocus", lambda: True)
    with qtbot.waitSignal(window.client.compareFailed, timeout=TIMEOUT) as blocker:
        dialog.paste()
    assert blocker.args[1:3] == [0, "image"]
    assert "first file is not a photo" in dialog.error.text()

    # A web link dropped: refused in plain words, the side keeps its photo.
    mime = QMimeData()
    mime.setText("https://example.com/face.jpg")
    drop(dialog.second, mime)
    assert "web link" in dialog.error.text() and dialog.second.path == str(nonface)

    # Click to choose: two different people this time.
    chosen = [str(sorted((FACES / "al_gore").iterdir())[0]), str(HOPKINS_1)]
    monkeypatch.setattr("facefinder.gui.dialogs.QFileDialog.getOpenFileName",
                        lambda *a, **k: (chosen.pop(0), ""))
    with qtbot.waitSignal(window.client.compareFailed, timeout=TIMEOUT):
        qtbot.mouseClick(dialog.first, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.client.compareDone, timeout=TIMEOUT) as blocker:
        qtbot.mouseClick(dialog.second, Qt.MouseButton.LeftButton)
    assert blocker.args[1] > DEFAULT_THRESHOLD
    assert "Different people" in dialog.verdict.text() and dialog.error.isHidden()

