"""Pieces tested without the model: translations, the About dialog, the results model and
grid with 1000 rows, the query view's face picking, drop parsing, small formatters."""

from __future__ import annotations

import time
from types import SimpleNamespace

from PySide6.QtCore import QCoreApplication, QLocale, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QImage

from helpers import HOPKINS_1
from facefinder import __version__
from facefinder.gui.drops import read_mime
from facefinder.gui.progress import format_eta
from facefinder.gui.resources import app_icon, install_translator
from facefinder.gui.results import DistanceRole, ResultsModel, ResultsView, SameRole, \
    SmallRole, ThumbFailedRole, TierRole
from facefinder.gui.thumbnails import ThumbnailLoader


def test_japanese_translation_is_used_for_a_japanese_locale(qapp):
    english = "&Index a folder…"
    assert QCoreApplication.translate("MainWindow", english) == english
    translator = install_translator(qapp, QLocale(QLocale.Language.Japanese,
                                                  QLocale.Country.Japan))
    assert translator is not None
    try:
        japanese = QCoreApplication.translate("MainWindow", english)
        assert japanese == "フォルダーを登録(&I)…"
        found = QCoreApplication.translate("OptionsPage", "{n} photos found.")
        assert found.format(n=3) == "写真が 3 枚見つかりました。"
        assert QCoreApplication.translate("MainWindow", "&People…") == "人物(&P)…"
        assert QCoreApplication.translate("PeopleView", "Group again") == "まとめ直す"
        assert QCoreApplication.translate(
            "CompareDialog", "1 in {n} pairs of photos of different people are this "
                             "close.").format(n="400") == \
            "別人の写真のペアでこれほど近いものは 400 組に 1 組です。"
        assert QCoreApplication.translate("ResultDelegate", "possibly") == "可能性あり"
    finally:
        qapp.removeTranslator(translator)
        if translator.qt is not None:
            qapp.removeTranslator(translator.qt)
    assert QCoreApplication.translate("MainWindow", english) == english


def test_no_translator_for_english(qapp):
    assert install_translator(qapp, QLocale(QLocale.Language.English)) is None


def test_about_dialog_names_the_version_and_the_model_licence(qtbot):
    from facefinder.gui.dialogs import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    from PySide6.QtWidgets import QLabel

    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert __version__ in texts
    assert "non-commercial" in texts.lower() and "MS-Celeb-1M" in texts
    assert not app_icon().isNull()


def _hits(n: int, path: str):
    row = SimpleNamespace(face_id=0, path=path, box=(60, 60, 120, 150))
    return [SimpleNamespace(rank=i + 1, distance=0.5 + i * 0.001,
                            face=SimpleNamespace(face_id=i + 1, path=row.path, box=row.box))
            for i in range(n)]


