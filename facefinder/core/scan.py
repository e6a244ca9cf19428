"""Finding photos in a folder and indexing them into a library (the job both front ends drive).

:func:`index_folder` is a generator of :class:`IndexProgress`; its last item has ``summary``
set. It processes only new and changed files (by size and mtime), drops the faces of deleted
files, commits every few photos, and stops between batches when ``should_stop()`` is true. A run
that is cancelled or killed resumes where it stopped: what was committed is kept.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from typing import Callable, Iterator

from .images import PHOTO_EXTENSIONS, check_file
from .library import Library, display_path, path_key
from .pipeline import Engine, PhotoResult
from .upgrade import library_pipeline, record_new_library
from .errors import FacefinderError
from .face_names import NamesSummary, read_names


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class Candidate:
    path: str  # as the OS wants it (may hold surrogate escapes)
    size: int
    mtime_ns: int
    error: str | None = None  # set when the file cannot even be opened


@dataclass
class IndexSummary:
    folder: str
    photos_found: int = 0
    processed: int = 0
    unchanged: int = 0
    removed: int = 0
    faces_added: int = 0
    photos_with_faces: int = 0
    photos_without_faces: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    faces_named: int = 0  # faces named from the photos' XMP (face_names.read_names)
    faces_drawn: int = 0  # faces added from XMP regions no detected face matched
    xmp_problems: list[Skipped] = field(default_factory=list)  # damaged XMP, name conflicts

    def merge(self, other: "IndexSummary") -> "IndexSummary":
        """Add ``other`` (another folder's summary, a refresh) into this one and return it:
        counts and seconds add up, lists join, ``cancelled`` if either was; ``folder`` stays."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, bool):
                setattr(self, f.name, mine or theirs)
            elif isinstance(mine, (int, float)):
                setattr(self, f.name, mine + theirs)
            elif isinstance(mine, list):
                mine.extend(theirs)
        return self


@dataclass
class IndexProgress:
    """``stage`` is 'scanning', 'indexing', 'names' (reading names from XMP) or 'done';
    counts refer to photos to process (to read, in 'names')."""

    stage: str
    done: int = 0
    total: int = 0
    faces: int = 0
    current: str = ""
    rate: float = 0.0  # photos per second
    eta: float | None = None  # seconds
    last_faces: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)
    summary: IndexSummary | None = None


def find_photos(folder: str | os.PathLike, recursive: bool = True,
                extensions: frozenset[str] = PHOTO_EXTENSIONS,
                should_stop: Callable[[], bool] = lambda: False,
                sidecars: set[str] | None = None) -> tuple[list[Candidate], list[Skipped]]:
    """Every file under ``folder`` with a photo extension, sorted, plus folders that could not
    be read. Follows symbolic links to folders once each (loops are cut); broken links, link
    loops and non-regular files come back as candidates with ``error`` set. ``sidecars``, when
    given, receives the paths of the ``.xmp`` files seen on the way."""
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(folder):
        raise FacefinderError(f"{folder}: not a folder")
    found: list[Candidate] = []
    problems: list[Skipped] = []
    visited: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        problems.append(Skipped(_display(exc.filename or folder), f"folder cannot be read "
                                f"({exc.strerror or exc})"))

    for root, dirs, files in os.walk(folder, onerror=onerror, followlinks=True):
        if should_stop():
            break
        try:
            st = os.stat(root)
            ident = (st.st_dev, st.st_ino)
        except OSError:
            dirs[:] = []
            continue
        if ident in visited:  # a symlink loop, or a folder reached twice
            dirs[:] = []
            continue
        visited.add(ident)
        dirs.sort()
        if not recursive:
            dirs[:] = []
        for name in sorted(files):
            if sidecars is not None and name[-4:].lower() == ".xmp":
                sidecars.add(os.path.join(root, name))
            if os.path.splitext(name)[1].lower() not in extensions:
                continue
            full = os.path.join(root, name)
            found.append(_candidate(full))
        # Names with photo extensions that are symlink loops show up in `files` too (os.walk
        # cannot stat them), so they are handled by _candidate above.
    return found, problems


def _candidate(full: str) -> Candidate:
    st, problem = check_file(full)
    size, mtime = (st.st_size, st.st_mtime_ns) if st is not None else (-1, -1)
    return Candidate(full, size, mtime, problem)


def _display(path) -> str:
    return display_path(os.fsencode(path)) if isinstance(path, str) else display_path(path)


def index_folder(library: Library, engine: Engine, folder: str | os.PathLike,
                 recursive: bool = True, should_stop: Callable[[], bool] = lambda: False,
                 extensions: frozenset[str] = PHOTO_EXTENSIONS,
                 commit_every: int = 8, commit_seconds: float = 2.0) -> Iterator[IndexProgress]:
    """Index ``folder`` into ``library``; yields progress, the last item carrying the summary.

    Faces are embedded with the library's own pipeline (a new library records the engine's),
    so an old library stays consistent until it is upgraded (:mod:`facefinder.core.upgrade`)."""
    record_new_library(library, engine.pipeline.name)
    with engine.using(library_pipeline(library)):
        yield from _index_folder(library, engine, folder, recursive, should_stop, extensions,
                                 commit_every, commit_seconds)


