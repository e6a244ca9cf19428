"""People window > "Write names to photos…": the question says how many photos get a sidecar,
the names are written on the view's worker (never the GUI thread), and asking again when
nothing changed writes nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from helpers import copy_faces
from facefinder.core import xmp, xmp_files
from facefinder.core.library import Library
from facefinder.core.scan import index_folder

TIMEOUT = 60_000


@pytest.fixture
def view(qtbot, tmp_path, engine, no_leftover_threads):
    from facefinder.gui.people_view import PeopleView

    copy_faces(tmp_path / "photos", ["al_gore", "bill_clinton"], per_person=3)
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, tmp_path / "photos"):
            pass
    v = PeopleView(str(tmp_path / "lib"))
    qtbot.addWidget(v)
    v.show()
    yield v
    v.shutdown()


def test_write_names_to_photos_asks_then_writes_sidecars(qtbot, view, monkeypatch):
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT):
        view.reload()
    biggest = view.people_model.groups[0]
    with qtbot.waitSignal(view.peopleLoaded, timeout=TIMEOUT):
        view.rename(biggest.id, "Someone Named")
    photos = sorted({t.path for t in view.group(biggest.id).faces})
    asked, told, threads = [], [], []
    from facefinder.core import face_names

    real = face_names.write_names
    monkeypatch.setattr(face_names, "write_names", lambda *a, **k: (
        threads.append(threading.current_thread()), real(*a, **k))[1])
    monkeypatch.setattr("facefinder.gui.people_view.QMessageBox.question",
                        lambda parent, title, text, *a: (asked.append(text), _yes())[1])
    monkeypatch.setattr("facefinder.gui.people_view.QMessageBox.information",
                        lambda parent, title, text, *a: told.append(text))
    assert view.write_button.isEnabled()
    with qtbot.waitSignal(view.namesWritten, timeout=TIMEOUT) as blocker:
        view.write_button.click()
    report = blocker.args[0]
    assert len(asked) == 1 and f"to {len(photos)} photos?" in asked[0], asked
    assert f"photo.jpg.xmp: {len(photos)} new, 0 updated" in asked[0]
    assert report.created == len(photos) and not report.skipped and not told
    assert threads and all(t is not threading.main_thread() for t in threads)
    for photo in photos:
        doc = xmp.parse(Path(xmp_files.sidecar_for_writing(photo)).read_bytes())
        assert [r.name for r in xmp.read_faces(doc).regions] == ["Someone Named"]
    assert "Names written to" in view.summary.text()
    # Nothing changed since: no question, a plain answer, nothing written.
    view.write_button.click()
    qtbot.waitUntil(lambda: len(told) == 1, timeout=TIMEOUT)
    assert "already has their names" in told[0] and len(asked) == 1


def _yes():
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Yes


def test_the_new_strings_are_in_japanese(qapp):
    from PySide6.QtCore import QCoreApplication, QLocale

    from facefinder.gui.resources import install_translator

    translator = install_translator(qapp, QLocale(QLocale.Language.Japanese,
                                                  QLocale.Country.Japan))
    try:
        assert QCoreApplication.translate("PeopleView", "Write names to photos…") == \
            "写真に名前を書き込む…"
        assert QCoreApplication.translate("PeopleView", "{n} photos left out:").format(n=2) == \
            "書き込まなかった写真 2 枚:"
    finally:
        qapp.removeTranslator(translator)
        if translator.qt is not None:
            qapp.removeTranslator(translator.qt)
