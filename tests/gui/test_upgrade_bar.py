"""The app's offer to upgrade an older library (real model, real photos), and the small-face
mark in the People window."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

from helpers import FACES, copy_faces
from guihelpers import JOB_TIMEOUT

TIMEOUT = 60_000


@pytest.fixture
def old_default_library(tmp_path):
    """The default library as an earlier facefinder left it: the article's crop, no record."""
    from facefinder.core.library import Library
    from facefinder.core.pipeline import Engine
    from facefinder.core.scan import index_folder

    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio"], 3)
    engine = Engine(pipeline="article")
    with Library.open(None, engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, photos):
            pass
        with lib.transaction() as cur:
            cur.execute("DELETE FROM meta WHERE key='pipeline'")
        faces = lib.face_count()
    return photos, faces


def test_an_old_library_is_offered_a_one_click_upgrade(qtbot, old_default_library, window):
    from facefinder.core.library import Library
    from facefinder.core.upgrade import library_pipeline

    photos, faces = old_default_library
    bar = window.upgrade_bar
    qtbot.waitUntil(bar.isVisible, timeout=TIMEOUT)
    assert f"{faces} faces" in bar.text.text() and "min" in bar.text.text()
    query = str(sorted((photos / "al_gore").iterdir())[0])
    # Meanwhile searching works, with the library's own (article) crop.
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT) as found:
        window.search_files([query])
    assert found.args[1].pipeline == "article" and found.args[1].hits[0].distance < 1e-3

    with qtbot.waitSignal(window.client.upgradeDone, timeout=JOB_TIMEOUT) as done:
        qtbot.mouseClick(bar.button, Qt.MouseButton.LeftButton)
    summary = done.args[1]
    assert summary.switched and summary.reembedded == faces
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=TIMEOUT)
    # The window searched again, now with the current crop.
    qtbot.waitUntil(lambda: window.outcome is not None and window.outcome.pipeline == "rel25",
                    timeout=TIMEOUT)
    assert window.outcome.hits[0].distance < 1e-3
    window.close()
    with Library.open(None, None, create=False) as lib:
        assert library_pipeline(lib) == "rel25" and lib.face_count() == faces


def test_a_killed_upgrade_is_explained_and_upgrading_again_finishes_it(qtbot, tmp_path, engine,
                                                                       window):
    """The upgrade runs in a worker process like indexing: killed mid-job, the bar says so in
    plain words and offers the button again, which continues; nothing is lost."""
    from facefinder.core.library import Library
    from facefinder.core.pipeline import Engine
    from facefinder.core.scan import index_folder
    from facefinder.core.upgrade import library_pipeline

    photos = tmp_path / "photos"
    copy_faces(photos, ["abdullah_gul", "adrien_brody", "al_gore", "ali_naimi", "ana_palacio"],
               5)
    with Library.open("old", engine.fingerprint) as lib:
        for _ in index_folder(lib, Engine(pipeline="article"), photos):
            pass
        with lib.transaction() as cur:
            cur.execute("DELETE FROM meta WHERE key='pipeline'")
        faces = lib.face_count()
    window._refresh_libraries(select="old")
    bar = window.upgrade_bar
    qtbot.waitUntil(bar.isVisible, timeout=TIMEOUT)
    killed = []

    def on_progress(req, progress) -> None:
        if not killed and window.client.worker is not None:
            killed.append(window.client.worker.pid)
            window.client.worker.kill()

    window.client.upgradeProgress.connect(on_progress)
    with qtbot.waitSignal(window.client.upgradeFailed, timeout=JOB_TIMEOUT) as failed:
        qtbot.mouseClick(bar.button, Qt.MouseButton.LeftButton)
    window.client.upgradeProgress.disconnect(on_progress)
    assert killed and killed[0] != os.getpid() and window.isVisible()
    assert "stopped unexpectedly" in failed.args[1] and "signal 9" in failed.args[1]
    assert "stopped unexpectedly" in bar.text.text() and bar.button.isVisible()
    assert not window.client.indexing
    with Library.open("old", None, create=False) as lib:  # still whole, on its old crop
        assert library_pipeline(lib) == "article" and lib.face_count() == faces
    with qtbot.waitSignal(window.client.upgradeDone, timeout=JOB_TIMEOUT) as done:
        qtbot.mouseClick(bar.button, Qt.MouseButton.LeftButton)
    summary = done.args[1]
    assert summary.switched and summary.reembedded + summary.resumed == faces
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=TIMEOUT)
    with Library.open("old", None, create=False) as lib:
        assert library_pipeline(lib) == "rel25" and lib.face_count() == faces


def test_people_window_marks_faces_too_small_to_judge(qtbot, tmp_path):
    """Plumbing with made-up vectors: a named person holding a face under the small-face size
    shows the mark; the summary counts the small faces that are not grouped."""
    from facefinder.core import people
    from facefinder.core.library import Library
    from facefinder.core.pipeline import Face, PhotoResult
    from facefinder.core.verify import calibration
    from facefinder.gui.people_view import PeopleView, SmallRole

    small = calibration().small_face - 8
    rng = np.random.default_rng(0)
    centre = rng.normal(size=128)
    lib = Library.open(tmp_path / "lib", "test")
    items = []
    for i in range(4):
        v = centre + rng.normal(0, 0.05, 128)
        side = small if i == 3 else 120
        items.append((PhotoResult(str(FACES / f"p{i}.jpg"), [Face(
            (10, 10, side, side), 0.99, np.zeros((5, 2), np.float32),
            (v / np.linalg.norm(v)).astype(np.float32))], None, 400, 400), 1, 1))
    lib.store_results(items)
    people.cluster(lib)
    pid = people.people(lib)[0].id
    people.rename(lib, pid, "Ann")
    small_id = lib.all_embeddings()[0][3]
    with lib.transaction() as cur:  # a small face the user put in a named person
        cur.execute("INSERT OR REPLACE INTO face_person(face_id, person_id) VALUES (?, ?)",
                    (int(small_id), pid))
    lib.close()
    view = PeopleView(str(tmp_path / "lib"))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT):
        view.reload(group=False)
    assert "1 faces are too small to judge" in view.summary.text()
    view.open_person(pid)
    marks = [view.faces_model.index(i).data(SmallRole)
             for i in range(view.faces_model.rowCount())]
    assert sorted(marks) == [False, False, False, True]
    row = marks.index(True)
    assert "too small" in view.faces_model.index(row).data(Qt.ItemDataRole.ToolTipRole)
    view.show()
    view.faces_list.viewport().repaint()  # the delegate draws the mark
    view.shutdown()