def _index_folder(library: Library, engine: Engine, folder: str | os.PathLike,
                  recursive: bool, should_stop: Callable[[], bool],
                  extensions: frozenset[str], commit_every: int, commit_seconds: float
                  ) -> Iterator[IndexProgress]:
    t0 = time.monotonic()
    folder = os.path.abspath(os.fspath(folder))
    summary = IndexSummary(folder=_display(folder))
    yield IndexProgress(stage="scanning", current=summary.folder)
    sidecars: set[str] = set()
    candidates, problems = find_photos(folder, recursive, extensions, should_stop, sidecars)
    summary.skipped.extend(problems)
    summary.photos_found = len(candidates)
    library.add_folder(folder, recursive)

    known = library.known_photos(under=folder)
    if not recursive:
        known = {k: v for k, v in known.items()
                 if os.path.dirname(k) == path_key(folder)}
    seen = {path_key(c.path) for c in candidates}
    gone = [k for k in known if k not in seen]
    if gone and not should_stop():
        library.remove_photos(gone)
        summary.removed = len(gone)

    judged_by = engine.judged_by
    todo: list[Candidate] = []
    for c in candidates:
        prev = known.get(path_key(c.path))
        # A photo judged to hold no face by another model or other settings is looked at again
        # (say the detector was damaged then, or the smallest face asked for is smaller now).
        if prev is not None and prev[1] == c.size and prev[2] == c.mtime_ns \
                and not (prev[3] == "noface" and prev[4] != judged_by):
            summary.unchanged += 1
        else:
            todo.append(c)
    # Files that cannot even be opened are recorded without touching the model.
    unopenable = [c for c in todo if c.error]
    todo = [c for c in todo if not c.error]
    if unopenable:
        library.store_results([(PhotoResult(c.path, error=c.error), c.size, c.mtime_ns)
                               for c in unopenable])
        summary.skipped.extend(Skipped(_display(c.path), c.error) for c in unopenable)

    total = len(todo)
    if todo:
        library.load_index()  # new faces then go into the index as they are committed
    progress = IndexProgress(stage="indexing", total=total)
    yield progress
    by_path = {c.path: c for c in todo}
    batch: list[tuple[PhotoResult, int, int]] = []
    last_commit = time.monotonic()
    t_start = time.monotonic()

    def commit() -> None:
        nonlocal last_commit
        if batch:
            library.store_results(batch, judged_by)
            batch.clear()
        last_commit = time.monotonic()

    try:
        for result in engine.process_paths([c.path for c in todo], should_stop):
            c = by_path[result.path]
            batch.append((result, c.size, c.mtime_ns))
            summary.processed += 1
            if result.error:
                summary.skipped.append(Skipped(_display(result.path), result.error))
            elif result.faces:
                summary.photos_with_faces += 1
                summary.faces_added += len(result.faces)
            else:
                summary.photos_without_faces += 1
            if len(batch) >= commit_every or time.monotonic() - last_commit > commit_seconds:
                commit()
            elapsed = time.monotonic() - t_start
            progress.done = summary.processed
            progress.faces = summary.faces_added
            progress.current = _display(result.path)
            progress.rate = summary.processed / elapsed if elapsed > 0 else 0.0
            progress.eta = ((total - progress.done) / progress.rate) if progress.rate else None
            progress.last_faces = [(result.path, f.box) for f in result.faces]
            yield progress
            if should_stop():
                break
    finally:
        # Runs on normal end, on cancel, on Ctrl+C and when the caller closes the generator:
        # everything processed so far is committed and the index saved.
        commit()
        library.save_index()
    names_done = False
    if not should_stop():
        names_done = yield from _names_from_xmp(library, engine, folder, recursive, sidecars,
                                                summary, should_stop)
    summary.cancelled = summary.processed < total or not names_done
    summary.seconds = time.monotonic() - t0
    yield IndexProgress(stage="done", done=summary.processed, total=total,
                        faces=summary.faces_added, summary=summary)


def _names_from_xmp(library: Library, engine: Engine, folder: str, recursive: bool,
                    sidecars: set[str], summary: IndexSummary,
                    should_stop: Callable[[], bool]) -> Iterator[IndexProgress]:
    """A step of its own after indexing: names (and faces drawn by hand) from the XMP of the
    folder's photos that are new, indexed again, or whose sidecar changed (see
    :mod:`facefinder.core.face_names`). Returns whether it read them all (not stopped)."""
    known = library.known_photos(under=folder)
    photos = {k: v[0] for k, v in known.items() if v[3] in ("ok", "noface")
              and (recursive or os.path.dirname(k) == path_key(folder))}
    found = NamesSummary()
    progress = IndexProgress(stage="names", faces=summary.faces_added)
    try:
        for done, total, current in read_names(library, engine, photos, sidecars, found,
                                               should_stop):
            progress.done, progress.total, progress.current = done, total, current
            yield progress
        return not should_stop()
    finally:
        summary.faces_named += found.faces_named
        summary.faces_drawn += found.faces_drawn
        summary.xmp_problems.extend(Skipped(p, r) for p, r in found.problems)
        library.save_index()


def refresh_library(library: Library, engine: Engine,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[IndexProgress]:
    """Index every folder the library knows again (only what changed is processed)."""
    for folder, recursive in library.folders():
        if not os.path.isdir(folder):
            continue
        yield from index_folder(library, engine, folder, recursive, should_stop)
        if should_stop():
            return
