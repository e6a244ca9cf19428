"""The People view: one tile per group of faces (largest first), a group's faces, and the user's
corrections (name a group, merge two, move a wrong face out).

Library work (grouping, reading the groups, corrections) runs as jobs on the job runner's
library lane (:mod:`facefinder.gui.jobs`), where the app's searches run too: it is serialized
(as Anki does with its collection) and never on the GUI thread. In the app the view shares the
main window's runner and open libraries; alone (tests, tools) it makes its own. Face crops come
from the shared :class:`~facefinder.gui.thumbnails.ThumbnailLoader`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QAbstractListModel, QCoreApplication, \
    QModelIndex, QPersistentModelIndex, QRect, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QDialog, QHBoxLayout, \
    QInputDialog, QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem, QMenu, \
    QMessageBox, QPushButton, QSpinBox, QStackedWidget, QStyle, QStyledItemDelegate, \
    QStyleOptionViewItem, QVBoxLayout, QWidget

from .jobs import LIBRARY, JobRunner
from .messages import detail
from .service import Libraries
from .thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

from .tiles import THUMB, FaceIdRole, PersonIdRole, SizeRole, SmallRole, TileModel, \
    setup_grid  # noqa: F401 (the roles are named here for the People view's users)


@dataclass
class Tile:
    """A face to draw: ``box`` (x, y, w, h) in photo pixels."""

    face_id: int
    path: str
    box: tuple[int, int, int, int]
    small: bool = False


@dataclass
class Group:
    """A person as the view shows it; ``faces`` nearest the group's centre first."""

    id: int
    name: str | None
    size: int
    faces: list[Tile] = field(default_factory=list)
    hidden: bool = False

    @property
    def title(self) -> str:
        from PySide6.QtCore import QCoreApplication

        return self.name or QCoreApplication.translate("PeopleView", "Person {id}").format(
            id=self.id)


# -- models ----------------------------------------------------------------------------------------
class _TileModel(TileModel):
    """Tiles with a face crop each: subclasses say which :class:`Tile` a row shows."""

    def _tile(self, row: int) -> Tile | None:
        raise NotImplementedError

    def _index_tiles(self) -> None:
        self.index_tiles((row, t.path, t.box) for row in range(self.rowCount())
                         if (t := self._tile(row)) is not None)

    def _decoration(self, row: int):
        t = self._tile(row)
        return None if t is None else self.thumbnail(t.path, t.box)

    def _small(self, row: int) -> bool:
        t = self._tile(row)
        return bool(t is not None and t.small)


