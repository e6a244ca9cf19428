"""Indexing from the GUI: the wizard, cancelling, refreshing, searching meanwhile, a GUI thread
that never blocks, and closing the window mid-job."""

from __future__ import annotations

import shutil

import hnswlib
import numpy as np
from PySide6.QtWidgets import QWizard

from conftest import FACES, HOPKINS_1, copy_faces
from guihelpers import JOB_TIMEOUT, Heartbeat, index, settings, small_folder, window  # noqa: F401
from facefinder.core.library import Library, resolve_library_path

BIG = ["abdullah_gul", "adrien_brody", "al_gore", "alejandro_toledo", "ali_naimi",
       "alvaro_uribe", "amelie_mauresmo", "ana_palacio", "andre_agassi", "andy_roddick"]


def big_folder(tmp_path, per_person: int = 5):
    folder = tmp_path / "big"
    copy_faces(folder, BIG, per_person=per_person)
    return folder


def _wizard_to_progress(qtbot, window, folder, library="default"):
    wizard = window.show_wizard(str(folder))
    wizard.folder_page.library.setCurrentText(library)
    assert wizard.folder_page.isComplete()
    wizard.next()
    assert wizard.currentPage() is wizard.options_page
    qtbot.waitUntil(lambda: wizard.options_page.count > 0, timeout=30_000)
    return wizard


def test_wizard_indexes_a_folder_without_blocking_the_gui(qtbot, window, small_folder):
    n = len(list(small_folder.rglob("*.jpg")))
    wizard = _wizard_to_progress(qtbot, window, small_folder)
    assert f"{n} photos" in wizard.options_page.found.text()
    assert not (resolve_library_path("default") / "catalog.sqlite").exists()  # nothing yet
    beat = Heartbeat()
    beat.start()
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        wizard.next()  # the commit page's "Index" button
    beat.stop()
    summary = blocker.args[1]
    assert beat.ticks > 5
    assert beat.worst < 0.100, f"the GUI thread stalled for {beat.worst * 1000:.0f} ms"
    assert summary.processed == n and summary.faces_added >= 12
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=5_000)
    assert "Faces found: %d" % summary.faces_added in wizard.summary_page.text.text()
    assert wizard.progress_page.panel.strip_count > 0
    assert wizard.progress_page.panel.bar.value() == n
    qtbot.waitUntil(lambda: f"{n} photos" in window.library_stats.text(), timeout=10_000)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert not wizard.isVisible()


def test_wizard_cancel_midway_keeps_what_was_done(qtbot, window, tmp_path):
    folder = big_folder(tmp_path)
    wizard = _wizard_to_progress(qtbot, window, folder, library="people")
    seen = []

    def on_progress(req, progress, crops):
        seen.append(progress.done)
        if progress.done >= 2 and wizard.progress_page.cancel.isEnabled():
            wizard.progress_page.cancel.click()

    window.client.indexProgress.connect(on_progress)
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        wizard.next()
    summary = blocker.args[1]
    assert summary.cancelled and 2 <= summary.processed < 50
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=5_000)
    assert "cancelled" in wizard.summary_page.text.text()
    lib = Library.open("people")
    assert lib.stats()["photos"] == summary.processed
    lib.close()
    window.client.indexProgress.disconnect(on_progress)


def test_closing_the_wizard_asks_before_stopping(qtbot, window, tmp_path):
    folder = big_folder(tmp_path, per_person=3)
    wizard = _wizard_to_progress(qtbot, window, folder)
    answers = []
    wizard.confirm_stop = lambda: answers.append(1) or len(answers) > 1  # no, then yes
    with qtbot.waitSignal(window.client.indexProgress, timeout=JOB_TIMEOUT):
        wizard.next()
    wizard.reject()
    assert wizard.isVisible() and wizard.running and not window.client.cancel_event.is_set()
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        wizard.reject()
        assert not wizard.isVisible()
    assert len(answers) == 2
    assert blocker.args[1].processed <= 30


def test_search_during_indexing_is_answered_between_photos(qtbot, window, small_folder,
                                                            tmp_path):
    index(qtbot, window, small_folder)
    folder = big_folder(tmp_path, per_person=6)
    order = []
    window.client.searchDone.connect(lambda *a: order.append("search"))
    window.client.indexDone.connect(lambda *a: order.append("indexed"))
    with qtbot.waitSignal(window.client.indexProgress, timeout=JOB_TIMEOUT,
                          check_params_cb=lambda req, p, crops: p.done >= 1):
        window.client.index("default", str(folder))
    with qtbot.waitSignal(window.client.searchDone, timeout=JOB_TIMEOUT):
        window.search_files([str(HOPKINS_1)])
    assert window.client.indexing, "the search waited for the whole job"
    qtbot.waitUntil(lambda: "indexed" in order, timeout=JOB_TIMEOUT)
    assert order == ["search", "indexed"]
    assert "hopkins" in window.model.row(0).path.lower()


def test_refresh_indexes_only_what_changed(qtbot, window, small_folder):
    n = len(list(small_folder.rglob("*.jpg")))
    index(qtbot, window, small_folder)
    extra = small_folder / "new"
    extra.mkdir()
    for f in sorted((FACES / "bill_clinton").iterdir())[3:5]:
        shutil.copyfile(f, extra / f.name)
    removed = sorted(small_folder.glob("al_gore/*"))[0]
    removed.unlink()
    dialog = window.refresh_library()
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        pass
    summary = blocker.args[1]
    assert summary.processed == 2 and summary.unchanged == n - 1 and summary.removed == 1
    assert "2 photos indexed" in dialog.result.text()
    dialog.close()


def test_closing_during_indexing_stops_cleanly(qtbot, settings, tmp_path, no_leftover_threads):
    from facefinder.gui.main_window import MainWindow

    folder = big_folder(tmp_path)
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    w.client.load()
    with qtbot.waitSignal(w.client.indexProgress, timeout=JOB_TIMEOUT,
                          check_params_cb=lambda req, p, crops: p.done >= 2):
        w.client.index("default", str(folder))
    w.close()
    assert w.client.finished
    # The library is consistent: every face in SQLite is in the saved index and nothing else.
    path = resolve_library_path("default")
    lib = Library.open("default", create=False)
    ids, _ = lib.all_embeddings()
    photos = lib.stats()["photos"]
    lib._db.close()
    assert 2 <= photos < 50
    index_ = hnswlib.Index(space="l2", dim=128)
    index_.load_index(str(path / "faces.hnsw"))
    assert set(index_.get_ids_list()) == set(ids.tolist())
    assert len(ids) == len(np.unique(ids)) > 0


def test_escape_stops_indexing(qtbot, window, tmp_path):
    folder = big_folder(tmp_path)
    with qtbot.waitSignal(window.client.indexProgress, timeout=JOB_TIMEOUT,
                          check_params_cb=lambda req, p, crops: p.done >= 1):
        window.client.index("default", str(folder))
    with qtbot.waitSignal(window.client.indexDone, timeout=JOB_TIMEOUT) as blocker:
        window.cancel_action.trigger()  # Esc
    assert blocker.args[1].cancelled and not window.client.indexing
