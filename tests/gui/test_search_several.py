"""One search with several faces of one person: several photos (File > Search with photos of one
person…) and a person's own faces (People: "Search with this person"). Real model, real photos."""

from __future__ import annotations

from pathlib import Path

from helpers import FACES, copy_faces
from guihelpers import JOB_TIMEOUT, index

PERSON = "elton_john"
OTHERS = ["madonna", "ben_affleck", "jerry_seinfeld"]


def _folder(tmp_path):
    folder = tmp_path / "photos"
    copy_faces(folder, [PERSON] + OTHERS, per_person=6)
    return folder


def test_several_photos_of_one_person_search_as_one(qtbot, window, tmp_path):
    index(qtbot, window, _folder(tmp_path))
    # Not in the library; one of them has no face the detector finds: it is passed over.
    queries = [str(p) for p in sorted((FACES / PERSON).iterdir())[10:13]]
    failed, done = [], []
    window.client.searchFailed.connect(lambda *a: failed.append(a))
    window.client.searchDone.connect(lambda *a: done.append(a))
    window.client.search_photos("default", queries, k=10)
    qtbot.waitUntil(lambda: bool(failed or done), timeout=JOB_TIMEOUT)
    assert not failed
    outcome = done[0][1]
    assert outcome.path in queries and outcome.boxes
    top = [h.face.path for h in outcome.hits[:6]]
    assert sum(PERSON in p for p in top) >= 5, top
    assert all(PERSON in h.face.path for h, v in zip(outcome.hits, _verdicts(outcome)) if v.same)


def _verdicts(outcome):
    return [outcome.judge.verdict(h.distance, min(h.face.box[2:])) for h in outcome.hits]


def test_file_menu_searches_with_photos_of_one_person(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    index(qtbot, window, _folder(tmp_path))
    queries = [str(p) for p in sorted((FACES / PERSON).iterdir())[12:15]]
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (queries, ""))
    assert window.several_action in window.menuBar().actions()[0].menu().actions()
    assert window.several_action.shortcut().toString() == "Ctrl+Shift+O"
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT):
        window.several_action.trigger()
    rows = [window.model.row(i) for i in range(window.model.rowCount())]
    assert sum(PERSON in r.path for r in rows[:6]) >= 5
    assert "3 photos of one person" in window.query_caption.text()
    assert not window.queue  # one search, not three queued ones


def test_search_with_this_person_from_people_shows_results_in_the_main_window(qtbot, window,
                                                                            tmp_path):
    index(qtbot, window, _folder(tmp_path))
    view = window.show_people()
    qtbot.waitUntil(lambda: view.people_model.rowCount() > 0, timeout=JOB_TIMEOUT)
    row = next(i for i, g in enumerate(view.people_model.groups)
               if sum(PERSON in t.path for t in g.faces) >= 3)
    group = view.people_model.groups[row]
    view.people_list.setCurrentIndex(view.people_model.index(row))
    view._people_menu(view.people_list.visualRect(view.people_model.index(row)).center())
    action = next(a for a in view._last_menu.actions() if a.text() == "Search with this person")
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT):
        action.trigger()
    view._last_menu.close()
    mine = {t.face_id for t in group.faces}
    shown = [window.model.row(i) for i in range(window.model.rowCount())]
    assert shown and not mine & {r.face_id for r in shown}  # the person's own faces left out
    assert f"{len(mine)} faces of one person" in window.query_caption.text()
    # Whatever else of that person the grouping missed comes first; strangers are not "same".
    same = [r for i, r in enumerate(shown) if window.model.verdict(i).same]
    assert all(PERSON in r.path for r in same)


def test_search_with_faces_passes_over_faces_gone_and_photos_moved(qtbot, window, tmp_path):
    """A person's first face deleted from the library, or its photo moved away since, does not
    stop "Search with this person": the next face still there, whose photo can be read, is the
    query shown, and the search uses the faces that are left."""
    import pytest

    from facefinder.gui.service import Libraries

    folder = _folder(tmp_path)
    index(qtbot, window, folder)
    libraries = Libraries()
    lib = libraries.get("default")
    ids, _ = lib.all_embeddings()
    rows = lib.face_rows([int(i) for i in ids])
    mine = [int(i) for i in ids if PERSON in rows[int(i)].path][:4]
    assert len(mine) == 4
    gone = int(max(ids)) + 1000  # no such face (deleted since the People window listed it)
    outcome = libraries.search_with_faces("default", [gone] + mine, k=10)
    assert outcome.path == rows[mine[0]].path and outcome.boxes == [tuple(rows[mine[0]].box)]
    assert outcome.hits and not set(mine) & {h.face.face_id for h in outcome.hits}
    # the first face's photo moved away: the second face's photo is shown
    moved = Path(rows[mine[0]].path)
    moved.rename(tmp_path / "moved.jpg")
    outcome = libraries.search_with_faces("default", mine, k=10)
    assert outcome.path == rows[mine[1]].path and outcome.hits
    with pytest.raises(LookupError):
        libraries.search_with_faces("default", [gone], k=10)
    lib.close()
