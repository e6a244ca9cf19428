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

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, \
    QRect, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QInputDialog, QLabel, QListView, \
    QMessageBox, QPushButton, QStackedWidget, QStyle, QStyledItemDelegate, QStyleOptionViewItem, \
    QVBoxLayout, QWidget

from .jobs import LIBRARY, JobRunner
from .messages import detail
from .service import Libraries
from .thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

THUMB = 128
"""Tile thumbnail side in pixels."""

PersonIdRole = Qt.ItemDataRole.UserRole + 1
SizeRole = Qt.ItemDataRole.UserRole + 2
FaceIdRole = Qt.ItemDataRole.UserRole + 3
SmallRole = Qt.ItemDataRole.UserRole + 4
"""True: the tile's face is too small to judge (see :func:`facefinder.core.verify.is_small`)."""


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

    @property
    def title(self) -> str:
        from PySide6.QtCore import QCoreApplication

        return self.name or QCoreApplication.translate("PeopleView", "Person {id}").format(
            id=self.id)


# -- models ----------------------------------------------------------------------------------------
class _TileModel(QAbstractListModel):
    """Tiles with a face crop each (placeholder until the loader has it)."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self._where: dict[tuple, list[int]] = {}
        loader.ready.connect(self._thumb_ready)

    def _tile(self, row: int) -> Tile | None:
        raise NotImplementedError

    def _index_tiles(self) -> None:
        self._where = {}
        for row in range(self.rowCount()):
            t = self._tile(row)
            if t is not None:
                self._where.setdefault((t.path, t.box, THUMB), []).append(row)

    def _thumb_ready(self, key) -> None:
        for row in self._where.get(key, ()):
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def _decoration(self, row: int):
        t = self._tile(row)
        return None if t is None else self.loader.get(t.path, t.box, THUMB)

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
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tr("{name}: {count} faces").format(name=g.title, count=g.size)
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
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setItemDelegate(TileDelegate(view))
    view.setWordWrap(False)
    view.setSpacing(4)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    return view


# -- library work ---------------------------------------------------------------------------------
class Snapshot(list):
    """The groups (a list of :class:`Group`) and ``small_faces``: how many of the library's
    faces are too small to judge (and so not grouped)."""

    small_faces: int = 0


def _snapshot(library, group: bool, full: bool = False) -> Snapshot:
    """Runs on the library lane: group new faces (or all, ``full``) if asked, then read the
    groups."""
    from ..core import people
    from ..core.upgrade import library_pipeline
    from ..core.verify import calibration, is_small

    if group:
        people.cluster(library, full=full)
    found = people.people(library)
    rows = library.face_rows([f for p in found for f in p.face_ids])
    pipeline = library_pipeline(library)
    out = Snapshot(Group(p.id, p.name, p.size,
                         [Tile(f, rows[f].path, tuple(rows[f].box),
                               is_small(rows[f].box, pipeline))
                          for f in p.face_ids if f in rows])
                   for p in found)
    out.small_faces = library.query("SELECT COUNT(*) FROM faces WHERE MIN(w, h) < ?",
                                    (calibration(pipeline).small_face,))[0][0]
    return out


# -- the view --------------------------------------------------------------------------------------
class PeopleView(QWidget):
    """Groups of faces, largest first. Double-click a group to see its faces.

    Signals: ``peopleLoaded(int)`` (number of groups, after every reload), ``busyChanged(bool)``,
    ``failed(str)``, ``changed()`` (after a correction: a name, a merge, a face moved out),
    ``namesWritten(WriteReport)`` (after "Write names to photos…"). ``library``: a library name
    or folder (as the CLI's ``--library``)."""

    peopleLoaded = Signal(int)
    busyChanged = Signal(bool)
    failed = Signal(str)
    changed = Signal()
    namesWritten = Signal(object)

    def __init__(self, library: str | os.PathLike, loader: ThumbnailLoader | None = None,
                 parent: QWidget | None = None, runner: JobRunner | None = None,
                 libraries: Libraries | None = None) -> None:
        super().__init__(parent)
        self._own_runner = runner is None
        self.runner = runner or JobRunner(self)
        self.libraries = libraries or Libraries()
        self._own_loader = loader is None
        self.loader = loader or ThumbnailLoader(self.runner, parent=self)
        self.library_name = os.fspath(library)
        self._next = 0
        self._pending: dict[int, Callable] = {}
        self.open_id: int | None = None
        self.people_model = PeopleModel(self.loader, self)
        self.faces_model = FacesModel(self.loader, self)
        self._build()

    # -- building ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.people_list = _grid(self.people_model, multi=True)
        self.people_list.doubleClicked.connect(lambda idx: self.open_person(
            self.people_model.groups[idx.row()].id))
        self.people_list.selectionModel().selectionChanged.connect(self._update_buttons)
        self.regroup_button = QPushButton(self.tr("Group again"))
        self.regroup_button.setToolTip(self.tr("Group every face again; named and merged people "
                                               "are kept"))
        self.regroup_button.clicked.connect(lambda: self.reload(group=True, full=True))
        self.name_button = QPushButton(self.tr("Name…"))
        self.name_button.clicked.connect(lambda: self._ask_name())
        self.merge_button = QPushButton(self.tr("Merge"))
        self.merge_button.setToolTip(self.tr("Select two groups of the same person"))
        self.merge_button.clicked.connect(self._merge_selected)
        self.write_button = QPushButton(self.tr("Write names to photos…"))
        self.write_button.setToolTip(self.tr(
            "Write the names of named people into XMP sidecars next to their photos "
            "(photo.jpg.xmp), which digiKam, Lightroom, Immich and PhotoPrism read; the photos "
            "themselves are not changed"))
        self.write_button.clicked.connect(self.write_names)
        self.summary = QLabel()
        bar = QHBoxLayout()
        for w in (self.summary,):
            bar.addWidget(w, 1)
        for b in (self.name_button, self.merge_button, self.regroup_button, self.write_button):
            bar.addWidget(b)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.people_list, 1)

        self.faces_list = _grid(self.faces_model, multi=True)
        self.faces_list.selectionModel().selectionChanged.connect(self._update_buttons)
        self.back_button = QPushButton(self.tr("← People"))
        self.back_button.clicked.connect(self.show_people)
        self.title = QLabel()
        self.title.setObjectName("title")
        self.group_name_button = QPushButton(self.tr("Name…"))
        self.group_name_button.clicked.connect(lambda: self._ask_name(self.open_id))
        self.move_out_button = QPushButton(self.tr("Not this person"))
        self.move_out_button.setToolTip(self.tr("Move the selected faces out of this group; "
                                                "they are never put back"))
        self.move_out_button.clicked.connect(self._move_out_selected)
        bar2 = QHBoxLayout()
        bar2.addWidget(self.back_button)
        bar2.addWidget(self.title, 1)
        bar2.addWidget(self.group_name_button)
        bar2.addWidget(self.move_out_button)
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
        self.move_out_button.setEnabled(bool(self.selected_faces()))

    # -- state ---------------------------------------------------------------------------------
    def selected_people(self) -> list[int]:
        rows = sorted(i.row() for i in self.people_list.selectionModel().selectedIndexes())
        return [self.people_model.groups[r].id for r in rows]

    def selected_faces(self) -> list[int]:
        rows = sorted(i.row() for i in self.faces_list.selectionModel().selectedIndexes())
        return [self.faces_model.faces[r].face_id for r in rows]

    def group(self, person_id: int) -> Group | None:
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
        self.people_model.set_groups([])
        return self.reload()

    def reload(self, group: bool = True, full: bool = False) -> int:
        """Group faces that have none yet (all of them, ``full``), then show the groups."""
        return self._run(lambda lib: _snapshot(lib, group, full), self._show_groups)

    def _show_groups(self, groups: list[Group]) -> None:
        keep = set(self.selected_people())
        self.people_model.set_groups(groups)
        sel = self.people_list.selectionModel()
        for pid in keep:
            row = self.people_model.row_of(pid)
            if row is not None:
                sel.select(self.people_model.index(row),
                           sel.SelectionFlag.Select)
        faces = sum(g.size for g in groups)
        text = (self.tr("{people} people, {faces} faces. Double-click a person to see their "
                        "faces.").format(people=len(groups), faces=faces)
                if groups else self.tr("No people yet: index a folder of photos."))
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
        self.faces_model.set_faces(g.faces)
        self._update_buttons()

    def show_people(self) -> None:
        self.open_id = None
        self.stack.setCurrentIndex(0)

    # -- corrections (each followed by a reload) -------------------------------------------------
    def rename(self, person_id: int, name: str) -> int:
        from ..core import people

        return self._run(lambda lib: (people.rename(lib, person_id, name),
                                      _snapshot(lib, False))[1], self._corrected)

    def merge(self, a: int, b: int) -> int:
        """Merge ``b`` into ``a`` (the bigger group keeps its id when called from the button)."""
        from ..core import people

        return self._run(lambda lib: (people.merge(lib, a, b), _snapshot(lib, False))[1],
                         self._corrected)

    def move_out(self, face_ids: list[int]) -> int:
        from ..core import people

        def job(lib):
            for f in face_ids:
                people.move_out(lib, f)
            return _snapshot(lib, False)

        return self._run(job, self._corrected)

    def _corrected(self, groups: list[Group]) -> None:
        self._show_groups(groups)
        self.changed.emit()

    def _ask_name(self, person_id: int | None = None) -> None:
        if person_id is None:
            chosen = self.selected_people()
            if len(chosen) != 1:
                return
            person_id = chosen[0]
        g = self.group(person_id)
        name, ok = QInputDialog.getText(self, self.tr("Name this person"), self.tr("Name:"),
                                        text=(g.name or "") if g else "")
        if ok:
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
