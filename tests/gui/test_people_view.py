"""The People view on a small real library: tiles largest first, a group's faces, naming,
merging, moving a face out; work off the GUI thread; no thread left behind."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from helpers import copy_faces
from guihelpers import select_rows, wait_people
from facefinder.core.library import Library
from facefinder.core.scan import index_folder

TIMEOUT = 60_000
PEOPLE = ["al_gore", "bill_clinton", "condoleezza_rice"]


@pytest.fixture
def library_path(tmp_path, engine):
    copy_faces(tmp_path / "photos", PEOPLE, per_person=4)
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, tmp_path / "photos"):
            pass
    return tmp_path / "lib"


@pytest.fixture
def view(qtbot, library_path, no_leftover_threads):
    from facefinder.gui.people_view import PeopleView

    from PySide6.QtCore import QSettings

    v = PeopleView(str(library_path), settings=QSettings(str(library_path.parent / "s.ini"),
                                                         QSettings.Format.IniFormat))
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.show()
    yield v
    v.shutdown()


def test_groups_names_merges_and_corrections(qtbot, view, monkeypatch):
    gui = threading.current_thread()
    seen = []
    import facefinder.core.people as people_mod

    real = people_mod.cluster
    monkeypatch.setattr(people_mod, "cluster",
                        lambda *a, **k: (seen.append(threading.current_thread()), real(*a, **k))[1])
    count = wait_people(qtbot, view, view.reload)
    assert seen and all(t is not gui for t in seen)  # grouping ran off the GUI thread
    model = view.people_model
    assert count == model.rowCount() >= len(PEOPLE)
    sizes = [g.size for g in model.groups]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] >= 4
    # Tiles get their face crop (off the GUI thread, via the thumbnail loader).
    qtbot.waitUntil(lambda: model.data(model.index(0), 1) is not None, timeout=TIMEOUT)
    assert "(" in model.data(model.index(0))

    # Name the biggest group through the button (the dialog answered by the test).
    select_rows(view.people_list, [0])
    assert view.name_button.isEnabled() and not view.merge_button.isEnabled()
    monkeypatch.setattr("facefinder.gui.dialogs.ask_name", lambda *a, **k: ("Al", True))
    first = model.groups[0].id
    wait_people(qtbot, view, view.name_button.click)
    assert view.group(first).name == "Al" and model.data(model.index(0)).startswith("Al (")

    # Merge the two biggest groups: the bigger keeps its id and name.
    select_rows(view.people_list, [0, 1])
    assert view.merge_button.isEnabled()
    second = model.groups[1]
    total = model.groups[0].size + second.size
    wait_people(qtbot, view, view.merge_button.click)
    assert view.group(second.id) is None
    merged = view.group(first)
    assert merged.size == total and merged.name == "Al"

    # Open it and move a face out: it leaves the group and never comes back on regrouping.
    view.open_person(first)
    assert view.stack.currentIndex() == 1 and view.faces_model.rowCount() == total
    select_rows(view.faces_list, [total - 1])
    wrong = view.selected_faces()[0]
    assert view.move_out_button.isEnabled()
    wait_people(qtbot, view, view.move_out_button.click)
    assert view.faces_model.rowCount() == total - 1
    assert wrong not in [t.face_id for t in view.faces_model.faces]
    monkeypatch.setattr("facefinder.gui.people_view.QMessageBox.question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)  # "Group again?"
    wait_people(qtbot, view, view.regroup_button.click)
    assert wrong not in [t.face_id for t in view.group(first).faces]
    assert view.group(first).name == "Al"
    view.show_people()
    assert view.stack.currentIndex() == 0


def test_errors_are_reported_not_raised(qtbot, tmp_path, no_leftover_threads):
    from facefinder.gui.people_view import PeopleView

    v = PeopleView(str(tmp_path / "nowhere"))
    qtbot.addWidget(v)
    with qtbot.waitSignal(v.failed, timeout=TIMEOUT) as blocker:
        v.reload()
    assert "No library" in blocker.args[0]
    assert not v.busy
    v.shutdown()


def test_switching_library(qtbot, view, library_path, tmp_path):
    assert wait_people(qtbot, view, view.reload) >= len(PEOPLE)
    view.switch(str(tmp_path / "nowhere"))
    with qtbot.waitSignal(view.failed, timeout=TIMEOUT):
        view.reload()
    assert wait_people(qtbot, view, lambda: view.set_library(str(library_path))) >= len(PEOPLE)
