"""The model service when the weights are missing: the weights dialog, a wrong file, the right
file; and the small window actions that need no search (open, copy path, Esc)."""

from __future__ import annotations


import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from helpers import HOPKINS_1
from guihelpers import MODEL_TIMEOUT, index


@pytest.fixture
def cache_without_weights(tmp_path, monkeypatch):
    """A cache folder holding the converted models but not the FaceNet weights file."""
    from facefinder.core import weights
    from facefinder.core.paths import cache_dir

    real = cache_dir()  # the user's cache (or FACEFINDER_CACHE_DIR), where the tests' weights are
    if not (real / weights.WEIGHTS_FILE).is_file():
        pytest.fail("the FaceNet weights are not in the cache: run `facefinder model fetch`")
    cache = tmp_path / "cache"
    cache.mkdir()
    for f in real.iterdir():
        if not f.name.startswith(weights.WEIGHTS_FILE):
            (cache / f.name).symlink_to(f)
    monkeypatch.setenv("FACEFINDER_CACHE_DIR", str(cache))
    monkeypatch.delenv("FACEFINDER_WEIGHTS", raising=False)
    return real / weights.WEIGHTS_FILE


def test_missing_weights_are_imported_from_a_local_file(qtbot, settings, tmp_path,
                                                        cache_without_weights,
                                                        no_leftover_threads):
    from facefinder.gui.main_window import MainWindow

    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.client.weightsMissing, timeout=MODEL_TIMEOUT):
        w.client.load()
    dialog = w.weights_dialog
    assert dialog is not None and dialog.isVisible()
    bogus = tmp_path / "facenet_keras.h5"
    bogus.write_bytes(b"not the weights")
    with qtbot.waitSignal(w.client.weightsDone, timeout=MODEL_TIMEOUT) as blocker:
        dialog.import_file(str(bogus))
    assert blocker.args[0] is False
    assert dialog.error.isVisible() and "not the FaceNet" in dialog.error.text()
    assert dialog.download.isEnabled() and dialog.choose.isEnabled()
    with qtbot.waitSignal(w.client.modelReady, timeout=MODEL_TIMEOUT):
        dialog.import_file(str(cache_without_weights))
    assert not dialog.isVisible()
    w.close()
    assert w.client.finished


class _UrlSink(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_result_actions_open_copy_and_escape(qtbot, window, small_folder):
    index(qtbot, window, small_folder)
    with qtbot.waitSignal(window.client.searchDone, timeout=60_000):
        window.search_files([str(HOPKINS_1), str(HOPKINS_1)])
    sink = _UrlSink()
    QDesktopServices.setUrlHandler("file", sink, "open")
    try:
        index0 = window.model.index(0)
        rect = window.results.visualRect(index0)
        viewport = window.results.viewport()
        # Qt's item views want the press before the double-click, as a real one has.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        assert sink.urls and sink.urls[-1].toLocalFile() == window.model.row(0).path
    finally:
        QDesktopServices.unsetUrlHandler("file")
    QApplication.clipboard().clear()
    menu = window.result_menu(0)
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert list(actions) == ["Open", "Show in folder", "Copy path", "Search with this face",
                             "Compare with query"]
    actions["Copy path"].trigger()
    assert QApplication.clipboard().text() == window.model.row(0).path
    menu.close()
    # Esc forgets queued photos.
    assert window.queue
    window.cancel_action.trigger()
    assert not window.queue and not window.next_action.isEnabled()
