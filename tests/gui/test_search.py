"""Searching from the main window: drops, pastes, picking a face, errors, results, settings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import QMimeData, QSettings, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from helpers import GROUPS, HOPKINS_1, HOPKINS_2, NONFACES
from guihelpers import drop, file_mime, index
from facefinder.gui.results import DistanceRole, RankRole, SameRole

TIMEOUT = 60_000


def test_window_shows_before_the_model_loads(tmp_path):
    """In a fresh process: the window is up in under 2 s, no model library imported yet, and
    the status bar says the model is loading."""
    script = textwrap.dedent("""
        import sys, time
        t0 = time.perf_counter()
        from PySide6.QtCore import QSettings
        from facefinder.gui.app import create_app
        from facefinder.gui.main_window import MainWindow
        app = create_app([])
        w = MainWindow(QSettings(sys.argv[1], QSettings.Format.IniFormat))
        w.show()
        app.processEvents()
        shown = time.perf_counter() - t0
        heavy = [m for m in ("tensorflow", "ai_edge_litert", "mtcnn") if m in sys.modules]
        print(f"{shown:.3f}", w.isVisible(), not w.client.models.loaded, heavy,
              w.statusBar().currentMessage())
        w.close()
        print("closed", w.client.finished)
    """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s.ini")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.strip().splitlines()[-2:]
    seconds, visible, not_loaded, heavy = first.split(" ", 3)
    assert float(seconds) < 2.0, first
    assert visible == "True" and not_loaded == "True"
    assert heavy.startswith("[]"), first
    assert "Loading face model" in first
    assert second == "closed True"


def _search_done(qtbot, window, action):
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT) as blocker:
        action()
    return blocker.args[1]


def _search_failed(qtbot, window, action):
    with qtbot.waitSignal(window.client.searchFailed, timeout=TIMEOUT) as blocker:
        action()
    return blocker.args[1:]


def test_drop_a_photo_shows_ranked_results(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    outcome = _search_done(qtbot, window, lambda: drop(window, file_mime(HOPKINS_1)))
    model = window.model
    assert model.rowCount() >= 5
    distances = [model.index(i).data(DistanceRole) for i in range(model.rowCount())]
    assert distances == sorted(distances)
    assert [model.index(i).data(RankRole) for i in range(3)] == [1, 2, 3]
    top = model.row(0)
    assert "hopkins" in top.path.lower()
    assert model.index(0).data(SameRole) is True
    assert model.index(model.rowCount() - 1).data(SameRole) is False
    assert window.query_view.chosen == 0 and len(window.query_view.boxes) == len(outcome.boxes)
    assert window.message.isHidden()
    # Thumbnails are made off the GUI thread and then shown.
    window.results.viewport().repaint()
    qtbot.waitUntil(lambda: model.index(0).data(Qt.ItemDataRole.DecorationRole) is not None,
                    timeout=TIMEOUT)
    # Fewer results: the count box searches again.
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT):
        window.count_box.setValue(3)
    assert model.rowCount() == 3
    # The threshold only changes the badges.
    window.threshold_box.setValue(0.1)
    assert model.index(0).data(SameRole) is (model.row(0).distance < 0.1)


def test_several_files_search_the_first_and_queue_the_rest(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    outcome = _search_done(qtbot, window, lambda: drop(window, file_mime(HOPKINS_1, HOPKINS_2)))
    assert outcome.path == str(HOPKINS_1)
    assert window.queue == [str(HOPKINS_2)] and window.next_action.isEnabled()
    outcome = _search_done(qtbot, window, window.next_action.trigger)
    assert outcome.path == str(HOPKINS_2) and not window.next_action.isEnabled()


def test_pick_the_second_face_of_a_group_photo(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    group = sorted(GROUPS.iterdir())[0]
    outcome = _search_done(qtbot, window, lambda: window.search_files([str(group)]))
    assert len(outcome.boxes) >= 2 and outcome.chosen == 0
    first_hits = [window.model.row(i).face_id for i in range(window.model.rowCount())]
    view = window.query_view
    point = view.box_rect(1).center().toPoint()
    assert view.face_at(view.box_rect(1).center()) == 1
    outcome = _search_done(qtbot, window,
                           lambda: qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point))
    assert outcome.chosen == 1 and view.chosen == 1
    second_hits = [window.model.row(i).face_id for i in range(window.model.rowCount())]
    assert first_hits != second_hits


def test_bad_drops_are_explained_in_the_window(qtbot, window, small_folder, tmp_path):
    # Library empty first.
    kind, message = _search_failed(qtbot, window, lambda: drop(window, file_mime(HOPKINS_1)))
    assert kind == "library" and window.message.isVisible()
    assert "empty" in window.message.text()
    index(qtbot, window, small_folder)
    # A text file.
    text = tmp_path / "notes.txt"
    text.write_text("not a photo")
    kind, _ = _search_failed(qtbot, window, lambda: drop(window, file_mime(text)))
    assert kind == "image" and "not a photo" in window.message.text()
    # A photo without a face.
    for nonface in sorted(NONFACES.iterdir())[:2]:
        kind, _ = _search_failed(qtbot, window, lambda: drop(window, file_mime(nonface)))
        assert kind == "noface" and "No face" in window.message.text()
    assert window.model.rowCount() == 0
    # A web link without the picture.
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/face.jpg")])
    drop(window, mime)
    assert "web link" in window.message.text()
    # A file that went away.
    drop(window, file_mime(tmp_path / "gone.jpg"))
    assert "cannot be found" in window.message.text()
    # And the app still searches.
    _search_done(qtbot, window, lambda: drop(window, file_mime(HOPKINS_1)))
    assert window.message.isHidden() and window.model.rowCount() > 0


def test_image_data_from_a_browser_or_the_clipboard(qtbot, window, small_folder, clipboard):
    index(qtbot, window, small_folder)
    image = QImage(str(HOPKINS_2))
    mime = QMimeData()
    mime.setImageData(image)
    outcome = _search_done(qtbot, window, lambda: drop(window, mime))
    assert outcome.path.endswith(".png") and os.path.dirname(outcome.path) == window.temp.path()
    assert "hopkins" in window.model.row(0).path.lower()
    # Paste (Ctrl+V) of a copied file.
    clipboard.setMimeData(file_mime(HOPKINS_1))
    outcome = _search_done(qtbot, window, window.paste_action.trigger)
    assert outcome.path == str(HOPKINS_1)


def test_compare_with_query(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    _search_done(qtbot, window, lambda: window.search_files([str(HOPKINS_1)]))
    row = 1
    dialog = window.compare(row)
    assert f"{window.model.row(row).distance:.3f}" in dialog.distance.text()
    assert "Same person" in dialog.verdict.text()
    qtbot.waitUntil(lambda: dialog.other_label.pixmap() is not None
                    and not dialog.other_label.pixmap().isNull(), timeout=TIMEOUT)
    dialog.close()
    last = window.model.rowCount() - 1
    dialog = window.compare(last)
    assert "Different people" in dialog.verdict.text()
    dialog.close()


def test_settings_are_remembered(qtbot, settings, no_leftover_threads):
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    # "auto" (the calibrated verdict) by default; an old saved fixed threshold is not used
    assert w.threshold_box.value() == 0 and w.threshold_box.text() == "auto"
    assert w.model.threshold is None
    w.count_box.setValue(42)
    w.threshold_box.setValue(0.9)
    w.resize(900, 650)
    w.close()
    assert w.client.finished
    w2 = MainWindow(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    assert w2.count_box.value() == 42
    assert w2.threshold_box.value() == pytest.approx(0.9)
    assert w2.library == "default"
    w2.close()
    assert w2.client.finished


def test_a_search_sent_before_the_model_loads_loads_it(qtbot, settings, small_folder,
                                                       no_leftover_threads):
    """`facefinder-gui photo.jpg`: the search request may reach the service first."""
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.client.indexDone, timeout=240_000):
        w.client.index("default", str(small_folder))  # before any load(): loads the model
    assert w.model_ready
    with qtbot.waitSignals([w.client.searchDone, w.client.modelReady], timeout=60_000):
        w.search_files([str(HOPKINS_2)])
        w.client.load()
    assert "hopkins" in w.model.row(0).path.lower()
    w.close()
    assert w.client.finished


def test_a_camera_photo_is_searched_without_holding_up_the_window(qtbot, window, small_folder,
                                                                  tmp_path, monkeypatch):
    """Detection and embedding run in the model server process: MTCNN's preprocessing of a
    12-megapixel photo holds the GIL for hundreds of ms, which in the app's process froze the
    window."""
    from helpers import SHARED_DATA
    from facefinder.bench import make_large_corpus
    from facefinder.core.pipeline import Engine
    from facefinder.gui.heartbeat import Heartbeat

    index(qtbot, window, small_folder)
    make_large_corpus(SHARED_DATA, tmp_path / "camera", 1)
    photo = tmp_path / "camera" / "large_000.jpg"
    monkeypatch.setattr(Engine, "faces_in_file", lambda *a: pytest.fail("ran in the app"))
    beat = Heartbeat()
    beat.start()
    outcome = _search_done(qtbot, window, lambda: window.search_files([str(photo)]))
    beat.stop()
    assert len(outcome.boxes) >= 4 and (outcome.width, outcome.height) == (4000, 3000)
    assert outcome.image.width() == 1600 and window.model.rowCount() > 0
    assert beat.worst_own < 0.100, f"the GUI thread was held up: {beat.describe()}"
