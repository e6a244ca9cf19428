"""What the app's face grids share: the results grid (:mod:`facefinder.gui.results`) and the
People window's grids (:mod:`facefinder.gui.people_view`).

* one table of custom item roles (each number means one thing in every grid);
* :data:`THUMB`, the side of a face crop in a tile;
* :class:`TileModel`, a list model whose rows show face crops from the shared
  :class:`~facefinder.gui.thumbnails.ThumbnailLoader`, repainting a row when its crop arrives;
* :func:`setup_grid`, the icon-mode list view settings every grid uses.
"""

from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QAbstractListModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyledItemDelegate

from .thumbnails import ThumbnailLoader

THUMB = 128
"""Side of a tile's face crop, in pixels."""

_USER = Qt.ItemDataRole.UserRole
FaceIdRole = _USER + 1
"""The tile's face id in the library."""
PathRole = _USER + 2
BoxRole = _USER + 3
"""(x, y, w, h) of the face in its photo's pixels."""
SmallRole = _USER + 4
"""True: the face is too small to judge (see :func:`facefinder.core.verify.is_small`)."""
ThumbFailedRole = _USER + 5
"""True: the face's photo moved or cannot be read any more."""
DistanceRole = _USER + 6
RankRole = _USER + 7
SameRole = _USER + 8
PersonRole = _USER + 9
"""The name of the person the face belongs to (None: no group, or an unnamed one)."""
GroupSizeRole = _USER + 10
"""Faces in the face's group (distinct-people results only; else None)."""
TierRole = _USER + 11
"""The verdict: "same", "possible" or "" (see :class:`facefinder.core.verify.Verdict`)."""
QueryPhotoRole = _USER + 12
"""True: the result is a face of the query photo itself."""
PersonIdRole = _USER + 13
SizeRole = _USER + 14
"""A person's number of faces (People)."""


class TileModel(QAbstractListModel):
    """Rows that each show a face crop (a placeholder until the loader has it). Subclasses call
    :meth:`index_tiles` after their rows change, with each row's ``(row, path, box)``, and
    answer the decoration role with :meth:`thumbnail`."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self._where: dict[tuple, list[int]] = {}
        loader.ready.connect(self._thumb_ready)

    def index_tiles(self, tiles: Iterable[tuple[int, str, tuple]]) -> None:
        """Remember which rows show which crop (several rows may show the same one)."""
        self._where = {}
        for row, path, box in tiles:
            self._where.setdefault((path, tuple(int(v) for v in box), THUMB), []).append(row)

    def thumbnail(self, path: str, box: tuple):
        """The face crop, or a placeholder (the loader makes it and says so)."""
        return self.loader.get(path, tuple(box), THUMB)

    def _thumb_ready(self, key) -> None:
        for row in self._where.get(key, ()):
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


def setup_grid(view: QListView, delegate: QStyledItemDelegate, multi: bool = False) -> None:
    """Icon mode, reflowing with the width, uniform tiles, no editing, smooth scrolling."""
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setUniformItemSizes(True)
    view.setItemDelegate(delegate)
    view.setWordWrap(False)
    view.setSpacing(4)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                          else QAbstractItemView.SelectionMode.SingleSelection)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
