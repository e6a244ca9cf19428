"""The results grid: a list model of (face id, distance), a delegate that draws each face crop
with its rank, distance, the verdict's badge ("same person" or "possibly", decided by
:class:`facefinder.core.verify.Judge`, the function the CLI's ``same_person`` comes from) and a
mark on faces too small to judge, and the icon-mode view around them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..core.verify import Judge, Verdict, calibration
from .thumbnails import ThumbnailLoader

from .tiles import (THUMB, BoxRole, DistanceRole, FaceIdRole, GroupSizeRole,  # noqa: F401
                    PathRole, PersonRole, QueryPhotoRole, RankRole, SameRole, SmallRole,
                    ThumbFailedRole, TierRole, TileModel, setup_grid)

# The roles are those of every grid (:mod:`facefinder.gui.tiles`); they are named here too for
# the results' users.


@dataclass
class ResultRow:
    """One hit: ``box`` (x, y, w, h) in photo pixels; ``distance`` Euclidean (0..2)."""

    face_id: int
    distance: float
    path: str
    box: tuple[int, int, int, int]
    person_id: int | None = None
    name: str | None = None
    group_size: int = 1
    query_photo: bool = False


def _same_file(a: str, b: str | None) -> bool:
    import os

    if not b:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normpath(a) == os.path.normpath(b)


class ResultsModel(TileModel):
    """The hits of the last search, nearest first. Thumbnails come from a shared loader."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(loader, parent)
        self._rows: list[ResultRow] = []
        self.threshold: float | None = None  # None: the calibrated verdict
        self.judge: Judge = Judge(calibration(), 1)
        self._verdicts: list[Verdict] = []
        self.distinct = False
        self._person_line = False

    def set_hits(self, hits, people: dict | None = None, distinct: bool = False,
                 judge: Judge | None = None, query_path: str | None = None) -> None:
        """Replace the rows with :class:`~facefinder.core.library.Hit` objects. ``people``:
        ``{face id: (person id, name, group size)}``; ``distinct``: each hit stands for a
        person (its group size is shown); ``judge``: the search's
        :class:`~facefinder.core.verify.Judge` (None: the default pipeline's, library size
        unknown); ``query_path``: the photo searched with (its own faces are labelled "this
        photo")."""
        people = people or {}
        self.beginResetModel()
        self.judge = judge or Judge(calibration(), max(1, len(hits)))
        self.loader.forget_pending()
        self.distinct = bool(distinct)
        self._rows = []
        for h in hits:
            pid, name, size = people.get(h.face.face_id, (None, None, 1))
            self._rows.append(ResultRow(h.face.face_id, float(h.distance), h.face.path,
                                        tuple(int(v) for v in h.face.box), pid, name, size,
                                        _same_file(h.face.path, query_path)))
        self.index_tiles((i, r.path, r.box) for i, r in enumerate(self._rows))
        self._person_line = self.distinct or any(r.name for r in self._rows)
        self._judge_rows()
        self.endResetModel()

    def _judge_rows(self) -> None:
        judge = replace(self.judge, threshold=self.threshold)
        self._verdicts = [judge.verdict(r.distance, min(r.box[2], r.box[3])) for r in self._rows]

    def verdict(self, i: int) -> Verdict:
        """The verdict on row ``i`` (what the badge shows)."""
        return self._verdicts[i]

    def clear(self) -> None:
        self.set_hits([])

    def set_threshold(self, threshold: float | None) -> None:
        """A fixed same-person threshold the user chose; None or 0: the calibrated verdict."""
        self.threshold = float(threshold) if threshold else None
        self._judge_rows()
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1),
                                  [SameRole, TierRole, Qt.ItemDataRole.ToolTipRole])

    @property
    def person_line(self) -> bool:
        """Whether tiles need the line for a name or a group size."""
        return self._person_line

    def row(self, i: int) -> ResultRow:
        return self._rows[i]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{index.row() + 1}  {r.distance:.3f}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(r.path, r.box)
        v = self._verdicts[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            verdict = {"same": self.tr("same person"),
                       "possible": self.tr("possibly the same person")}.get(
                v.tier, self.tr("no verdict"))
            tip = self.tr("{path}\ndistance {distance:.3f} ({verdict})").format(
                path=r.path, distance=r.distance, verdict=verdict)
            if self.threshold is None:
                tip += "\n" + self.tr("About {n} faces of other people in a library this size "
                                       "would be this close.").format(
                    n=f"{v.expected_strangers:.2g}")
            if v.small:
                tip += "\n" + self.tr("A face too small to judge: at most “possibly”.")
            if r.query_photo:
                tip += "\n" + self.tr("This is the photo you searched with.")
            if r.name:
                tip = self.tr("{name}\n{tip}").format(name=r.name, tip=tip)
            if self.distinct:
                tip += "\n" + (self.tr("1 face of this person") if r.group_size == 1 else
                                self.tr("{n} faces of this person").format(n=r.group_size))
            return tip
        if role == FaceIdRole:
            return r.face_id
        if role == DistanceRole:
            return r.distance
        if role == RankRole:
            return index.row() + 1
        if role == PathRole:
            return r.path
        if role == BoxRole:
            return r.box
        if role == SameRole:
            return v.same
        if role == TierRole:
            return v.tier
        if role == SmallRole:
            return v.small
        if role == QueryPhotoRole:
            return r.query_photo
        if role == ThumbFailedRole:  # the photo moved or cannot be read any more
            return self.loader.failed(r.path, r.box, THUMB)
        if role == PersonRole:
            return r.name
        if role == GroupSizeRole:
            return r.group_size if self.distinct else None
        return None


class ResultDelegate(QStyledItemDelegate):
    """Thumbnail on top; rank, distance and the badge underneath. Palette colours only."""

    PAD = 6

    def sizeHint(self, option, index) -> QSize:
        line = option.fontMetrics.height()
        model = index.model()
        lines = 3 if getattr(model, "person_line", False) else 2
        return QSize(THUMB + 2 * self.PAD, THUMB + 2 * self.PAD + lines * line + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        painter.save()
        pal = option.palette
        style = option.widget.style() if option.widget else None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        opt.icon = QIcon()
        if style is not None:  # selection and hover backgrounds, as the platform draws them
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter,
                                option.widget)
        r = option.rect
        thumb = QRect(r.x() + (r.width() - THUMB) // 2, r.y() + self.PAD, THUMB, THUMB)
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        if pix is not None and not pix.isNull():
            painter.drawPixmap(thumb, pix)
        else:
            painter.fillRect(thumb, pal.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawRect(thumb.adjusted(0, 0, -1, -1))
            failed = index.data(ThumbFailedRole)
            painter.drawText(thumb, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             _missing_text() if failed else "…")
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if option.state & QStyle.StateFlag.State_HasFocus and option.widget is not None \
                and option.widget.hasFocus():  # a focus ring that shows in every theme
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r.adjusted(1, 1, -1, -1))
        text_role = (QPalette.ColorRole.HighlightedText if selected
                     else QPalette.ColorRole.Text)
        line = option.fontMetrics.height()
        y = thumb.bottom() + 4
        rank = index.data(RankRole)
        distance = index.data(DistanceRole)
        painter.setPen(pal.color(text_role))
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(QRect(r.x() + self.PAD, y, THUMB, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"#{rank}")
        painter.setFont(option.font)
        painter.drawText(QRect(r.x() + self.PAD, y, THUMB, line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         f"{distance:.3f}")
        if getattr(index.model(), "person_line", False):
            y += line
            name = index.data(PersonRole) or ""
            size = index.data(GroupSizeRole)
            count = f"×{size}" if size is not None else ""
            fm = option.fontMetrics
            room = THUMB - (fm.horizontalAdvance(count) + 6 if count else 0)
            if count:
                painter.drawText(QRect(r.x() + self.PAD, y, THUMB, line),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 count)
            if name:
                painter.setFont(bold)
                painter.drawText(QRect(r.x() + self.PAD, y, room, line),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 painter.fontMetrics().elidedText(
                                     name, Qt.TextElideMode.ElideRight, room))
                painter.setFont(option.font)
        if index.data(SmallRole):
            _small_mark(painter, thumb, option)
        tier = index.data(TierRole)
        if index.data(QueryPhotoRole):  # the query photo itself: no verdict to give
            tier = "same"
            text = _this_photo_text()
        elif tier:
            text = _same_text() if tier == "same" else _possible_text()
        if tier:
            fm = option.fontMetrics
            w = fm.horizontalAdvance(text) + 12
            badge = QRect(r.x() + (r.width() - w) // 2, y + line + 2, w, line)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            color = QColor(pal.color(QPalette.ColorRole.Highlight))
            if selected:
                color = pal.color(QPalette.ColorRole.HighlightedText)
            if tier == "same":  # filled
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(color)
                painter.drawRoundedRect(badge, line / 2, line / 2)
                painter.setPen(pal.color(QPalette.ColorRole.Highlight) if selected
                               else pal.color(QPalette.ColorRole.HighlightedText))
            else:  # "possibly": outlined, so it reads as weaker
                painter.setPen(color)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(badge.adjusted(0, 0, -1, -1), line / 2, line / 2)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


def _same_text() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ResultDelegate", "same person")


def _this_photo_text() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ResultDelegate", "this photo")


def _possible_text() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ResultDelegate", "possibly")


def _small_text() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ResultDelegate", "small face")


def _small_mark(painter: QPainter, thumb: QRect, option) -> None:
    """A label in the thumbnail's corner: this face is too small to judge (shared by the
    results grid and the People window)."""
    text = _small_text()
    fm = option.fontMetrics
    w, h = fm.horizontalAdvance(text) + 8, fm.height()
    rect = QRect(thumb.left() + 2, thumb.bottom() - h - 1, w, h)
    pal = option.palette
    painter.fillRect(rect, pal.color(QPalette.ColorRole.ToolTipBase))
    painter.setPen(pal.color(QPalette.ColorRole.ToolTipText))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _missing_text() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ResultDelegate", "photo not found")


class ResultsView(QListView):
    """Icon-mode grid of results, uniform item sizes (1000 results scroll smoothly).

    Keyboard: the arrow keys move between results, Enter opens the current one
    (``openRequested(row)``, as a double-click does), the Menu key or Shift+F10 asks for its
    context menu (``customContextMenuRequested`` at the current result, as a right-click
    does)."""

    openRequested = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        setup_grid(self, ResultDelegate(self))
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setAcceptDrops(False)  # drops go to the window
        self.doubleClicked.connect(lambda idx: self.openRequested.emit(idx.row()))
        self.setAccessibleName(self.tr("Results"))

    def keyPressEvent(self, event) -> None:
        key, mods = event.key(), event.modifiers()
        current = self.currentIndex()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current.isValid():
            self.openRequested.emit(current.row())
            event.accept()
        elif (key == Qt.Key.Key_F10 and mods & Qt.KeyboardModifier.ShiftModifier) or \
                key == Qt.Key.Key_Menu:
            self._menu_at_current()
            event.accept()
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:
        from PySide6.QtGui import QContextMenuEvent

        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            self._menu_at_current()
            event.accept()
        else:
            super().contextMenuEvent(event)

    def _menu_at_current(self) -> None:
        """The context menu of the current result, opened where it is (keyboard)."""
        current = self.currentIndex()
        if not current.isValid() and self.model() is not None and self.model().rowCount():
            current = self.model().index(0, 0)
            self.setCurrentIndex(current)
        if current.isValid():
            self.scrollTo(current)
            self.customContextMenuRequested.emit(self.visualRect(current).center())

    def show_first(self) -> None:
        """A new set of results: back to the top, the first result current (so Tab then
        Enter opens it)."""
        self.scrollToTop()
        model = self.model()
        if model is not None and model.rowCount():
            self.setCurrentIndex(model.index(0, 0))
