"""Face names that follow people between programs: XMP sidecars out, XMP names in.

**Out** (:func:`write_names`): for every photo with a face of a named person, ``photo.jpg.xmp``
gets MWG and Microsoft regions, ``Iptc4xmpExt:PersonInImage``, ``digiKam:TagsList`` and
``lr:hierarchicalSubject`` (see :mod:`facefinder.core.xmp`); the photo itself is never touched.
An existing sidecar is updated, keeping everything facefinder does not own; a damaged one is
never overwritten. Photos changed since they were indexed are skipped (their boxes could be
wrong).

**In** (:func:`read_names`, a step of the indexing job): the face regions of a photo's sidecar
(``photo.jpg.xmp``, then ``photo.xmp``) or, when no sidecar has any, of the XMP inside the photo
are matched to the faces facefinder found (intersection over union above 0.5, in the photo as
shown); matched faces take the region's name (:func:`facefinder.core.people.name_faces`), and a
named region over no detected face (drawn by hand) becomes a face of its own, cropped and
embedded like any other, with confidence :data:`DRAWN_CONFIDENCE` as its mark. Each photo's
XMP is read once: the ``xmp_read`` table remembers which photo row and which sidecar (size,
time) were read, so a refresh reads only new photos, photos indexed again and sidecars that
changed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .errors import FacefinderError, ImageError
from .library import Library, display_path, fs_path
from .orientation import iou, normalize, shown_to_stored, stored_to_shown, to_pixels
from .xmp import SAME_FACE_IOU, Region, XmpError
from . import people, xmp, xmp_files
from .. import __version__
from .images import load_photo
from .pipeline import Face
from .xmp_files import Geometry, find_sidecars

DRAWN_CONFIDENCE = 0.0
"""The confidence stored for a face drawn by hand in another program (a region read from XMP
that no detected face matches). The detector's faces are all above 0.6 (MTCNN's first
threshold), so 0 marks these faces without a new column."""

MIN_DRAWN_PX = 10
"""Regions smaller than this (shorter side, photo pixels) are not made into faces."""

NAME_BATCH = 200
"""Photos whose names are given (and whose reading is recorded) in one go."""

_READ_TABLE = """
CREATE TABLE IF NOT EXISTS xmp_read (
    path BLOB PRIMARY KEY,          -- the photo, as photos.path
    photo_id INTEGER NOT NULL,      -- photos.id when read: a photo stored again is read again
    sidecar BLOB,                   -- the first sidecar found (NULL: none)
    sidecar_size INTEGER,           -- the sidecars' sizes added up, and the latest mtime:
    sidecar_mtime_ns INTEGER,       -- a changed sidecar is read again
    read_at REAL NOT NULL
)"""


# -- writing -------------------------------------------------------------------------------------
@dataclass
class SidecarChange:
    """A sidecar written (or, in a dry run, to be written): ``action`` 'create' or 'update'."""

    photo: str
    sidecar: str
    action: str
    names: list[str]


@dataclass
class WriteReport:
    changes: list[SidecarChange] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    dry_run: bool = False

    @property
    def created(self) -> int:
        return sum(1 for c in self.changes if c.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if c.action == "update")


def _photo_faces(library: Library, person: str | None) -> dict[int, tuple[tuple, list]]:
    """``{photo id: ((path, size, mtime_ns, width, height), [(box, name), ...])}`` for the
    photos with faces of named people (of ``person`` only, when given)."""
    named = people.named_faces(library, person)
    if person is not None and not named:
        raise FacefinderError(f"No person named '{person}' in the library "
                              "(`facefinder people` lists them).")
    rows = library.face_rows(list(named))
    by_photo: dict[int, list] = {}
    for fid, row in rows.items():
        by_photo.setdefault(row.photo_id, []).append((row.box, named[fid]))
    info: dict[int, tuple] = {}
    ids = list(by_photo)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for pid, path, size, mtime, w, h in library.query(
                "SELECT id, path, size, mtime_ns, width, height FROM photos WHERE id IN "
                f"({','.join('?' * len(chunk))})", chunk):
            info[pid] = (path, size, mtime, w, h)
    return {pid: (info[pid], sorted(faces, key=lambda f: (f[0][0], f[0][1])))
            for pid, faces in by_photo.items() if pid in info}


def write_names(library: Library, person: str | None = None, dry_run: bool = False,
                progress: Callable[[int, int], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> WriteReport:
    """Write the names of the library's named people into their photos' sidecars (only
    ``person``'s, when given); ``dry_run``: work out what would change, write nothing.
    ``progress(done, total)`` after each photo."""
    report = WriteReport(dry_run=dry_run)
    photos = sorted(_photo_faces(library, person).values(), key=lambda p: p[0][0])
    for done, ((key, size, mtime, width, height), faces) in enumerate(photos, 1):
        if should_stop():
            break
        path, shown = fs_path(key), display_path(key)
        try:
            change = _write_one(path, shown, size, mtime, (width, height), faces, dry_run,
                                __version__)
        except _Skip as why:
            report.skipped.append((shown, str(why)))
        else:
            if change is None:
                report.unchanged += 1
            else:
                report.changes.append(change)
        if progress:
            progress(done, len(photos))
    return report


class _Skip(Exception):
    """A photo whose sidecar is not written; ``str()`` says why."""


def _write_one(path: str, shown: str, size: int, mtime: int, dims: tuple[int, int],
               faces: list, dry_run: bool, version: str) -> SidecarChange | None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _Skip(f"the photo cannot be read ({exc.strerror or exc})") from None
    if (st.st_size, st.st_mtime_ns) != (size, mtime):
        raise _Skip("the photo changed since it was indexed; refresh the library first")
    try:
        geo = xmp_files.geometry(path)
    except (OSError, ImageError) as exc:
        raise _Skip(f"the photo's header cannot be read ({exc})") from None
    if geo.shown != tuple(dims):
        raise _Skip("the photo changed since it was indexed; refresh the library first")
    ours = [Region(shown_to_stored(normalize(box, *dims), geo.orientation), name, "facefinder")
            for box, name in faces]
    sidecar = xmp_files.sidecar_for_writing(path)
    exists = os.path.lexists(sidecar)
    if exists:
        if not os.path.isfile(sidecar):
            raise _Skip(f"the sidecar {os.path.basename(sidecar)} is not a file; not changed")
        if not os.access(sidecar, os.W_OK):
            raise _Skip(f"the sidecar {os.path.basename(sidecar)} is read-only; not changed")
        try:
            doc = xmp.parse(xmp_files.read_file(sidecar))
        except XmpError as exc:
            raise _Skip(f"the sidecar {os.path.basename(sidecar)} is damaged ({exc}); "
                        "not changed") from None
        except OSError as exc:
            raise _Skip(f"the sidecar cannot be read ({exc.strerror or exc}); not changed") \
                from None
        old = xmp.read_faces(doc)
        if old.regions and _shown_frame(old.applied_to, geo):
            raise _Skip(f"the regions in {os.path.basename(sidecar)} are relative to the turned "
                        "photo, not to the stored image as MWG specifies; not changed")
        before = xmp.summary(doc)
    else:
        doc = xmp.new_document(f"facefinder {version}")
        before = None
    xmp.set_faces(doc, ours, (geo.width, geo.height))
    if before is not None and xmp.summary(doc) == before:
        return None
    change = SidecarChange(shown, display_path(os.fsencode(sidecar)),
                           "update" if exists else "create",
                           list(dict.fromkeys(n for _b, n in faces)))
    if not dry_run:
        try:
            xmp_files.write_sidecar(sidecar, xmp.serialize(doc))
        except OSError as exc:
            raise _Skip(xmp_files.write_problem(exc, sidecar)) from None
    return change


def _shown_frame(applied_to: tuple[int, int] | None, geo: Geometry) -> bool:
    """True when regions were written relative to the photo as shown rather than the stored
    image: a turned (orientation 5-8), non-square photo whose AppliedToDimensions are the shown
    size. MWG says the stored one; some programs got this wrong."""
    return (geo.orientation >= 5 and geo.width != geo.height and applied_to is not None
            and tuple(applied_to) == geo.shown)


# -- reading -------------------------------------------------------------------------------------
@dataclass
class NamesSummary:
    """What reading XMP names did in one indexing job."""

    photos_read: int = 0  # photos whose XMP was read
    photos_with_regions: int = 0
    faces_named: int = 0  # faces that took a name from XMP
    faces_drawn: int = 0  # faces added from regions no detected face matched
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _ensure_table(library: Library) -> None:
    if getattr(library, "_xmp_table", False):
        return
    if not library.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='xmp_read'"):
        with library.transaction() as cur:
            cur.execute(_READ_TABLE)
    library._xmp_table = True


def _sidecar_stamp(found: list[str]) -> tuple[bytes | None, int | None, int | None]:
    size, mtime = 0, 0
    for name in found:
        try:
            st = os.stat(name)
        except OSError:
            continue
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return (os.fsencode(found[0]), size, mtime) if found else (None, None, None)


def to_read(library: Library, photos: dict[bytes, int], sidecars: set[str] | None
            ) -> list[tuple[bytes, int, list[str], tuple]]:
    """The photos (``{path key: photo id}``) whose XMP has not been read as it is now:
    ``[(key, photo id, sidecars, sidecar stamp)]``. ``sidecars``: the ``.xmp`` files a folder
    walk saw (None: look on disk)."""
    _ensure_table(library)
    done = {r[0]: tuple(r[1:]) for r in library.query(
        "SELECT path, photo_id, sidecar, sidecar_size, sidecar_mtime_ns FROM xmp_read")}

    out = []
    for key, photo_id in photos.items():
        found = find_sidecars(fs_path(key), sidecars)
        stamp = _sidecar_stamp(found)
        if done.get(key) != (photo_id, *stamp):
            out.append((key, photo_id, found, stamp))
    return out


def _regions(path: str, sidecars: list[str]) -> tuple[list[Region], tuple | None, str | None]:
    """The face regions of the first sidecar that has any, else of the photo's own XMP:
    ``(regions, AppliedToDimensions, problem)``; ``problem`` names a damaged source."""
    problems = []
    for name in sidecars:
        try:
            faces = xmp.read_faces(xmp.parse(xmp_files.read_file(name)))
        except XmpError as exc:
            problems.append(f"the sidecar {os.path.basename(name)} is damaged ({exc}); "
                            "its names were not read")
            continue
        except OSError as exc:
            problems.append(f"the sidecar {os.path.basename(name)} cannot be read "
                            f"({exc.strerror or exc})")
            continue
        if faces.regions:
            return faces.regions, faces.applied_to, "; ".join(problems) or None
    try:
        packets = xmp_files.embedded_xmp(path)
    except (OSError, XmpError) as exc:
        packets = []
        problems.append(f"the XMP inside the photo cannot be read ({exc})")
    regions: list[Region] = []
    applied = None
    for packet in packets:
        try:
            faces = xmp.read_faces(xmp.parse(packet))
        except XmpError as exc:
            problems.append(f"the XMP inside the photo is damaged ({exc}); its names were not "
                            "read")
            continue
        regions += [r for r in faces.regions
                    if not any(iou(r.rect, q.rect) > SAME_FACE_IOU for q in regions)]
        applied = applied or faces.applied_to
    return regions, applied, "; ".join(problems) or None


def _match(regions: list[tuple[float, float, float, float]], boxes: list[tuple]
           ) -> dict[int, int]:
    """Region index -> box index, best overlaps first, each used once, IoU above 0.5."""
    pairs = sorted(((iou(r, b), i, j) for i, r in enumerate(regions)
                    for j, b in enumerate(boxes)), reverse=True)
    out: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in pairs:
        if score <= SAME_FACE_IOU:
            break
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def _apply(library: Library, engine, key: bytes, photo_id: int, regions: list[Region],
           applied, summary: NamesSummary) -> dict[int, str]:
    """Match one photo's regions to its faces, add faces for the others; ``{face id: name}``."""
    path = fs_path(key)
    geo = xmp_files.geometry(path)
    width, height = geo.shown
    if _shown_frame(applied, geo):
        shown_rects = [r.rect for r in regions]
    else:
        shown_rects = [stored_to_shown(r.rect, geo.orientation) for r in regions]
    boxes = [to_pixels(r, width, height) for r in shown_rects]
    faces = library.query("SELECT id, x, y, w, h FROM faces WHERE photo_id = ? ORDER BY id",
                          (photo_id,))
    matched = _match(boxes, [f[1:] for f in faces])
    names = {faces[j][0]: regions[i].name for i, j in matched.items() if regions[i].name}
    drawn = []
    for i, region in enumerate(regions):
        if i in matched or not region.name:
            # An unnamed region over no face facefinder found says only that another program
            # saw a face there (often another detector's guess): not worth a face of its own.
            continue
        x, y, w, h = boxes[i]
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(float(width), x + w), min(float(height), y + h)
        if min(x1 - x0, y1 - y0) < MIN_DRAWN_PX:
            continue
        drawn.append((i, (int(round(x0)), int(round(y0)), int(round(x1 - x0)),
                          int(round(y1 - y0)))))
    if drawn:
        photo = load_photo(path)
        # Cropped the way the engine's pipeline (the library's own, during indexing) cuts the
        # detector's faces, so a drawn face is comparable with them (no landmarks: no rotation).
        embeddings = engine.embed_faces(engine.face_tensors(
            photo, [Face(b, DRAWN_CONFIDENCE, None, None) for _i, b in drawn]))
        new = [Face(b, DRAWN_CONFIDENCE, np.zeros((5, 2), np.float32), e)
               for (_i, b), e in zip(drawn, embeddings)]
        ids = library.add_faces(path, new)
        summary.faces_drawn += len(ids)
        names.update({fid: regions[i].name for fid, (i, _b) in zip(ids, drawn)
                      if regions[i].name})
    return names


def read_names(library: Library, engine, photos: dict[bytes, int],
               sidecars: set[str] | None, summary: NamesSummary,
               should_stop: Callable[[], bool] = lambda: False) -> Iterator[tuple[int, int, str]]:
    """Read the names of ``photos`` (``{path key: photo id}``, indexed already) from their XMP,
    where it is new or changed; yields ``(done, total, photo)`` as it goes and fills
    ``summary``. Damaged XMP is one line in ``summary.problems``, never an error."""
    todo = to_read(library, photos, sidecars)
    names: dict[int, str] = {}
    where: dict[int, str] = {}
    read: list[tuple] = []

    def flush() -> None:
        if names:
            result = people.name_faces(library, names)
            summary.faces_named += result.named
            for fid, asked, kept in result.conflicts:
                summary.problems.append((where.get(fid, "?"), (
                    f"the XMP names a face '{asked}', which facefinder has as '{kept}'; kept "
                    f"'{kept}'") if kept else (
                    f"the XMP names a face '{asked}', which was taken out of that person; "
                    "left out")))
            names.clear()
            where.clear()
        if read:
            now = time.time()
            with library.transaction() as cur:
                cur.executemany("INSERT OR REPLACE INTO xmp_read(path, photo_id, sidecar, "
                                "sidecar_size, sidecar_mtime_ns, read_at) VALUES "
                                "(?, ?, ?, ?, ?, ?)", [(*r, now) for r in read])
            read.clear()

    last_yield = 0.0
    for done, (key, photo_id, found, stamp) in enumerate(todo, 1):
        if should_stop():
            break
        shown = display_path(key)
        regions, applied, problem = _regions(fs_path(key), found)
        summary.photos_read += 1
        if problem:
            summary.problems.append((shown, problem))
        if regions:
            summary.photos_with_regions += 1
            try:
                got = _apply(library, engine, key, photo_id, regions, applied, summary)
            except (OSError, ImageError) as exc:
                summary.problems.append((shown, f"the names in its XMP were not read: {exc}"))
                got = {}
            names.update(got)
            where.update({fid: shown for fid in got})
        read.append((key, photo_id, *stamp))
        if len(read) >= NAME_BATCH:
            flush()
        # Reading a photo without regions takes microseconds: report a few times a second.
        if regions or done == len(todo) or time.monotonic() - last_yield > 0.25:
            last_yield = time.monotonic()
            yield done, len(todo), shown
    flush()
    if todo:
        with library.transaction() as cur:  # photos deleted from the library
            cur.execute("DELETE FROM xmp_read WHERE path NOT IN (SELECT path FROM photos)")