def test_a_thousand_results_scroll_smoothly(qtbot):
    loader = ThumbnailLoader(capacity=50)
    model = ResultsModel(loader)
    view = ResultsView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    t0 = time.perf_counter()
    model.set_hits(_hits(1000, str(HOPKINS_1)))
    view.repaint()
    assert time.perf_counter() - t0 < 1.0
    assert model.rowCount() == 1000
    assert model.index(0).data(SameRole) and not model.index(999).data(SameRole)
    assert model.index(999).data(DistanceRole) > model.index(0).data(DistanceRole)
    # Each repaint of a screenful while scrolling stays well under a frame budget.
    bar = view.verticalScrollBar()
    worst = 0.0
    for value in range(0, bar.maximum(), max(1, bar.maximum() // 25)):
        bar.setValue(value)
        t = time.perf_counter()
        view.viewport().repaint()
        worst = max(worst, time.perf_counter() - t)
    assert worst < 0.1, f"a repaint took {worst * 1000:.0f} ms"
    # Thumbnails arrive (the same face for every row here: one crop, then cached).
    qtbot.waitUntil(lambda: model.index(999).data(Qt.ItemDataRole.DecorationRole) is not None,
                    timeout=20_000)
    assert len(loader._cache) <= 50
    # A photo that went away shows "photo not found" instead of a thumbnail.
    model.set_hits(_hits(3, "/nonexistent/photo.jpg"))
    view.repaint()
    qtbot.waitUntil(lambda: model.index(0).data(ThumbFailedRole), timeout=20_000)
    assert model.index(0).data(Qt.ItemDataRole.DecorationRole) is None
    view.repaint()
    loader.shutdown()


def test_query_view_picks_the_clicked_face(qtbot):
    from facefinder.gui.query import QueryView

    view = QueryView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    image = QImage(200, 200, QImage.Format.Format_RGB888)
    image.fill(QColor(128, 128, 128))
    view.set_photo(image, 200, 200, 1.0, [(20, 20, 80, 80), (120, 120, 50, 50)], 0)
    picked = []
    view.faceClicked.connect(picked.append)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                     pos=view.box_rect(1).center().toPoint())
    assert picked == [1] and view.chosen == 1
    assert view.face_at(QPointF(1, 1)) == -1


def test_drop_parsing(tmp_path):
    mime = QMimeData()
    mime.setText(str(HOPKINS_1))
    assert read_mime(mime, str(tmp_path)).files == [str(HOPKINS_1)]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    assert read_mime(mime, str(tmp_path)).folder == str(tmp_path)
    mime = QMimeData()
    image = QImage(10, 10, QImage.Format.Format_RGB888)
    image.fill(QColor(1, 2, 3))
    mime.setImageData(image)
    saved = read_mime(mime, str(tmp_path)).files[0]
    assert saved.endswith(".png") and QImage(saved).width() == 10
    assert read_mime(QMimeData(), str(tmp_path)).problem


def test_format_eta():
    assert format_eta(None) == "–"
    assert format_eta(65) == "1:05"
    assert format_eta(3725) == "1:02:05"


def test_core_notices_reach_the_status_bar(qtbot, tmp_path):
    """A repair the core made on its own (here: a damaged index rebuilt) is said in the window,
    even when it happened on another thread."""
    import threading

    from facefinder.core.errors import notice
    from facefinder.gui.main_window import MainWindow
    from PySide6.QtCore import QSettings

    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.notices.notice, timeout=5000):
        threading.Thread(target=notice, args=("The face index was rebuilt.",)).start()
    qtbot.waitUntil(lambda: "rebuilt" in window.statusBar().currentMessage(), timeout=5000)
    window.close()


def test_results_show_the_judges_tiers_and_small_faces(qtbot):
    """The grid's badges are :class:`~facefinder.core.verify.Judge`'s verdicts: "same person",
    "possibly" or nothing, and small faces are marked and never "same person"; a fixed
    threshold from the toolbar replaces the calibrated rule."""
    from facefinder.core.verify import Judge, calibration

    cal = calibration()
    model = ResultsModel(ThumbnailLoader(capacity=10))
    view = ResultsView()
    qtbot.addWidget(view)
    view.setModel(model)
    hits = _hits(4, str(HOPKINS_1))
    for h, d in zip(hits, (0.6, 0.6, 1.0, 1.4)):
        h.distance = d
    hits[1].face.box = (0, 0, cal.small_face - 4, cal.small_face)  # too small to judge
    judge = Judge(cal, 500)
    model.set_hits(hits, judge=judge)
    tiers = [model.index(i).data(TierRole) for i in range(4)]
    assert tiers == [judge.verdict(h.distance, min(h.face.box[2:])).tier for h in hits]
    assert tiers == ["same", "possible", "possible", ""]
    assert [model.index(i).data(SmallRole) for i in range(4)] == [False, True, False, False]
    assert model.index(0).data(SameRole) and not model.index(1).data(SameRole)
    assert "too small" in model.index(1).data(Qt.ItemDataRole.ToolTipRole)
    assert "faces of other people" in model.index(2).data(Qt.ItemDataRole.ToolTipRole)
    view.show()
    view.viewport().repaint()  # the delegate draws both badges and the mark
    model.set_threshold(1.2)  # a fixed threshold instead
    assert [model.index(i).data(TierRole) for i in range(4)] == ["same", "possible", "same", ""]
    model.set_threshold(0)  # back to auto
    assert model.index(2).data(TierRole) == "possible"