class PeopleModel(_TileModel):
    """The groups, largest first: the representative face and "name (count)"."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self.groups: list[Group] = []

    def set_groups(self, groups: list[Group]) -> None:
        self.beginResetModel()
        self.groups = sorted(groups, key=lambda g: (-g.size, g.id))
        self._index_tiles()
        self.endResetModel()

    def _tile(self, row: int) -> Tile | None:
        faces = self.groups[row].faces
        return faces[0] if faces else None

    def row_of(self, person_id: int) -> int | None:
        for i, g in enumerate(self.groups):
            if g.id == person_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.groups)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.groups):
            return None
        g = self.groups[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{g.title} ({g.size})"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(index.row())
        if role == Qt.ItemDataRole.ToolTipRole:  # the full name, which the tile may elide
            text = self.tr("{name}: {count} faces").format(name=g.title, count=g.size)
            return text + ("\n" + self.tr("Hidden") if g.hidden else "")
        if role == PersonIdRole:
            return g.id
        if role == SizeRole:
            return g.size
        if role == SmallRole:
            return self._small(index.row())
        return None


class FacesModel(_TileModel):
    """The faces of one group."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self.faces: list[Tile] = []

    def set_faces(self, faces: list[Tile]) -> None:
        self.beginResetModel()
        self.faces = list(faces)
        self._index_tiles()
        self.endResetModel()

    def _tile(self, row: int) -> Tile | None:
        return self.faces[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.faces)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.faces):
            return None
        t = self.faces[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(t.path)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(index.row())
        if role == Qt.ItemDataRole.ToolTipRole:
            return t.path + ("\n" + self.tr("A face too small to judge.") if t.small else "")
        if role == FaceIdRole:
            return t.face_id
        if role == SmallRole:
            return t.small
        return None


class TileDelegate(QStyledItemDelegate):
    """The face crop (a placeholder until it arrives) and one line of text under it."""

    PAD = 6

    def sizeHint(self, option, index) -> QSize:
        return QSize(THUMB + 2 * self.PAD, THUMB + 2 * self.PAD + option.fontMetrics.height() + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        painter.save()
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        style = option.widget.style() if option.widget else None
        if style is not None:  # selection and hover, as the platform draws them
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter,
                                option.widget)
        r = option.rect
        pal = option.palette
        thumb = QRect(r.x() + (r.width() - THUMB) // 2, r.y() + self.PAD, THUMB, THUMB)
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        if pix is not None and not pix.isNull():
            painter.drawPixmap(thumb, pix)
        else:
            painter.fillRect(thumb, pal.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawRect(thumb.adjusted(0, 0, -1, -1))
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter, "…")
        if index.data(SmallRole):
            from .results import _small_mark

            _small_mark(painter, thumb, option)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected
                                 else QPalette.ColorRole.Text))
        line = QRect(r.x() + self.PAD, thumb.bottom() + 4, r.width() - 2 * self.PAD,
                     option.fontMetrics.height())
        text = option.fontMetrics.elidedText(str(index.data() or ""),
                                             Qt.TextElideMode.ElideMiddle, line.width())
        painter.drawText(line, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _grid(model: QAbstractListModel, multi: bool) -> QListView:
    view = QListView()
    view.setModel(model)
    setup_grid(view, TileDelegate(view), multi)
    return view


# -- library work ---------------------------------------------------------------------------------
class Snapshot(list):
    """The groups (a list of :class:`Group`) and ``small_faces``: how many of the library's
    faces are too small to judge (and so not grouped); ``left_out``: people the list leaves out
    (hidden, or unnamed groups under the minimum size); ``last``: ``(id, kind)`` of the newest
    correction that can be undone, or None."""

    small_faces: int = 0
    left_out: int = 0
    last: tuple | None = None


def _snapshot(library, group: bool, full: bool = False, min_size: int = 1,
              hidden: bool = True) -> Snapshot:
    """Runs on the library lane: group new faces (or all, ``full``) if asked, then read the
    groups the list shows (``min_size``, ``hidden``: see
    :func:`facefinder.core.people.people_page`)."""
    from ..core import corrections, people
    from ..core.upgrade import library_pipeline
    from ..core.verify import calibration, is_small

    if group:
        people.cluster(library, full=full)
    found = people.people(library, min_size=min_size, hidden=hidden)
    rows = library.face_rows([f for p in found for f in p.face_ids])
    pipeline = library_pipeline(library)
    out = Snapshot(Group(p.id, p.name, p.size,
                         [Tile(f, rows[f].path, tuple(rows[f].box),
                               is_small(rows[f].box, pipeline))
                          for f in p.face_ids if f in rows], p.hidden)
                   for p in found)
    out.small_faces = library.query("SELECT COUNT(*) FROM faces WHERE MIN(w, h) < ?",
                                    (calibration(pipeline).small_face,))[0][0]
    out.left_out = people.count_people(library) - len(out)
    out.last = corrections.last_correction(library)
    return out


_UNDONE = {"merge": QT_TRANSLATE_NOOP("PeopleView", "Merge undone."),
           "move_out": QT_TRANSLATE_NOOP("PeopleView", "\"Not this person\" undone."),
           "rename": QT_TRANSLATE_NOOP("PeopleView", "Name undone."),
           "hide": QT_TRANSLATE_NOOP("PeopleView", "Hiding undone."),
           "unhide": QT_TRANSLATE_NOOP("PeopleView", "Showing again undone."),
           "cover": QT_TRANSLATE_NOOP("PeopleView", "Cover choice undone."),
           "review": QT_TRANSLATE_NOOP("PeopleView", "Review answer undone.")}


# -- the view --------------------------------------------------------------------------------------
class PeopleView(QWidget):
    """Groups of faces, largest first. Double-click a group (or Enter) to see its faces.

    Signals: ``peopleLoaded(int)`` (number of groups, after every reload), ``busyChanged(bool)``,
    ``failed(str)``, ``changed()`` (after a correction: a name, a merge, a face moved out),
    ``namesWritten(WriteReport)`` (after "Write names to photos…"), ``searchFaces(list)`` (face
    ids: "Search with this face" / "with this person"; the main window may search with them),
    ``photosTogether(list)`` (photo paths: "Photos with both…"). ``library``: a library name
    or folder (as the CLI's ``--library``)."""

    peopleLoaded = Signal(int)
    busyChanged = Signal(bool)
    failed = Signal(str)
    changed = Signal()
    namesWritten = Signal(object)
    searchFaces = Signal(list)
    photosTogether = Signal(list)

    def __init__(self, library: str | os.PathLike, loader: ThumbnailLoader | None = None,
                 parent: QWidget | None = None, runner: JobRunner | None = None,
                 libraries: Libraries | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        # The main window's settings when it is the parent (the smallest group size is kept).
        self.settings = settings or getattr(parent, "settings", None) or QSettings()
        self._own_runner = runner is None
        self.runner = runner or JobRunner(self)
        self.libraries = libraries or Libraries()
        self._own_loader = loader is None
        self.loader = loader or ThumbnailLoader(self.runner, parent=self)
        self.library_name = os.fspath(library)
        self._next = 0
        self._pending: dict[int, Callable] = {}
        self.open_id: int | None = None
        self._all: list[Group] = []
        self._last: tuple | None = None
        self._focus: int | None = None
        self.people_model = PeopleModel(self.loader, self)
        self.faces_model = FacesModel(self.loader, self)
        self._build()

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        from ..core.people import MIN_SHOWN

        self.people_list = _grid(self.people_model, multi=True)
        self.people_list.doubleClicked.connect(lambda idx: self.open_person(
            self.people_model.groups[idx.row()].id))
        self.people_list.activated.connect(lambda idx: self.open_person(
            self.people_model.groups[idx.row()].id))
        self.people_list.selectionModel().selectionChanged.connect(self._update_buttons)
        self.people_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.people_list.customContextMenuRequested.connect(self._people_menu)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Find a person by name"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda _t: self._apply_filter())
        self.min_size = QSpinBox()
        self.min_size.setRange(1, 1000)
        self.min_size.setValue(int(self.settings.value("people/min_size", MIN_SHOWN)))
        self.min_size.setToolTip(self.tr("Unnamed groups with fewer faces than this are not "
                                         "listed (named people always are)"))
        self.min_size.valueChanged.connect(self._min_size_changed)
        self.show_hidden = QCheckBox(self.tr("Show hidden"))
        self.show_hidden.toggled.connect(lambda _on: self.reload(group=False))
        self.regroup_button = QPushButton(self.tr("Group again…"))
        self.regroup_button.setToolTip(self.tr("Group every face again; named, merged and "
                                               "hidden people and your corrections are kept"))
        self.regroup_button.clicked.connect(self._confirm_regroup)
        self.name_button = QPushButton(self.tr("Name…"))
        self.name_button.clicked.connect(lambda: self._ask_name())
        self.merge_button = QPushButton(self.tr("Merge"))
        self.merge_button.setToolTip(self.tr("Select two groups of the same person"))
        self.merge_button.clicked.connect(self._merge_selected)
        self.hide_button = QPushButton(self.tr("Hide"))
        self.hide_button.setToolTip(self.tr("Keep the selected people (strangers) out of the "
                                            "list"))
        self.hide_button.clicked.connect(self._hide_selected)
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setToolTip(self.tr("Undo the last correction (Ctrl+Z)"))
        self.undo_button.clicked.connect(lambda: self.undo())
        self.undo_action = QAction(self.tr("Undo"), self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(lambda: self.undo())
        self.addAction(self.undo_action)
        self.review_button = QPushButton(self.tr("Review…"))
        self.review_button.setToolTip(self.tr("Unnamed faces that look like a named person, one "
                                              "at a time: Yes, No or Skip (Y, N, S)"))
        self.review_button.clicked.connect(lambda: self.review())
        self.together_button = QPushButton(self.tr("Photos with both…"))
        self.together_button.setToolTip(self.tr("Photos in which all the selected people "
                                                "appear"))
        self.together_button.clicked.connect(lambda: self.photos_together(
            self.selected_people()))
        self.hide_small_button = QPushButton(self.tr("Hide small groups…"))
        self.hide_small_button.setToolTip(self.tr("Hide every unnamed group with fewer faces "
                                                  "than you say"))
        self.hide_small_button.clicked.connect(self._ask_hide_small)
        self.write_button = QPushButton(self.tr("Write names to photos…"))
        self.write_button.setToolTip(self.tr(
            "Write the names of named people into XMP sidecars next to their photos "
            "(photo.jpg.xmp), which digiKam, Lightroom, Immich and PhotoPrism read; the photos "
            "themselves are not changed"))
        self.write_button.clicked.connect(self.write_names)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(QLabel(self.tr("Smallest group:")))
        top.addWidget(self.min_size)
        top.addWidget(self.show_hidden)
        bar = QHBoxLayout()
        for b in (self.name_button, self.merge_button, self.hide_button, self.undo_button,
                  self.review_button, self.together_button):
            bar.addWidget(b)
        bar.addStretch(1)
        for b in (self.hide_small_button, self.regroup_button, self.write_button):
            bar.addWidget(b)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.people_list, 1)

        self.faces_list = _grid(self.faces_model, multi=True)
        self.faces_list.selectionModel().selectionChanged.connect(self._update_buttons)
        self.faces_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.faces_list.customContextMenuRequested.connect(self._faces_menu)
        self.back_button = QPushButton(self.tr("← People"))
        self.back_button.clicked.connect(self.show_people)
        self.title = QLabel()
        self.title.setObjectName("title")
        self.group_name_button = QPushButton(self.tr("Name…"))
        self.group_name_button.clicked.connect(lambda: self._ask_name(self.open_id))
        self.move_out_button = QPushButton(self.tr("Not this person"))
        self.move_out_button.setToolTip(self.tr("Move the selected faces out of this group; "
                                                "they are never put back (Ctrl+Z undoes it)"))
        self.move_out_button.clicked.connect(self._move_out_selected)
        self.cover_button = QPushButton(self.tr("Make cover"))
        self.cover_button.setToolTip(self.tr("Show this person by the selected face"))
        self.cover_button.clicked.connect(self._cover_selected)
        self.draw_button = QPushButton(self.tr("Draw a missed face…"))
        self.draw_button.setToolTip(self.tr("On the selected face's photo, draw a box around a "
                                            "face facefinder did not find"))
        self.draw_button.clicked.connect(self._draw_selected)
        self.faces_undo_button = QPushButton(self.tr("Undo"))
        self.faces_undo_button.clicked.connect(lambda: self.undo())
        bar2 = QHBoxLayout()
        bar2.addWidget(self.back_button)
        bar2.addWidget(self.title, 1)
        for b in (self.group_name_button, self.move_out_button, self.cover_button,
                  self.draw_button, self.faces_undo_button):
            bar2.addWidget(b)
        page2 = QWidget()
        lay2 = QVBoxLayout(page2)
        lay2.setContentsMargins(0, 0, 0, 0)
        lay2.addLayout(bar2)
        lay2.addWidget(self.faces_list, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(page)
        self.stack.addWidget(page2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        chosen = self.selected_people()
        self.name_button.setEnabled(len(chosen) == 1)
        self.merge_button.setEnabled(len(chosen) == 2)
        self.hide_button.setEnabled(bool(chosen))
        groups = [self.group(p) for p in chosen]
        unhide = bool(groups) and all(g is not None and g.hidden for g in groups)
        self.hide_button.setText(self.tr("Show again") if unhide else self.tr("Hide"))
        self.together_button.setEnabled(len(chosen) >= 2)
        faces = self.selected_faces()
        self.move_out_button.setEnabled(bool(faces))
        self.cover_button.setEnabled(len(faces) == 1)
        self.draw_button.setEnabled(len(faces) == 1)
        can_undo = self._last is not None
        self.undo_button.setEnabled(can_undo)
        self.faces_undo_button.setEnabled(can_undo)
        self.undo_action.setEnabled(can_undo)

    # -- state ---------------------------------------------------------------------------------
    def selected_people(self) -> list[int]:
        rows = sorted(i.row() for i in self.people_list.selectionModel().selectedIndexes())
        return [self.people_model.groups[r].id for r in rows]

    def selected_faces(self) -> list[int]:
        rows = sorted(i.row() for i in self.faces_list.selectionModel().selectedIndexes())
        return [self.faces_model.faces[r].face_id for r in rows]

    def group(self, person_id: int) -> Group | None:
        """A person among those loaded (shown or filtered out by the name search)."""
        for g in self._all:
            if g.id == person_id:
                return g
        row = self.people_model.row_of(person_id)
        return None if row is None else self.people_model.groups[row]

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    # -- jobs -----------------------------------------------------------------------------------
    def _run(self, fn: Callable, then: Callable | None = None) -> int:
        """Run ``fn(library)`` on the library lane; ``then(result)`` on the GUI thread."""
        was_busy = self.busy
        self._next += 1
        req = self._next
        libraries, name = self.libraries, self.library_name
        job = self.runner.run(lambda: fn(libraries.get(name, check_model=False)),
                              lane=LIBRARY, name="people")
        job.done.connect(lambda result: self._done(req, result))
        job.failed.connect(lambda exc: self._failed(req, exc))
        self._pending[req] = then or (lambda _result: None)
        if not was_busy:
            self.busyChanged.emit(True)
        return req

    def _done(self, req: int, result) -> None:
        then = self._pending.pop(req, None)
        if then is not None:
            then(result)
        if not self._pending:
            self.busyChanged.emit(False)

    def _failed(self, req: int, exc: BaseException) -> None:
        log.warning("people job failed: %s", detail(exc))
        self._pending.pop(req, None)
        self.failed.emit(str(exc) or type(exc).__name__)
        if not self._pending:
            self.busyChanged.emit(False)

    def switch(self, library: str | os.PathLike) -> None:
        """Use another library (a name or folder) from the next job on."""
        self.library_name = os.fspath(library)

    def set_library(self, library: str | os.PathLike) -> int:
        """Show another library's people (a library name or folder)."""
        self.switch(library)
        self.show_people()
        self._all = []
        self.people_model.set_groups([])
        return self.reload()

    def _read(self, group: bool = False, full: bool = False) -> Callable:
        """The snapshot job, with the list's current settings."""
        min_size, hidden = self.min_size.value(), self.show_hidden.isChecked()
        return lambda lib: _snapshot(lib, group, full, min_size, hidden)

    def reload(self, group: bool = True, full: bool = False) -> int:
        """Group faces that have none yet (all of them, ``full``), then show the groups."""
        return self._run(self._read(group, full), self._show_groups)

    def _min_size_changed(self, value: int) -> None:
        self.settings.setValue("people/min_size", int(value))
        self.reload(group=False)

    def _show_groups(self, groups: list[Group]) -> None:
        keep = set(self.selected_people())
        if self._focus is not None:
            keep = {self._focus}
        self._all = list(groups)
        self._last = getattr(groups, "last", None)
        self._apply_filter(keep)
        faces = sum(g.size for g in groups)
        text = (self.tr("{people} people, {faces} faces. Double-click a person to see their "
                        "faces.").format(people=len(groups), faces=faces)
                if groups else self.tr("No people yet: index a folder of photos."))
        left_out = getattr(groups, "left_out", 0)
        if left_out:
            text += " " + self.tr("{n} hidden or smaller groups are not listed.").format(
                n=left_out)
        small = getattr(groups, "small_faces", 0)
        if small:
            text += " " + self.tr("{n} faces are too small to judge and are not grouped.") \
                .format(n=small)
        self.summary.setText(text)
        if self.open_id is not None:
            g = self.group(self.open_id)
            if g is None:
                self.show_people()
            else:
                self._show_faces(g)
        self._update_buttons()
        self.peopleLoaded.emit(len(groups))

    def _apply_filter(self, keep: set[int] | None = None) -> None:
        """Show the loaded groups whose name holds the search text; keep the selection, and
        bring the group in focus (a merged one) into view."""
        if keep is None:
            keep = set(self.selected_people())
        text = self.filter_edit.text().strip().casefold()
        shown = [g for g in self._all if not text or text in g.title.casefold()]
        self.people_model.set_groups(shown)
        sel = self.people_list.selectionModel()
        for pid in keep:
            row = self.people_model.row_of(pid)
            if row is not None:
                sel.select(self.people_model.index(row), sel.SelectionFlag.Select)
        if self._focus is not None:
            row = self.people_model.row_of(self._focus)
            if row is not None:
                index = self.people_model.index(row)
                # (Not the view's setCurrentIndex: under a held Ctrl it would toggle.)
                sel.setCurrentIndex(index, sel.SelectionFlag.NoUpdate)
                self.people_list.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
            self._focus = None
        self._update_buttons()

    def open_person(self, person_id: int) -> None:
        """Show the faces of a group."""
        g = self.group(person_id)
        if g is None:
            return
        self.open_id = person_id
        self._show_faces(g)
        self.stack.setCurrentIndex(1)

    def _show_faces(self, g: Group) -> None:
        self.title.setText(self.tr("{name}: {count} faces").format(name=g.title, count=g.size))
        self.title.setToolTip(g.title)
        self.faces_model.set_faces(g.faces)
        self._update_buttons()

    def show_people(self) -> None:
        self.open_id = None
        self.stack.setCurrentIndex(0)

    # -- corrections (each followed by a reload) -------------------------------------------------
    def _correct(self, work: Callable, note: str = "", focus: int | None = None) -> int:
        """Run ``work(library)`` then read the groups again; ``note``: said in the summary."""
        read = self._read()

        def job(lib):
            work(lib)
            return read(lib)

        def then(groups) -> None:
            self._focus = focus
            self._corrected(groups)
            if note:
                self.summary.setText(note + " " + self.summary.text())

        return self._run(job, then)

    def rename(self, person_id: int, name: str) -> int:
        from ..core import people

        return self._correct(lambda lib: people.rename(lib, person_id, name), focus=person_id)

    def merge(self, a: int, b: int) -> int:
        """Merge ``b`` into ``a`` (the bigger group keeps its id when called from the button);
        the merged group is selected and scrolled into view."""
        from ..core import people

        return self._correct(lambda lib: people.merge(lib, a, b),
                             self.tr("Merged. Undo: Ctrl+Z."), focus=a)

    def move_out(self, face_ids: list[int]) -> int:
        from ..core import people

        def work(lib):
            for f in face_ids:
                people.move_out(lib, f)

        return self._correct(work, self.tr("{n} faces moved out. Undo: Ctrl+Z.").format(
            n=len(face_ids)))

    def hide_people(self, person_ids: list[int], hidden: bool = True) -> int:
        from ..core import corrections

        return self._correct(lambda lib: corrections.hide(lib, person_ids, hidden),
                             (self.tr("Hidden. Undo: Ctrl+Z; \"Show hidden\" lists them.")
                              if hidden else self.tr("Shown again.")))

    def hide_small(self, below: int) -> int:
        from ..core import corrections

        return self._correct(lambda lib: corrections.hide_small(lib, below),
                             self.tr("Unnamed groups of fewer than {n} faces hidden. Undo: "
                                     "Ctrl+Z.").format(n=below))

    def set_cover(self, person_id: int, face_id: int) -> int:
        from ..core import corrections

        return self._correct(lambda lib: corrections.set_cover(lib, person_id, face_id),
                             focus=person_id)

    def undo(self, quiet: bool = False) -> int | None:
        """Take back the last correction (Ctrl+Z)."""
        from ..core import corrections

        if self._last is None and not quiet:
            return None
        read = self._read()
        kinds: list = []

        def job(lib):
            kinds.append(corrections.undo(lib))
            return read(lib)

        def then(groups) -> None:
            self._corrected(groups)
            if kinds and kinds[0]:
                self.summary.setText(QCoreApplication.translate("PeopleView",
                                                                _UNDONE[kinds[0]]))

        return self._run(job, then)

    def _corrected(self, groups: list[Group]) -> None:
        self._show_groups(groups)
        self.changed.emit()

    def _names(self) -> list[str]:
        return [g.name for g in self._all if g.name]

    def _ask_name(self, person_id: int | None = None) -> None:
        from . import dialogs

        if person_id is None:
            chosen = self.selected_people()
            if len(chosen) != 1:
                return
            person_id = chosen[0]
        g = self.group(person_id)
        face = self.loader.get(g.faces[0].path, g.faces[0].box, THUMB) if g and g.faces \
            else None
        name, ok = dialogs.ask_name(self, (g.name or "") if g else "", face, self._names())
        if not ok:
            return
        key = " ".join(name.split()).casefold()
        same = [o for o in self._all if o.id != person_id and o.name
                and " ".join(o.name.split()).casefold() == key]
        if key and same:
            other = min(same, key=lambda o: o.id)
            answer = QMessageBox.question(
                self, self.tr("Name this person"),
                self.tr("{name} is already the name of another person ({count} faces). Merge "
                        "these two into one person?").format(name=other.name, count=other.size),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes)
            if answer == QMessageBox.StandardButton.Yes:
                self.merge(other.id, person_id)
                return
        self.rename(person_id, name)

    def _merge_selected(self) -> None:
        chosen = self.selected_people()
        if len(chosen) != 2:
            return
        a, b = sorted(chosen, key=lambda pid: -self.group(pid).size)
        self.merge(a, b)

    def _move_out_selected(self) -> None:
        faces = self.selected_faces()
        if faces:
            self.move_out(faces)

    def _hide_selected(self) -> None:
        chosen = self.selected_people()
        if not chosen:
            return
        groups = [self.group(p) for p in chosen]
        self.hide_people(chosen, hidden=not all(g is not None and g.hidden for g in groups))

    def _ask_hide_small(self) -> None:
        n, ok = QInputDialog.getInt(self, self.tr("Hide small groups"),
                                    self.tr("Hide every unnamed group with fewer faces than:"),
                                    3, 2, 1000)
        if ok:
            self.hide_small(n)

    def _cover_selected(self) -> None:
        faces = self.selected_faces()
        if len(faces) == 1 and self.open_id is not None:
            self.set_cover(self.open_id, faces[0])

    def _confirm_regroup(self) -> None:
        answer = QMessageBox.question(
            self, self.tr("Group again"),
            self.tr("Group every face again? Groups you have not named, merged or corrected may "
                    "be split or joined differently. Named, merged and hidden people and your "
                    "corrections are kept."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.reload(group=True, full=True)

    # -- menus ----------------------------------------------------------------------------------
    def _people_menu(self, pos) -> None:
        index = self.people_list.indexAt(pos)
        if index.isValid() and not self.people_list.selectionModel().isSelected(index):
            self.people_list.selectionModel().select(
                index, self.people_list.selectionModel().SelectionFlag.ClearAndSelect)
        chosen = self.selected_people()
        if not chosen:
            return
        menu = QMenu(self)
        if len(chosen) == 1:
            menu.addAction(self.tr("Open"), lambda: self.open_person(chosen[0]))
            menu.addAction(self.tr("Name…"), lambda: self._ask_name(chosen[0]))
            menu.addAction(self.tr("Review faces like this person…"),
                           lambda: self.review(chosen[0]))
            menu.addAction(self.tr("Search with this person"), lambda: self.searchFaces.emit(
                [t.face_id for t in self.group(chosen[0]).faces]))
        if len(chosen) == 2:
            menu.addAction(self.tr("Merge"), self._merge_selected)
        if len(chosen) >= 2:
            menu.addAction(self.tr("Photos with both…"), lambda: self.photos_together(chosen))
        menu.addAction(self.hide_button.text(), self._hide_selected)
        self._last_menu = menu
        menu.popup(self.people_list.viewport().mapToGlobal(pos))

    def _faces_menu(self, pos) -> None:
        index = self.faces_list.indexAt(pos)
        if index.isValid() and not self.faces_list.selectionModel().isSelected(index):
            self.faces_list.selectionModel().select(
                index, self.faces_list.selectionModel().SelectionFlag.ClearAndSelect)
        faces = self.selected_faces()
        if not faces:
            return
        menu = QMenu(self)
        menu.addAction(self.tr("Not this person"), self._move_out_selected)
        if len(faces) == 1:
            menu.addAction(self.tr("Make cover"), self._cover_selected)
            menu.addAction(self.tr("Search with this face"),
                           lambda: self.searchFaces.emit(list(faces)))
            menu.addAction(self.tr("Draw a missed face on this photo…"), self._draw_selected)
        self._last_menu = menu
        menu.popup(self.faces_list.viewport().mapToGlobal(pos))

    # -- review, photos together, drawn faces ---------------------------------------------------
    def review(self, person_id: int | None = None):
        """Open the review queue (all named people, or one) and read it."""
        from .review import ReviewDialog

        dialog = ReviewDialog(self, person_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: self.reload(group=False))
        dialog.show()
        dialog.load()
        self.review_dialog = dialog
        return dialog

    def photos_together(self, person_ids: list[int]) -> int:
        """Find the photos in which all ``person_ids`` appear; list them and emit
        ``photosTogether``."""
        from ..core.corrections import together

        names = [self.group(p).title if self.group(p) else str(p) for p in person_ids]
        return self._run(lambda lib: together(lib, person_ids),
                         lambda found: self._show_together(names, found))

    def _show_together(self, names: list[str], found: list) -> None:
        paths = [path for path, _faces in found]
        self.together_dialog = dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Photos with {names}").format(names=", ".join(names)))
        lay = QVBoxLayout(dialog)
        lay.addWidget(QLabel(self.tr("{n} photos with all of {names}.").format(
            n=len(paths), names=", ".join(names))))
        listing = QListWidget()
        for path in paths:
            item = QListWidgetItem(os.path.basename(path))
            item.setToolTip(path)
            listing.addItem(item)
        lay.addWidget(listing)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(dialog.accept)
        lay.addWidget(close)
        dialog.resize(480, 360)
        dialog.show()
        self.photosTogether.emit(paths)

    def _draw_selected(self) -> None:
        faces = self.selected_faces()
        if len(faces) != 1:
            return
        tile = next(t for t in self.faces_model.faces if t.face_id == faces[0])
        self.draw_face(tile.path)

    def draw_face(self, path: str):
        """Open the photo to draw a missed face on; the face is added when the dialog is
        accepted."""
        from .face_draw import DrawFaceDialog

        boxes = [t.box for g in self._all for t in g.faces if t.path == path]
        dialog = DrawFaceDialog(path, boxes, self._names(), self)
        dialog.accepted.connect(lambda: self.add_face(path, dialog.box(), dialog.name()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.draw_dialog = dialog
        return dialog

    def add_face(self, path: str, box, name: str = "") -> int:
        """Add a face drawn by hand (embedded by a model server of its own, off the GUI
        thread)."""
        from ..core import corrections
        from .service import embed_drawn_box

        def work(lib):
            corrections.add_face(lib, None, path, box, name or None,
                                 embed=lambda p, rect, pipe: embed_drawn_box(p, rect, pipe)[1])
            from ..core import people

            people.cluster(lib)  # an unnamed drawn face joins the person it looks like

        return self._correct(work, self.tr("Face added."))

    # -- names to photos (XMP sidecars; see facefinder.core.face_names) --------------------------
    def write_names(self) -> int:
        """Work out (on the library lane) which photos would get a sidecar, ask, then write them."""
        from ..core.face_names import write_names

        return self._run(lambda lib: write_names(lib, dry_run=True), self._confirm_write)

    def _confirm_write(self, plan) -> None:
        title = self.tr("Write names to photos")
        photos = plan.created + plan.updated
        if not photos:
            text = (self.tr("Every photo of a named person already has their names in its "
                            "sidecar.") if plan.unchanged else
                    self.tr("No one is named yet: name a person first (Name…)."))
            QMessageBox.information(self, title, text + self._skipped_text(plan.skipped))
            return
        text = self.tr("Write the names of named people to {photos} photos?\n\nfacefinder "
                       "writes a sidecar file next to each photo (photo.jpg.xmp: {new} new, "
                       "{updated} updated), with the face regions and names that digiKam, "
                       "Lightroom, Immich and PhotoPrism read. The photos themselves are not "
                       "changed.").format(photos=photos, new=plan.created,
                                          updated=plan.updated)
        answer = QMessageBox.question(self, title, text + self._skipped_text(plan.skipped))
        if answer == QMessageBox.StandardButton.Yes:
            from ..core.face_names import write_names

            self._run(lambda lib: write_names(lib), self._written)

    def _written(self, report) -> None:
        text = self.tr("Names written to {photos} photos ({new} new sidecars, {updated} "
                       "updated).").format(photos=report.created + report.updated,
                                           new=report.created, updated=report.updated)
        self.summary.setText(text)
        if report.skipped:
            QMessageBox.information(self, self.tr("Write names to photos"),
                                    text + self._skipped_text(report.skipped))
        self.namesWritten.emit(report)

    def _skipped_text(self, skipped: list[tuple[str, str]], most: int = 15) -> str:
        """The photos left out, one line each (the first ``most``), for a message box."""
        if not skipped:
            return ""
        lines = [f"{os.path.basename(path)}: {reason}" for path, reason in skipped[:most]]
        if len(skipped) > most:
            lines.append("…")
        return "\n\n" + self.tr("{n} photos left out:").format(n=len(skipped)) + "\n" + \
            "\n".join(lines)

    # -- shutting down ---------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Call before the app quits. Alone, the view closes its libraries and ends its
        runner's threads after the queued jobs; in the app the main window does that."""
        if self._own_loader:
            self.loader.shutdown()
        if self._own_runner and not self.runner.closed:
            self.runner.run(self.libraries.close, lane=LIBRARY, name="close libraries")
            self.runner.shutdown()
