"""The main window: drop or open a photo, pick a face, browse the look-alikes."""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QByteArray, QSettings, Qt, QTemporaryDir, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, \
    QGuiApplication, QImage, QKeySequence, QPalette, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFrame, \
    QHBoxLayout, QLabel, QMainWindow, QMenu, QProgressBar, QPushButton, QSpinBox, QSplitter, \
    QToolBar, QVBoxLayout, QWidget

from ..core.library import DEFAULT_LIBRARY
from .dialogs import AboutDialog, CompareDialog, WeightsDialog
from .drops import MimeDropTarget, read_mime
from .query import QueryView
from .refresh import RefreshDialog
from .resources import app_icon
from .results import ResultsModel, ResultsView
from .client import ServiceClient
from .service import SearchOutcome
from .thumbnails import ThumbnailLoader
from .wizard import IndexWizard, library_names
from .text import esc, qt_filter
from .messages import ask_yes_no

log = logging.getLogger(__name__)


class MainWindow(MimeDropTarget, QMainWindow):
    """Owns the service client (background jobs), the query view and the results grid."""

    def __init__(self, settings: QSettings | None = None, client: ServiceClient | None = None
                 ) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.client = client or ServiceClient(self)
        self.loader = ThumbnailLoader(self.client.runner, parent=self)
        self.temp = QTemporaryDir()
        self.model_ready = False
        self.query_path: str | None = None
        self.outcome: SearchOutcome | None = None
        self.queue: list[str] = []
        self.search_id: int | None = None
        self.face_index = -1
        self._combined = ""  # what a search with several faces searched with (its caption)
        self.wizard: IndexWizard | None = None
        self.resumable: int | None = None  # a job whose worker died, offered to resume
        self.resumed: int | None = None  # the job the Resume button started
        self.refresh_dialog: RefreshDialog | None = None
        self.weights_dialog: WeightsDialog | None = None
        self.people_view = None  # PeopleView, made on first use
        self.compare_dialog: CompareDialog | None = None
        self.last_menu: QMenu | None = None  # the results' context menu shown last
        self._want_box: tuple | None = None  # "Search with this face": the face's box
        self.instance_server = None  # set by app.main: later starts hand their photos here
        self.setWindowTitle("facefinder")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        from .upgrade import install as install_upgrade_bar

        self.upgrade_bar = install_upgrade_bar(self)  # offers to upgrade older libraries
        self._restore()
        self.statusBar().showMessage(self.tr("Loading face model…"))
        from .notices import NoticeBridge

        self.notices = NoticeBridge(self)  # the core's repairs, said in one line
        self.notices.notice.connect(lambda text: self.statusBar().showMessage(text, 15_000))

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.query_view = QueryView()
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setFrameShape(QFrame.Shape.StyledPanel)
        self.message.setMargin(8)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAutoFillBackground(True)
        # The theme's own colours (a tooltip's yellow stayed bright in dark themes).
        self.message.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.message.setForegroundRole(QPalette.ColorRole.Text)
        self.message.hide()
        self.resume_button = QPushButton(self.tr("Resume indexing"))
        self.resume_button.clicked.connect(self.resume_indexing)
        self.resume_button.hide()
        self.query_caption = QLabel()
        self.query_caption.setWordWrap(True)
        self.query_caption.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.queue_label = QLabel()
        self.welcome = self._welcome_panel()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.welcome)
        lv.addWidget(self.query_view, 1)
        lv.addWidget(self.query_caption)
        lv.addWidget(self.message)
        lv.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignLeft)
        lv.addWidget(self.queue_label)

        self.model = ResultsModel(self.loader, self)
        self.results = ResultsView()
        self.results.setModel(self.model)
        self.results_header = QLabel(self.tr("Results appear here."))
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.results_header)
        rv.addWidget(self.results, 1)

        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.setCentralWidget(self.splitter)
        QWidget.setTabOrder(self.query_view, self.results)  # the photo, then its results

        self.library_box = QComboBox()
        self.library_box.setMinimumContentsLength(12)
        self.library_box.setToolTip(self.tr("The library to search"))
        self.count_box = QSpinBox()
        self.count_box.setRange(1, 1000)
        self.count_box.setValue(20)
        self.count_box.setToolTip(self.tr("How many results to show"))
        self.threshold_box = QDoubleSpinBox()
        self.threshold_box.setRange(0.0, 2.0)  # 0: "auto", the calibrated verdict
        self.threshold_box.setSingleStep(0.05)
        self.threshold_box.setDecimals(2)
        self.threshold_box.setSpecialValueText(self.tr("auto"))
        self.threshold_box.setValue(0.0)
        self.threshold_box.setToolTip(self.tr(
            "auto: a result is called the same person when hardly any face of another person "
            "in a library this size would be as close (the calibrated verdict). A number: "
            "faces closer than this distance are called the same person."))
        self.library_stats = QLabel()
        self.index_bar = QProgressBar()  # any indexing job, also while the wizard is hidden
        self.index_bar.setObjectName("index-progress")
        self.index_bar.setMaximumWidth(220)
        self.index_bar.setFormat(self.tr("Indexing %v of %m"))
        self.index_bar.setToolTip(self.tr("Indexing: Ctrl+I shows the wizard, Esc stops"))
        self.index_bar.hide()
        self.statusBar().addPermanentWidget(self.index_bar)
        self.statusBar().addPermanentWidget(self.library_stats)
        self._actions()

    def _welcome_panel(self) -> QFrame:
        """What an empty library shows: what to do first, a button for it, and the hint that a
        folder can be dropped (hidden once the library has faces)."""
        panel = QFrame()
        panel.setObjectName("welcome")
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        v = QVBoxLayout(panel)
        self.welcome_text = QLabel()
        self.welcome_text.setObjectName("welcome-text")
        self.welcome_text.setWordWrap(True)
        self.welcome_text.setTextFormat(Qt.TextFormat.RichText)
        self.welcome_button = QPushButton(self.tr("Index a folder…  (Ctrl+I)"))
        self.welcome_button.setObjectName("welcome-index")
        self.welcome_button.setDefault(True)
        self.welcome_button.clicked.connect(lambda: self.show_wizard())
        v.addWidget(self.welcome_text)
        v.addWidget(self.welcome_button, 0, Qt.AlignmentFlag.AlignLeft)
        panel.hide()
        return panel

    def _show_welcome(self, empty: bool) -> None:
        """Show (``empty``) or hide the first-run guidance for the current library."""
        if empty:
            self.welcome_text.setText(
                "<b>" + esc(self.tr("The library “{name}” has no photos yet.").format(
                    name=self.library)) + "</b><br>" + esc(self.tr(
                    "Index a folder of photos first: facefinder finds the faces in it, then "
                    "you can search them with any photo. You can also drop a folder on this "
                    "window to index it.")))
        self.welcome.setVisible(empty)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _actions(self) -> None:
        self.open_action = self._action(self.tr("&Open photo…"), self.open_photo,
                                        QKeySequence.StandardKey.Open,
                                        self.tr("Search with a photo from disk"))
        self.several_action = self._action(
            self.tr("Search with photos of one &person…"), self.open_photos_of_one_person,
            "Ctrl+Shift+O", self.tr("One search with several photos of the same person "
                                   "(nearest to their faces' mean)"))
        self.paste_action = self._action(self.tr("&Paste photo"), self.paste,
                                         QKeySequence.StandardKey.Paste,
                                         self.tr("Search with the photo on the clipboard"))
        self.next_action = self._action(self.tr("&Next queued photo"), self.next_queued,
                                        "Ctrl+N")
        self.next_action.setEnabled(False)
        self.index_action = self._action(self.tr("&Index a folder…"), self.show_wizard,
                                         "Ctrl+I", self.tr("Add a photo folder to the library"))
        self.refresh_action = self._action(self.tr("&Refresh library"), self.refresh_library,
                                           "F5", self.tr("Index again what changed"))
        self.cancel_action = self._action(self.tr("Cancel"), self.cancel, "Esc")
        # Ctrl+Q everywhere (QKeySequence.Quit is empty on Windows and some platform themes),
        # and from every window of the app: People and Compare too.
        self.quit_action = self._action(self.tr("&Quit"), self.close, "Ctrl+Q")
        self.quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.about_action = self._action(self.tr("&About facefinder"), self.show_about)
        self.compare_action = self._action(self.tr("&Compare two photos…"), self.show_compare,
                                           "Ctrl+Shift+C",
                                           self.tr("Are two photos of the same person?"))
        self.people_action = self._action(self.tr("&People…"), self.show_people,
                                          "Ctrl+Shift+P", self.tr("Faces grouped by person"))
        self.next_face_action = self._action(
            self.tr("Search with the next face"), lambda: self.query_view.choose(
                self.query_view.chosen + 1), "Ctrl+]",
            self.tr("In a photo with several faces, search with the next one"))
        self.previous_face_action = self._action(
            self.tr("Search with the previous face"), lambda: self.query_view.choose(
                self.query_view.chosen - 1), "Ctrl+[",
            self.tr("In a photo with several faces, search with the previous one"))
        self.distinct_action = self._action(self.tr("People, not photos"),
                                            self._distinct_toggled)
        self.distinct_action.setCheckable(True)
        self.distinct_action.setToolTip(self.tr(
            "Show the nearest people, each once (by the face nearest the query), instead of "
            "the nearest faces"))
        self.distinct_action.setStatusTip(self.distinct_action.toolTip())
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        for a in (self.open_action, self.several_action, self.paste_action, self.next_action,
                  None,
                  self.compare_action, None,
                  self.index_action, self.refresh_action, None, self.quit_action):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        view_menu.addAction(self.people_action)
        view_menu.addAction(self.distinct_action)
        view_menu.addSeparator()
        view_menu.addAction(self.next_face_action)
        view_menu.addAction(self.previous_face_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)
        bar = QToolBar(self.tr("Main"))
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addAction(self.open_action)
        bar.addAction(self.index_action)
        bar.addAction(self.refresh_action)
        bar.addSeparator()
        for label, w in ((self.tr("Library:"), self.library_box),
                         (self.tr("Results:"), self.count_box),
                         (self.tr("Threshold:"), self.threshold_box)):
            holder = QWidget()
            h = QHBoxLayout(holder)
            h.setContentsMargins(6, 0, 6, 0)
            h.addWidget(QLabel(label))
            h.addWidget(w)
            bar.addWidget(holder)
        # A check box, so "People, not photos" reads as the on/off switch it is.
        self.distinct_box = QCheckBox(self.tr("People, not photos"))
        self.distinct_box.setToolTip(self.distinct_action.toolTip())
        self.distinct_box.setChecked(self.distinct_action.isChecked())
        self.distinct_box.toggled.connect(
            lambda on: on != self.distinct_action.isChecked() and self.distinct_action.trigger())
        self.distinct_action.toggled.connect(self.distinct_box.setChecked)
        bar.addWidget(self.distinct_box)
        self.addToolBar(bar)

    def _connect(self) -> None:
        svc = self.client
        svc.status.connect(self._status)
        svc.modelReady.connect(self._model_ready)
        svc.modelFailed.connect(self._model_failed)
        svc.weightsMissing.connect(self._weights_missing)
        svc.searchDone.connect(self._search_done)
        svc.searchFailed.connect(self._search_failed)
        svc.libraryStats.connect(self._library_stats)
        svc.indexDone.connect(lambda *_: self._refresh_libraries())
        svc.indexDone.connect(lambda *_: self.people_view and self.people_view.reload())
        svc.indexFailed.connect(self._index_failed)
        svc.indexProgress.connect(self._resumed_progress)
        svc.indexDone.connect(self._resumed_done)
        svc.indexProgress.connect(self._show_index_progress)
        svc.indexDone.connect(lambda *_: self.index_bar.hide())
        svc.indexFailed.connect(lambda *_: self.index_bar.hide())
        self.query_view.faceClicked.connect(self._face_clicked)
        self.query_view.openRequested.connect(self.open_photo)
        self.results.openRequested.connect(self.open_result)
        self.results.customContextMenuRequested.connect(self._context_menu)
        self.threshold_box.valueChanged.connect(self.model.set_threshold)
        self.threshold_box.valueChanged.connect(
            lambda t: self.compare_dialog and self.compare_dialog.set_threshold(t or None))
        self._research = QTimer(self)
        self._research.setSingleShot(True)
        self._research.setInterval(300)
        self._research.timeout.connect(self._search_again)
        self.count_box.valueChanged.connect(lambda _: self._research.start())
        self.library_box.currentTextChanged.connect(self._library_changed)
        self.library_box.currentTextChanged.connect(
            lambda n: self.people_view and self.people_view.set_library(n))

    def _restore(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        state = s.value("window/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        self.count_box.setValue(int(s.value("search/count", 20)))
        # A new key: earlier versions saved their fixed default (1.2) under "search/threshold".
        self.threshold_box.setValue(float(s.value("search/verdict_threshold", 0.0)))
        self.distinct_action.setChecked(str(s.value("search/distinct", "false")).lower()
                                        in ("true", "1"))
        self._refresh_libraries(str(s.value("library", DEFAULT_LIBRARY)))

    def _save(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("search/count", self.count_box.value())
        s.setValue("search/verdict_threshold", self.threshold_box.value())
        s.setValue("search/distinct", self.distinct_action.isChecked())
        s.setValue("library", self.library)
        s.sync()

    # -- libraries --------------------------------------------------------------------------------
    @property
    def library(self) -> str:
        return self.library_box.currentText() or DEFAULT_LIBRARY

    def _refresh_libraries(self, select: str | None = None) -> None:
        select = select or self.library
        names = library_names()
        if select not in names:
            names.insert(0, select)
        self.library_box.blockSignals(True)
        self.library_box.clear()
        self.library_box.addItems(names)
        self.library_box.setCurrentText(select)
        self.library_box.blockSignals(False)
        if select not in library_names():  # known at once: no need to wait for the stats
            self._show_welcome(True)
        if self.model_ready:
            self.client.library_info(select)

    def _library_changed(self, name: str) -> None:
        self._show_welcome(name not in library_names())
        if self.model_ready:
            self.client.library_info(name)
        if self.query_path:
            self._search_again()

    def _library_stats(self, name: str, stats: dict) -> None:
        if name != self.library:
            return
        self._show_welcome(not stats or not stats.get("faces"))
        if not stats:
            self.library_stats.setText(self.tr("Library “{name}”: empty").format(name=name))
        else:
            text = self.tr("Library “{name}”: {photos} photos, {faces} faces")
            self.library_stats.setText(text.format(name=name, photos=stats["photos"],
                                                   faces=stats["faces"]))

    # -- the model -------------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text)

    def _model_ready(self) -> None:
        self.model_ready = True
        self.statusBar().showMessage(self.tr("Ready. Drop a photo to search."), 8000)
        self.client.library_info(self.library)

    def _model_failed(self, kind: str, message: str) -> None:
        self.statusBar().showMessage(self.tr("The face model could not be loaded."))
        self.show_message(self.tr("The face model could not be loaded: {reason}").format(
            reason=message))

    def _weights_missing(self) -> None:
        self.statusBar().showMessage(self.tr("The face model is not downloaded yet."))
        if self.weights_dialog is None:
            self.weights_dialog = WeightsDialog(self.client, self)
            self.weights_dialog.rejected.connect(lambda: self.show_message(self.tr(
                "Searching needs the face model. Use Help ▸ About for its source, and restart "
                "the app to download it.")))
        self.weights_dialog.open()

    # -- searching --------------------------------------------------------------------------------
    def search_file(self, path: str, face_index: int = -1) -> None:
        """Search with ``path`` (face ``face_index``; -1: the largest)."""
        self.query_path = path
        self.face_index = face_index
        self._combined = ""
        self.hide_message()
        self.query_caption.setText(os.path.basename(path))
        self.query_view.set_busy(True)
        if not self.model_ready:
            self.statusBar().showMessage(self.tr("Waiting for the face model…"))
        else:
            self.statusBar().showMessage(self.tr("Searching…"))
        self.search_id = self.client.search(self.library, path, face_index,
                                            self.count_box.value(),
                                            self.distinct_action.isChecked())

    def search_photos(self, paths: list[str]) -> None:
        """One search with several photos of the same person (their main faces' mean)."""
        if len(paths) < 2:
            self.search_files(paths)
            return
        self._start_combined(self.tr("{n} photos of one person").format(n=len(paths)))
        self.search_id = self.client.search_photos(self.library, list(paths),
                                                   self.count_box.value())

    def search_faces(self, face_ids: list[int], what: str = "") -> None:
        """One search with several faces of the library (People: "Search with this person"):
        the faces nearest their mean, those faces left out."""
        if not face_ids:
            return
        self._start_combined(what or self.tr("{n} faces of one person").format(
            n=len(face_ids)))
        self.search_id = self.client.search_faces(self.library, list(face_ids),
                                                  self.count_box.value())
        self.raise_()
        self.activateWindow()

    def _start_combined(self, caption: str) -> None:
        self.query_path = None  # the count box and face boxes have no single photo to redo
        self.face_index = -1
        self._combined = caption
        self.hide_message()
        self.query_caption.setText(caption)
        self.query_view.set_busy(True)
        self.statusBar().showMessage(self.tr("Searching…"))

    def open_photos_of_one_person(self) -> None:
        self.search_photos(self._choose_photos(self.tr("Photos of one person")))

    def search_face(self, row: int) -> None:
        """Search with result ``row``'s face: its photo, and in it the face at its box."""
        r = self.model.row(row)
        self._want_box = tuple(r.box)
        self.search_file(r.path)

    def search_files(self, paths: list[str]) -> None:
        """Search with the first photo; queue the others (File ▸ Next queued photo)."""
        if not paths:
            return
        self.queue = list(paths[1:]) + self.queue
        self._show_queue()
        self.search_file(paths[0])

    def next_queued(self) -> None:
        if self.queue:
            path = self.queue.pop(0)
            self._show_queue()
            self.search_file(path)

    def _show_queue(self) -> None:
        n = len(self.queue)
        self.next_action.setEnabled(n > 0)
        text = (self.tr("1 more photo queued: Ctrl+N shows it.") if n == 1 else
                self.tr("{n} more photos queued: Ctrl+N shows the next.").format(n=n))
        self.queue_label.setText(text if n else "")

    def _search_again(self) -> None:
        if self.query_path:
            self.search_file(self.query_path, self.face_index)

    def _face_clicked(self, index: int) -> None:
        # After a search with several faces, a face of the photo shown searches that photo.
        path = self.query_path or (self.outcome.path if self.outcome is not None else None)
        if path:
            self.search_file(path, index)

    def _search_done(self, req: int, outcome: SearchOutcome) -> None:
        if req != self.search_id:
            return  # an answer to a request that was superseded
        want, self._want_box = self._want_box, None
        if want is not None and outcome.boxes:
            best = max(range(len(outcome.boxes)), key=lambda i: _overlap(outcome.boxes[i], want))
            if best != outcome.chosen and _overlap(outcome.boxes[best], want) > 0.3:
                self.search_file(outcome.path, best)  # the face asked for, not the largest
                return
        self.outcome = outcome
        self.face_index = outcome.chosen
        self.query_view.set_photo(outcome.image, outcome.width, outcome.height, outcome.scale,
                                  outcome.boxes, outcome.chosen)
        self.model.set_threshold(self.threshold_box.value())
        self.model.set_hits(outcome.hits, outcome.people, outcome.distinct, outcome.judge,
                            query_path=outcome.path)
        self.results.show_first()  # a new search opens at #1, not at the old scroll position
        faces = len(outcome.boxes)
        name = self.query_caption.fontMetrics().elidedText(
            os.path.basename(outcome.path), Qt.TextElideMode.ElideMiddle, 260)
        self.query_caption.setToolTip(outcome.path)
        self.query_caption.setText(
            self.tr("{name}: 1 face").format(name=name) if faces == 1 else
            self.tr("{name}: {n} faces; searching with face {i} (click another, or press "
                    "Ctrl+] / Ctrl+[, to switch)")
            .format(name=name, n=faces, i=outcome.chosen + 1))
        if self._combined:
            self.query_caption.setText(self.tr("Searching with {what} (shown: {name})").format(
                what=self._combined, name=name))
        n = len(outcome.hits)
        if outcome.distinct:
            header = (self.tr("1 person in “{library}”") if n == 1 else
                      self.tr("{n} people in “{library}”"))
        else:
            header = (self.tr("1 result in “{library}”") if n == 1 else
                      self.tr("{n} results in “{library}”"))
        self.results_header.setText(header.format(n=n, library=outcome.library))
        self.statusBar().showMessage(self.tr("Search done."), 5000)

    def _search_failed(self, req: int, kind: str, message: str) -> None:
        if req != self.search_id:
            return
        self.query_view.set_busy(False)
        from . import messages

        headline = messages.headline(kind, name=self.library)
        if kind in ("image", "noface", "library"):
            self.outcome = None
            self.model.clear()
            self.results_header.setText(self.tr("No results."))
            if not self._show_photo_only(self.query_path):  # keep the photo when it is one
                self.query_view.clear()
        self.show_message(headline, message)  # said once, here (not in the status bar too)
        self.statusBar().clearMessage()

    def _show_photo_only(self, path: str | None) -> bool:
        """Show the photo ``path`` with no face boxes (a search that found no face); False
        when it cannot be read."""
        from .service import MAX_QUERY_SIDE

        image = QImage(path) if path else QImage()
        if image.isNull():
            return False
        w, h = image.width(), image.height()
        scale = min(1.0, MAX_QUERY_SIDE / max(w, h))
        if scale < 1.0:
            image = image.scaled(max(1, round(w * scale)), max(1, round(h * scale)),
                                 Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self.query_view.set_photo(image, w, h, scale, [], -1)
        return True

    def show_message(self, headline: str, detail: str = "") -> None:
        """A plain-words message above the results (errors, hints)."""
        text = f"<b>{esc(headline)}</b>"
        if detail:
            text += f"<br><small>{esc(detail)}</small>"
        self.message.setText(text)
        self.message.show()

    def hide_message(self) -> None:
        self.message.hide()
        self.message.clear()
        self.resume_button.hide()

    # -- opening ---------------------------------------------------------------------------------
    def open_photo(self) -> None:
        self.search_files(self._choose_photos(self.tr("Open a photo")))

    def _choose_photos(self, title: str) -> list[str]:
        """Photos picked in a file dialog that opens where the last one was picked."""
        paths, _ = QFileDialog.getOpenFileNames(
            self, title, str(self.settings.value("lastDir", "")),
            qt_filter(self.tr("Photos"), self.tr("All files")))
        if paths:
            self.settings.setValue("lastDir", os.path.dirname(paths[0]))
        return paths

    def paste(self) -> None:
        self.handle_mime(QGuiApplication.clipboard().mimeData())

    def handle_mime(self, mime) -> None:
        """Search with what a drop or paste carries (or index a dropped folder)."""
        if mime is None:
            return
        content = read_mime(mime, self.temp.path())
        if content.files:
            self.search_files(content.files)
        elif content.folder:
            self.show_wizard(content.folder)
        else:
            self.show_message(content.problem or "")

    def open_paths(self, paths: list[str]) -> None:
        """Photos (or a folder) given on the command line or by a later start ("Open with"):
        bring the window to the front, search with the photos, or index the folder."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        files = [p for p in paths if os.path.isfile(p)]
        folders = [p for p in paths if os.path.isdir(p)]
        if files:
            self.search_files(files)
        elif folders:
            self.show_wizard(folders[0])
        elif paths:
            self.show_message(self.tr("That file cannot be found."), paths[0])

    def take_drop(self, mime) -> None:
        self.handle_mime(mime)

    def drag_highlight(self, on: bool) -> None:
        self.query_view.set_drag_over(on)

    # -- results ----------------------------------------------------------------------------------
    def open_result(self, row: int) -> bool:
        """Open result ``row``'s photo in the system's viewer (Enter, double-click)."""
        return self._open_local(self.model.row(row).path)

    def show_in_folder(self, row: int) -> bool:
        """Open the folder holding result ``row``'s photo in the file manager."""
        return self._open_local(os.path.dirname(self.model.row(row).path))

    def _open_local(self, path: str) -> bool:
        """Hand ``path`` to the desktop; where nothing can open it (no launcher, the file
        gone), say so in the window instead of failing silently."""
        if not os.path.exists(path):
            ok = False
            reason = self.tr("It is not there any more.")
        else:
            ok = QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            reason = self.tr("No program to open it was found on this system (select the path "
                             "above to copy it).")
        if not ok:
            headline = self.tr("Could not open {path}").format(path=path)
            self.show_message(headline, reason)
            self.statusBar().showMessage(headline, 8000)
        return ok

    def _context_menu(self, pos) -> None:
        index = self.results.indexAt(pos)
        if index.isValid():
            self.results.setCurrentIndex(index)
            self.last_menu = self.result_menu(index.row())
            self.last_menu.popup(self.results.viewport().mapToGlobal(pos))

    def result_menu(self, row: int) -> QMenu:
        """Open, Show in folder, Copy path, Compare with query: for result ``row``."""
        path = self.model.row(row).path
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("Open"), lambda: self.open_result(row))
        menu.addAction(self.tr("Show in folder"), lambda: self.show_in_folder(row))
        menu.addAction(self.tr("Copy path"),
                       lambda: QGuiApplication.clipboard().setText(path))
        menu.addAction(self.tr("Search with this face"), lambda: self.search_face(row))
        menu.addSeparator()
        menu.addAction(self.tr("Compare with query"), lambda: self.compare(row))
        return menu

    def query_crop(self) -> QPixmap:
        """The query face's crop (as the library's pipeline frames it), cut from the shown
        photo."""
        from ..core.align import crop_rect, pipeline

        o = self.outcome
        spec = pipeline(o.pipeline or None).crop
        left, top, right, bottom = crop_rect(spec, o.boxes[o.chosen], o.width, o.height)
        s = o.scale
        rect = (int(left * s), int(top * s), max(1, int((right - left) * s)),
                max(1, int((bottom - top) * s)))
        image: QImage = o.image.copy(*rect).scaled(160, 160)
        return QPixmap.fromImage(image)

    def compare(self, row: int) -> CompareDialog | None:
        """Side by side: the query face and result ``row``, the distance, the verdict."""
        if self.outcome is None:
            return None
        r = self.model.row(row)
        other = self.loader.get(r.path, r.box, 160)
        dialog = CompareDialog(self, self.threshold_box.value() or None)
        dialog.set_faces(self.query_crop(), os.path.basename(self.outcome.path), other,
                         os.path.basename(r.path))
        dialog.show_result(r.distance, self.outcome.pipeline or None,
                           self.model.verdict(row).small)
        key = (r.path, tuple(r.box), 160)

        def arrived(k) -> None:
            if k == key:
                pix = self.loader.get(r.path, r.box, 160)
                if pix is not None:
                    dialog.set_other(pix)

        self.loader.ready.connect(arrived)
        dialog.finished.connect(lambda _: self.loader.ready.disconnect(arrived))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_compare(self) -> CompareDialog:
        """File ▸ Compare two photos: two drop zones; the model server compares them."""
        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(self, self.threshold_box.value() or None,
                                                self.client, self.temp.path())
        else:
            self.compare_dialog.set_threshold(self.threshold_box.value() or None)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        self.compare_dialog.activateWindow()
        return self.compare_dialog

    # -- people -----------------------------------------------------------------------------------
    def show_people(self):
        """View ▸ People: the library's faces grouped by person, in a window of its own."""
        if self.people_view is None:
            from .people_view import PeopleView

            self.people_view = PeopleView(self.library, self.loader, self,
                                          runner=self.client.runner,
                                          libraries=self.client.libraries)
            self.people_view.setWindowFlag(Qt.WindowType.Window)
            self.people_view.setWindowTitle(self.tr("People"))
            self.people_view.layout().setContentsMargins(8, 8, 8, 8)
            self.people_view.resize(900, 650)
            self.people_view.failed.connect(self._people_failed)
            self.people_view.searchFaces.connect(self.search_faces)
            self.people_view.changed.connect(self._people_changed)
            self.people_view.reload()
        self.people_view.show()
        self.people_view.raise_()
        self.people_view.activateWindow()
        return self.people_view

    def _people_failed(self, message: str) -> None:
        text = self.tr("People could not be loaded: {reason}").format(reason=message)
        self.statusBar().showMessage(text, 8000)
        if self.people_view is not None:
            self.people_view.summary.setText(text)

    def _people_changed(self) -> None:
        """A person was named, merged or corrected: show the new names on the results."""
        if self.query_path and self.outcome is not None:
            self._search_again()

    def _distinct_toggled(self, on: bool) -> None:
        self.settings.setValue("search/distinct", bool(on))
        if self.query_path:
            self._search_again()

    # -- indexing ---------------------------------------------------------------------------------
    def show_wizard(self, folder: str | None = None) -> IndexWizard:
        if self.wizard is None or not self.wizard.isVisible():
            self.wizard = IndexWizard(self.client, self.library, self, self.settings)
            self.wizard.indexed.connect(self._indexed)
        if isinstance(folder, str) and folder:
            self.wizard.folder_page.folder.setText(folder)
        self.wizard.show()
        self.wizard.raise_()
        return self.wizard

    def _indexed(self, library: str) -> None:
        self._refresh_libraries(library)
        if self.query_path and library == self.library:
            self._search_again()

    def refresh_library(self) -> RefreshDialog:
        if self.refresh_dialog is None or not self.refresh_dialog.isVisible():
            self.refresh_dialog = RefreshDialog(self.client, self.library, self)
            self.refresh_dialog.indexed.connect(self._indexed)
            self.refresh_dialog.start()
        self.refresh_dialog.show()
        return self.refresh_dialog

    def _index_failed(self, req: int, message: str) -> None:
        """A job whose worker died: say so in the window and offer to resume it."""
        was_resumed = req == self.resumed
        if was_resumed:
            self.resumed = None
        if not self.client.can_resume(req):
            if was_resumed:  # no wizard or dialog shows this job: the window says it
                self.show_message(message)
            return
        from . import messages

        exc = self.client.errors[req]
        self.resumable = req
        self.show_message(messages.headline(exc), messages.detail(exc))
        self.resume_button.show()
        self.statusBar().showMessage(messages.headline(exc), 10_000)

    def resume_indexing(self) -> int | None:
        """Start the interrupted job again (what it committed is kept); returns its id."""
        if self.resumable is None:
            return None
        req, self.resumable = self.resumable, None
        self.hide_message()
        self.resumed = self.client.resume(req)
        self.statusBar().showMessage(self.tr("Resuming indexing…"))
        return self.resumed

    def _resumed_progress(self, req: int, progress, _crops) -> None:
        if req == self.resumed and getattr(progress, "stage", "") == "indexing":
            self.statusBar().showMessage(self.tr("Indexing: {done} of {total} photos").format(
                done=progress.done, total=progress.total))

    def _show_index_progress(self, _req: int, progress, _crops) -> None:
        if getattr(progress, "stage", "") == "indexing" and getattr(progress, "total", 0):
            self.index_bar.setRange(0, int(progress.total))
            self.index_bar.setValue(int(progress.done))
            self.index_bar.show()

    def _resumed_done(self, req: int, summary) -> None:
        if req == self.resumed:
            self.resumed = None
            self.statusBar().showMessage(self.tr("Indexing finished: {n} photos indexed, "
                                                 "{faces} faces found.").format(
                n=summary.processed, faces=summary.faces_added), 10_000)
            self._indexed(self.client.requests[req].library)

    def confirm_stop(self) -> bool:
        """Ask whether to stop the running indexing job (tests replace this)."""
        return ask_yes_no(
            self, self.tr("Stop indexing?"),
            self.tr("Indexing is still running. Stop it? What was indexed so far is kept."))

    def cancel(self) -> None:
        """Esc: stop the running indexing job (after asking) and forget queued photos."""
        if self.client.indexing and self.confirm_stop() and self.client.indexing:
            self.client.cancel_index()
            self.statusBar().showMessage(self.tr("Stopping indexing…"))
        self.queue.clear()
        self._show_queue()

    # -- the rest ---------------------------------------------------------------------------------
    def show_about(self) -> AboutDialog:
        dialog = AboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save settings, stop the job (what was done is kept) and end the background work."""
        self._save()
        if self.instance_server is not None:  # a start from now on opens a new app
            self.instance_server.close()
        self.statusBar().showMessage(self.tr("Closing…"))
        for w in (self.wizard, self.refresh_dialog, self.compare_dialog, self.people_view):
            if w is not None:
                w.hide()
        if self.people_view is not None:
            self.people_view.shutdown()
        self.loader.shutdown()
        self.client.shutdown()
        self.notices.detach()
        event.accept()


def _overlap(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    union = aw * ah + bw * bh - w * h
    return w * h / union if union > 0 else 0.0


