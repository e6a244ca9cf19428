"""People: the library's faces grouped by person, kept in the library's own catalog.

The grouping itself (neighbours, the edge graph, Chinese whispers) is pure numpy in
:mod:`facefinder.core.grouping`; this module reads faces from a library, stores the groups,
and applies the user's corrections.

Tables (created here, in the library's ``catalog.sqlite``)::

    people          id, name (NULL until the user names it), created (unix s),
                    confirmed (1 once the user named or merged it: its faces are never
                    grouped again, so names and merges survive), size (its faces; kept by
                    triggers on face_person, indexed for "largest first" pages)
    face_person     face_id -> person_id (cascades away with the face)
    face_exclusion  (face_id, person_id): the user moved the face out of that person (or said
                    "no" in the review queue); it is never put back there
    corrections     id, at, kind, data (JSON), undone: the user's corrections, newest last, with
                    what undoing each needs (:mod:`facefinder.core.corrections`)
    review_answers  (face_id, person_id, answer): answers given in the review queue

``people`` also holds ``hidden`` (1: kept out of the list, a stranger) and ``cover`` (the face
the user chose to show the person by, or NULL).

and one meta key, ``people_grouped`` = ``{"max_face", "min_face"}``: every face up to that id
has been looked at by a grouping with that smallest face size, so the next one only needs the
faces above it (ids are never reused).

:func:`cluster` places faces that have no person yet (incrementally: only the new faces and
their nearest neighbours are read, through the library's HNSW index); ``full=True`` groups again
every face the user has not confirmed, and maps the new groups onto the old people by overlap so
that their ids stay. Every write is one transaction; a cancelled run writes nothing. Readers are
paged (:func:`people_page`, :func:`person_faces`) so that a library of a million faces is never
held in Python objects at once.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np

from .grouping import (DEFAULT_CLUSTER_THRESHOLD, NEIGHBOURS, Cancelled, Progress,
                       chinese_whispers, distinct, edge_graph, knn, linked_neighbours, widen)
from .library import Library, sql_statements

__all__ = [
    "DEFAULT_CLUSTER_THRESHOLD", "MIN_GROUP_FACE", "NEIGHBOURS", "EXACT_LIMIT", "Cancelled",
    "Person", "ClusterSummary", "NearPerson", "cluster", "unplaced", "count_people",
    "people_page", "people", "person", "person_faces", "person_of", "nearest_people", "rename",
    "merge", "move_out", "ensure_tables", "owners", "MIN_SHOWN", "log_correction",
]

MIN_GROUP_FACE = 40
"""Faces whose box's shorter side is under this many photo pixels are not grouped. Small,
blurred background faces sit close together in FaceNet's space and made the two largest "people"
on the test data (33 and 27 faces, nearly all strangers in the background); leaving them out
costs a little recall on the test photos (README, "Quality") and keeps the view clean."""

EXACT_LIMIT = 20_000
"""Up to this many faces, a full grouping reads every embedding and finds exact neighbours
(numpy); beyond, it asks the library's HNSW index, a chunk of faces at a time."""

GROUPING_EF = 48
"""hnswlib ``ef`` when a full grouping finds every face's neighbours through the index: the
grouping needs the faces under the threshold (the same person), which a small ``ef`` finds
(README, "Scale"), and a million queries at the search's ``ef`` would take minutes."""

_CHUNK = 50_000
"""Faces read (and queried) at a time by a full grouping of a large library."""

_NEW_LIMIT = 50_000
"""More new faces than this are placed by reading the library chunk by chunk (bounded memory)
rather than all at once."""
_TOO_MANY = object()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused
    name TEXT,
    created REAL NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS face_person (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS face_person_person ON face_person(person_id);
CREATE TABLE IF NOT EXISTS face_exclusion (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL,
    PRIMARY KEY (face_id, person_id)
);
"""

# Schema 2: people.size, kept by triggers (they also fire for rows a deleted face cascades away;
# never write face_person with INSERT OR REPLACE, whose implicit delete fires no trigger).
_SIZE = """
CREATE INDEX IF NOT EXISTS people_by_size ON people(size DESC, id);
CREATE TRIGGER IF NOT EXISTS face_person_added AFTER INSERT ON face_person BEGIN
    UPDATE people SET size = size + 1 WHERE id = NEW.person_id;
END;
CREATE TRIGGER IF NOT EXISTS face_person_removed AFTER DELETE ON face_person BEGIN
    UPDATE people SET size = size - 1 WHERE id = OLD.person_id;
END;
CREATE TRIGGER IF NOT EXISTS face_person_moved AFTER UPDATE OF person_id ON face_person BEGIN
    UPDATE people SET size = size - 1 WHERE id = OLD.person_id;
    UPDATE people SET size = size + 1 WHERE id = NEW.person_id;
END;
"""
# Schema 3 (issue 14): hidden people, chosen covers, the corrections log, review answers.
_TOOLS = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS review_answers (
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id INTEGER NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (face_id, person_id)
);
"""
_OBJECTS = {"people", "face_person", "face_exclusion", "face_person_person", "people_by_size",
            "face_person_added", "face_person_removed", "face_person_moved", "corrections",
            "review_answers"}
_COLUMNS = {"size", "hidden", "cover"}
_GROUPED = "people_grouped"


@dataclass
class Person:
    """A group of faces. ``face_ids`` are sorted nearest the group's centre first (all of them,
    or the first few when read a page at a time); ``representative`` is the first of them."""

    id: int
    name: str | None
    size: int
    representative: int
    face_ids: list[int] = field(default_factory=list)
    confirmed: bool = False
    hidden: bool = False
    cover: int | None = None  # the face the user chose to show the person by


@dataclass
class ClusterSummary:
    faces: int = 0  # faces in the library
    too_small: int = 0  # faces looked at but left out: under min_face px (see MIN_GROUP_FACE)
    placed: int = 0  # faces given a person by this run
    joined: int = 0  # of those, faces that joined a person that existed before
    people: int = 0  # people after the run
    new_people: int = 0
    full: bool = False
    cancelled: bool = False
    seconds: float = 0.0


@dataclass
class NearPerson:
    """One of the people nearest a query: its face nearest the query and that distance."""

    person_id: int | None  # None: a face not grouped yet (a group of one)
    name: str | None
    size: int
    face_id: int
    distance: float


# -- storage ---------------------------------------------------------------------------------------
_ensured: "weakref.WeakSet[Library]" = weakref.WeakSet()
_ensure_lock = threading.Lock()


def ensure_tables(library: Library) -> None:
    """Create (or bring up to date) the people tables, once per open library. A catalog that has
    them writes nothing (opening must not wait for a busy writer)."""
    if library in _ensured:
        return
    with _ensure_lock:
        have = {name for (name,) in library.query(
            "SELECT name FROM sqlite_master WHERE name IN "
            f"({','.join('?' * len(_OBJECTS))})", sorted(_OBJECTS))}
        columns = {r[1] for r in library.query("PRAGMA table_info(people)")}
        if have != _OBJECTS or not _COLUMNS <= columns:
            with library.transaction() as cur:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        cur.execute(statement)
                columns = {r[1] for r in cur.execute("PRAGMA table_info(people)")}
                if "size" not in columns:
                    cur.execute("ALTER TABLE people ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
                # Whatever the triggers missed (an older catalog, a repaired one) is counted
                # again, before they take over.
                cur.execute("UPDATE people SET size = (SELECT COUNT(*) FROM face_person WHERE "
                            "person_id = people.id)")
                for statement in sql_statements(_SIZE):
                    cur.execute(statement)
                if "hidden" not in columns:
                    cur.execute("ALTER TABLE people ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
                if "cover" not in columns:
                    cur.execute("ALTER TABLE people ADD COLUMN cover INTEGER")
                for statement in sql_statements(_TOOLS):
                    cur.execute(statement)
        _ensured.add(library)


def log_correction(cur, kind: str, data: dict) -> int:
    """Append a correction to the log (inside the caller's transaction); returns its id."""
    cur.execute("INSERT INTO corrections(at, kind, data) VALUES (?, ?, ?)",
                (time.time(), kind, json.dumps(data)))
    return int(cur.lastrowid)


def person_row(cur, person_id: int) -> dict | None:
    """A person's own columns (for the log: enough to make it again)."""
    row = cur.execute("SELECT name, created, confirmed, hidden, cover FROM people WHERE id=?",
                      (person_id,)).fetchone()
    if row is None:
        return None
    return dict(zip(("name", "created", "confirmed", "hidden", "cover"), row))


def _grouped_upto(library: Library, min_face: int) -> int:
    """Every face up to the returned id was looked at by a grouping with ``min_face`` (0: none
    known)."""
    raw = library.meta(_GROUPED)
    try:
        data = json.loads(raw) if raw else {}
        if int(data.get("min_face", -1)) == int(min_face):
            return int(data["max_face"])
    except (ValueError, TypeError, KeyError):
        pass
    return 0


def _in_chunks(values: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    values = [int(v) for v in values]
    for start in range(0, len(values), size):  # SQLite's bound-parameter limit
        yield values[start:start + size]


def _persons_of(library: Library, face_ids: Sequence[int]) -> dict[int, int]:
    """``{face id: person id}`` for those of ``face_ids`` that have a person."""
    out: dict[int, int] = {}
    for chunk in _in_chunks(face_ids):
        out.update(library.query(
            f"SELECT face_id, person_id FROM face_person WHERE face_id IN "
            f"({','.join('?' * len(chunk))})", chunk))
    return out


def _max_person_id(library: Library) -> int:
    top = library.query("SELECT COALESCE(MAX(id), 0) FROM people")[0][0]
    seq = library.query("SELECT seq FROM sqlite_sequence WHERE name='people'")
    return max(int(top), int(seq[0][0]) if seq else 0)


# -- the job ------------------------------------------------------------------------------------
@dataclass
class _Graph:
    """The faces one grouping run looks at: ``ids`` (N,) ascending, ``labels`` (N,) start labels
    (a person id for seeds), ``frozen`` (N,), ``free`` (F,) rows that get a person, and their
    neighbours ``idx``/``dist`` (F, K) (rows of ``ids``, -1 = none)."""

    ids: np.ndarray
    seeds: np.ndarray  # (N,) person id, or -1 for free rows
    free: np.ndarray
    idx: np.ndarray
    dist: np.ndarray
    forbidden: dict[int, set[int]] = field(default_factory=dict)  # free row -> person ids
    max_pid: int = 0  # free rows start with labels above this
    partial: bool = False  # only new faces and their neighbours (not every face of a photo)


def cluster(library: Library, threshold: float = DEFAULT_CLUSTER_THRESHOLD, full: bool = False,
            progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
            min_face: int = MIN_GROUP_FACE) -> ClusterSummary:
    """Group the library's faces into people and store the groups.

    Incremental (default): faces without a person join the person their nearest faces (under
    ``threshold``) belong to, or form new people among themselves; placed faces stay. Only the
    new faces and their neighbours are read. ``full``: every face not in a confirmed person
    (named or merged by the user) is grouped again; the new groups take over the ids of the old
    people they share most faces with. Exclusions are always respected. Faces under ``min_face``
    px (shorter side) are left without a person unless they already have one that stays.
    ``should_stop()`` true: raises nothing, returns with ``cancelled`` and writes nothing."""
    t0 = time.perf_counter()
    ensure_tables(library)
    state = library.state()
    bound = state.max_face  # faces committed later wait for the next run
    summary = ClusterSummary(faces=state.faces, full=full)
    mark = _grouped_upto(library, min_face)
    try:
        graph = None if full or mark == 0 else _new_faces(library, mark, bound, min_face,
                                                          summary, progress)
        if graph is _TOO_MANY or full or mark == 0:
            graph = _all_faces(library, bound, min_face, full, threshold, summary,
                               should_stop, progress)
        if graph is None:
            _remember(library, bound, min_face)
            summary.people = count_people(library)
            summary.seconds = time.perf_counter() - t0
            return summary
        labels = _whispers(library, graph, threshold, should_stop, progress)
    except Cancelled:
        summary.cancelled = True
        summary.seconds = time.perf_counter() - t0
        return summary
    if should_stop and should_stop():
        summary.cancelled = True
        summary.seconds = time.perf_counter() - t0
        return summary
    if progress:
        progress("saving", 0, 1)
    _store(library, graph, labels, full, bound, min_face, summary)
    if progress:
        progress("saving", 1, 1)
    summary.seconds = time.perf_counter() - t0
    return summary


def _all_faces(library: Library, bound: int, min_face: int, full: bool, threshold: float,
               summary: ClusterSummary, should_stop, progress) -> _Graph | None:
    """Every face up to ``bound``: free ones (no person, or with ``full`` none that stays) and
    seeds. Neighbours exact (small libraries) or through the index, a chunk at a time."""
    large = library.state().faces > EXACT_LIMIT
    ids_parts, side_parts, vec_parts = [], [], []
    if large:  # the vectors come from the index's graph below
        last = 0
        while True:
            if should_stop and should_stop():
                raise Cancelled
            part = np.asarray(library.query(
                "SELECT id, MIN(w, h) FROM faces WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                (last, bound, _CHUNK)), np.int64).reshape(-1, 2)
            if not len(part):
                break
            ids_parts.append(part[:, 0])
            side_parts.append(part[:, 1])
            last = int(part[-1, 0])
    else:
        for ids, vectors, boxes in library.embedding_chunks(bound, _CHUNK):
            ids_parts.append(ids)
            side_parts.append(np.minimum(boxes[:, 2], boxes[:, 3]))
            vec_parts.append(vectors)
    ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, np.int64)
    sides = np.concatenate(side_parts) if side_parts else np.zeros(0, np.int64)
    del ids_parts, side_parts
    if full:  # only the people the user confirmed stay
        rows = library.query("SELECT face_id, person_id FROM face_person JOIN people ON "
                             "people.id = person_id WHERE confirmed = 1 ORDER BY face_id")
        arr = np.asarray(rows, np.int64).reshape(-1, 2)
        have, pids = arr[:, 0], arr[:, 1]
    else:
        have, pids = _persons_of_all(library, bound)
    seeds = np.full(len(ids), -1, np.int64)
    if len(have) and len(ids):
        rows = np.searchsorted(ids, have)
        rows[rows == len(ids)] = 0
        hit = ids[rows] == have
        seeds[rows[hit]] = pids[hit]
    big = sides >= min_face
    keep = big | (seeds >= 0)
    summary.too_small = int((~keep).sum())
    ids, seeds = ids[keep], seeds[keep]
    free = np.flatnonzero(seeds < 0)
    if len(free) == 0:
        return None
    if not large:
        emb = np.concatenate(vec_parts)[keep]
        del vec_parts
        idx, dist = knn(emb, NEIGHBOURS, free, should_stop, progress, threshold)
        return _Graph(ids, seeds, free, idx, dist)
    del vec_parts
    idx, dist = _linked(library, ids, free, threshold, should_stop, progress)
    if idx is None:
        idx, dist = _searched(library, bound, ids, free, should_stop, progress)
    return _Graph(ids, seeds, free, idx, dist)


def _linked(library: Library, ids: np.ndarray, free: np.ndarray, threshold: float,
            should_stop, progress) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Neighbours of the ``free`` rows of ``ids`` from the HNSW index's own graph (read from the
    saved file, no searches): each face's nearest linked faces, then their links too, since
    hnswlib keeps only a few of a person's faces among a face's links (see
    :func:`~facefinder.core.grouping.widen`). ``(None, None)`` when no graph can be had."""
    graph = library.index_graph()
    if graph is None:
        return None, None
    if progress:
        progress("neighbours", 0, len(free))
    links, vectors = graph.links, graph.vectors
    pos = np.searchsorted(ids, graph.labels)
    pos[pos >= len(ids)] = 0
    eligible = (ids[pos] == graph.labels) & ~graph.deleted
    del graph
    row_of_node = np.where(eligible, pos, -1)
    node_of_row = np.full(len(ids), -1, np.int64)
    node_of_row[pos[eligible]] = np.flatnonzero(eligible)
    del pos
    # Every eligible face's nearest linked faces (node indices), then one more hop for the free.
    near = np.full((len(links), NEIGHBOURS), -1, np.int64)
    nodes = np.flatnonzero(eligible)
    near[nodes] = linked_neighbours(links, vectors, nodes, NEIGHBOURS, eligible, threshold,
                                    should_stop)[0]
    del links, nodes  # (their memory goes before the next step)
    free_nodes = node_of_row[free]
    have = free_nodes >= 0  # a face missing from the file (it should not be) has none
    near, d = widen(near, vectors, free_nodes[have], NEIGHBOURS, threshold,
                    should_stop=should_stop)
    del vectors
    idx = np.full((len(free), NEIGHBOURS), -1, np.int64)
    dist = np.full((len(free), NEIGHBOURS), np.inf, np.float32)
    idx[have] = np.where(near >= 0, row_of_node[np.maximum(near, 0)], -1)
    dist[have] = d
    if progress:
        progress("neighbours", len(free), len(free))
    return idx, dist


def _searched(library: Library, bound: int, ids: np.ndarray, free: np.ndarray, should_stop,
              progress) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours of the ``free`` rows of ``ids`` by searching the index for each, a chunk at a
    time on every core (slower than :func:`_linked`: a million searches take minutes)."""
    share = 1.0 - len(ids) / max(library.state().faces, 1)  # faces that do not count
    extra = 0 if share <= 0 else min(NEIGHBOURS, math.ceil(2 * NEIGHBOURS * share) + 1)
    idx = np.full((len(free), NEIGHBOURS), -1, np.int32)
    dist = np.full((len(free), NEIGHBOURS), np.inf, np.float32)
    free_ids = ids[free]
    for chunk_ids, vectors, _boxes in library.embedding_chunks(bound, _CHUNK):
        if should_stop and should_stop():
            raise Cancelled
        lo = np.searchsorted(free_ids, chunk_ids[0])
        hi = np.searchsorted(free_ids, chunk_ids[-1], side="right")
        if hi == lo:
            continue
        wanted = free_ids[lo:hi]
        pick = np.minimum(np.searchsorted(chunk_ids, wanted), len(chunk_ids) - 1)
        there = chunk_ids[pick] == wanted  # a face deleted since the first pass has none
        found, d = library.knn(vectors[pick[there]], NEIGHBOURS + 1 + extra, GROUPING_EF)
        rows = lo + np.flatnonzero(there)
        idx[rows], dist[rows] = _eligible(found, d, wanted[there], ids)
        if progress:
            progress("neighbours", hi, len(free))
    library.release_index()  # the graph and the grouping need the memory now
    return idx.astype(np.int64), dist


def _eligible(found: np.ndarray, dist: np.ndarray, own: np.ndarray, ids: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """The first :data:`NEIGHBOURS` of ``found`` (n, k) face ids that are among ``ids`` (sorted)
    and not the face itself (``own`` (n,)): ``(rows of ids (n, K) int32, distances (n, K))``."""
    pos = np.searchsorted(ids, found)
    pos[pos >= len(ids)] = 0
    ok = (found >= 0) & (ids[pos] == found) & (found != own[:, None]) & np.isfinite(dist)
    rank = np.cumsum(ok, axis=1) - 1
    ok &= rank < NEIGHBOURS
    r, c = np.nonzero(ok)
    idx = np.full((len(found), NEIGHBOURS), -1, np.int32)
    out = np.full((len(found), NEIGHBOURS), np.inf, np.float32)
    idx[r, rank[r, c]] = pos[r, c]
    out[r, rank[r, c]] = dist[r, c]
    return idx, out


def _new_faces(library: Library, mark: int, bound: int, min_face: int,
               summary: ClusterSummary, progress) -> "_Graph | None | object":
    """The faces above the last grouping's ``mark`` that have no person, and their neighbours
    through the index: cost in proportion to the new faces, not to the library. Returns
    ``_TOO_MANY`` when so many are new that reading the library chunk by chunk is cheaper."""
    rows = library.query(
        "SELECT id, MIN(w, h) FROM faces WHERE id > ? AND id <= ? AND NOT EXISTS "
        "(SELECT 1 FROM face_person WHERE face_id = faces.id)", (mark, bound))
    if len(rows) > _NEW_LIMIT:
        return _TOO_MANY
    new = [f for f, side in rows if side >= min_face]
    summary.too_small = len(rows) - len(new)
    if not new:
        return None
    new, vectors = library.embeddings_of(new)
    found, _ = library.knn(vectors, NEIGHBOURS + 1 + NEIGHBOURS // 2)  # a few may be skipped
    # Neighbours are faces with a person (seeds) or other new faces; the distances are the
    # catalog's (a handful of rows), not the index's.
    near = distinct(found[found >= 0])
    seeded = _persons_of(library, near[~np.isin(near, new)].tolist())
    ids, vecs = library.embeddings_of(np.union1d(new, list(seeded)).tolist())
    pos = np.searchsorted(ids, found)
    pos[pos >= len(ids)] = 0
    real = (found >= 0) & (ids[pos] == found)
    dist = np.full(found.shape, np.inf, np.float32)
    for a in range(0, len(found), 4096):  # (rows, k, 128) at a time: bounded memory
        d = np.linalg.norm(vecs[pos[a:a + 4096]] - vectors[a:a + 4096, None, :], axis=2)
        dist[a:a + 4096] = np.where(real[a:a + 4096], d, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")
    found = np.take_along_axis(np.where(real, found, -1), order, axis=1)
    dist = np.take_along_axis(dist, order, axis=1)
    seeds = np.full(len(ids), -1, np.int64)
    for face, pid in seeded.items():
        seeds[np.searchsorted(ids, face)] = pid
    idx, dist = _eligible(found, dist, new, ids)
    if progress:
        progress("neighbours", len(new), len(new))
    return _Graph(ids, seeds, np.searchsorted(ids, new), idx.astype(np.int64), dist,
                  partial=True)


def _whispers(library: Library, graph: _Graph, threshold: float, should_stop, progress
              ) -> np.ndarray:
    """Labels (N,) for the graph's rows: seeds keep their person id; free rows get a person id
    or a new label above every id ever handed out."""
    n = len(graph.ids)
    max_pid = _max_person_id(library)
    frozen = graph.seeds >= 0
    labels = np.where(frozen, graph.seeds, max_pid + 1 + np.arange(n)).astype(np.int64)
    forbidden: dict[int, set[int]] = {}
    free_ids = graph.ids[graph.free]
    for face_id, person_id in library.query("SELECT face_id, person_id FROM face_exclusion"):
        row = np.searchsorted(free_ids, face_id)
        if row < len(free_ids) and free_ids[row] == face_id:
            forbidden.setdefault(int(graph.free[row]), set()).add(int(person_id))
    # Cannot-link: two faces of one photo are two people. Inside the graph the grouping keeps
    # them apart (``apart``); a new face also never joins the person of a face of its photo
    # that is outside the graph (placed earlier).
    apart = _photos_of(library, graph.ids)
    if graph.partial:
        for row, pids in _photo_mates(library, free_ids).items():
            forbidden.setdefault(int(graph.free[row]), set()).update(pids)
    if n >= 2:
        indptr, nbrs, weights = edge_graph(graph.idx, graph.dist, threshold, graph.free, n)
        labels = chinese_whispers(indptr, nbrs, weights, labels, frozen, forbidden,
                                  should_stop=should_stop, progress=progress, apart=apart)
    graph.forbidden, graph.max_pid = forbidden, max_pid
    return labels


def _photos_of(library: Library, ids: np.ndarray) -> np.ndarray:
    """The photo id of each of ``ids`` (sorted face ids), (N,) int64; -1 for a face gone."""
    out = np.full(len(ids), -1, np.int64)
    if not len(ids):
        return out
    if len(ids) <= _CHUNK:
        rows = []
        for chunk in _in_chunks(ids.tolist()):
            rows += library.query(f"SELECT id, photo_id FROM faces WHERE id IN "
                                  f"({','.join('?' * len(chunk))})", chunk)
        arr = np.asarray(rows, np.int64).reshape(-1, 2)
    else:  # most of the library: a walk in id order, a chunk at a time
        parts, last, top = [], int(ids[0]) - 1, int(ids[-1])
        while True:
            part = np.asarray(library.query(
                "SELECT id, photo_id FROM faces WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                (last, top, _CHUNK)), np.int64).reshape(-1, 2)
            if not len(part):
                break
            parts.append(part)
            last = int(part[-1, 0])
        arr = np.concatenate(parts) if parts else np.zeros((0, 2), np.int64)
    if len(arr):
        arr = arr[np.argsort(arr[:, 0])]
        pos = np.clip(np.searchsorted(arr[:, 0], ids), 0, len(arr) - 1)
        hit = arr[pos, 0] == ids
        out[hit] = arr[pos[hit], 1]
    return out


def _photo_mates(library: Library, face_ids: np.ndarray) -> dict[int, set[int]]:
    """``{row of face_ids: person ids of the other faces of its photo}`` (faces with one)."""
    out: dict[int, set[int]] = {}
    ids = face_ids.tolist()
    for chunk in _in_chunks(ids):
        rows = library.query(
            "SELECT f.id, fp.person_id FROM face_person fp JOIN faces g ON g.id = fp.face_id "
            "JOIN faces f ON f.photo_id = g.photo_id AND f.id != g.id WHERE f.id IN "
            f"({','.join('?' * len(chunk))})", chunk)
        for fid, pid in rows:
            out.setdefault(int(np.searchsorted(face_ids, fid)), set()).add(int(pid))
    return out


def _store(library: Library, graph: _Graph, labels: np.ndarray, full: bool, bound: int,
           min_face: int, summary: ClusterSummary) -> None:
    """Write the free faces' people in one transaction."""
    max_pid, forbidden = graph.max_pid, graph.forbidden
    free = graph.free
    face_ids = graph.ids[free]
    lab = labels[free]
    # The person each free face had before (full runs only: incremental ones had none).
    old = np.full(len(free), -1, np.int64)
    if full:
        before = _persons_of_all(library, bound)
        if len(before[0]):
            pos = np.searchsorted(before[0], face_ids)
            pos[pos >= len(before[0])] = 0
            hit = before[0][pos] == face_ids
            old[hit] = before[1][pos[hit]]
    # New groups (labels above max_pid) -> person ids. In a full run, a new group takes over the
    # unconfirmed old person it shares most faces with (one each, biggest overlaps first).
    new_labels = distinct(lab[lab > max_pid])
    takeover: dict[int, int] = {}
    if full:
        both = (lab > max_pid) & (old >= 0)
        if both.any():
            key = np.sort(lab[both] * (int(old.max()) + 1) + old[both])
            starts = np.flatnonzero(np.diff(key, prepend=-1))
            counts = np.diff(np.append(starts, len(key)))
            pairs = np.stack(np.divmod(key[starts], int(old.max()) + 1), axis=1)
            order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))
            used: set[int] = set()
            for g, o in pairs[order].tolist():
                if g not in takeover and o not in used:
                    takeover[g] = o
                    used.add(o)
    fresh = [g for g in new_labels.tolist() if g not in takeover]
    now = time.time()
    with library.transaction() as cur:
        # People are written after their faces, with their sizes: the size triggers then find
        # no row to update for them (a million updates of an indexed column took most of a first
        # grouping's time). Foreign keys are checked at the commit.
        cur.execute("PRAGMA defer_foreign_keys = ON")
        created: dict[int, float] = {}
        if full:
            # The unconfirmed people go, and their faces' rows with them (a cascade the size
            # triggers do not slow); those a group takes over come back below, same id.
            created = dict(cur.execute("SELECT id, created FROM people WHERE confirmed = 0"))
            cur.execute("DELETE FROM people WHERE confirmed = 0")
        first = max(max_pid, _max_person_id_cur(cur)) + 1
        label_to_pid = dict(takeover)
        label_to_pid.update({g: first + i for i, g in enumerate(fresh)})
        summary.new_people = len(fresh)
        if label_to_pid:
            keys = np.fromiter(label_to_pid.keys(), np.int64, len(label_to_pid))
            vals = np.fromiter(label_to_pid.values(), np.int64, len(label_to_pid))
            order = np.argsort(keys)
            keys, vals = keys[order], vals[order]
            pos = np.clip(np.searchsorted(keys, lab), 0, len(keys) - 1)
            pid = np.where(keys[pos] == lab, vals[pos], lab)
        else:
            pid = lab.copy()
        # A takeover that landed a face where the user said no: a person of its own.
        for row, banned in forbidden.items():
            at = int(np.searchsorted(free, row))
            if int(pid[at]) in banned:
                cur.execute("INSERT INTO people(name, created, confirmed, size) "
                            "VALUES (NULL, ?, 0, 0)", (now,))
                pid[at] = cur.lastrowid
                summary.new_people += 1
        existed = (lab <= max_pid) | np.isin(lab, np.fromiter(takeover.keys(), np.int64,
                                                                len(takeover)))
        summary.joined = int((existed & (pid != old)).sum())
        # Faces deleted since they were read (an index run re-indexing their photo at the same
        # time) are skipped: the grouping of the others still stands.
        cur.executemany("INSERT OR IGNORE INTO face_person(face_id, person_id) SELECT ?, ? "
                        "WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)",
                        ((f, p, f) for f, p in zip(face_ids.tolist(), pid.tolist())))
        written = cur.rowcount
        people_ids = np.fromiter(label_to_pid.values(), np.int64, len(label_to_pid))
        mine = np.isin(pid, people_ids)
        placed = np.sort(pid[mine])
        starts = np.flatnonzero(np.diff(placed, prepend=-1))
        ids_sorted, counts = placed[starts], np.diff(np.append(starts, len(placed)))
        cur.executemany("INSERT INTO people(id, name, created, confirmed, size) "
                        "VALUES (?, NULL, ?, 0, ?)",
                        ((p, created.get(p, now), c)
                         for p, c in zip(ids_sorted.tolist(), counts.tolist())))
        if written != len(face_ids):  # some faces were skipped: count those people again
            for chunk in _in_chunks(ids_sorted.tolist()):
                cur.execute(f"UPDATE people SET size = (SELECT COUNT(*) FROM face_person WHERE "
                            f"person_id = people.id) WHERE id IN "
                            f"({','.join('?' * len(chunk))})", chunk)
        cur.execute("DELETE FROM people WHERE size <= 0")
        cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    (_GROUPED, json.dumps({"max_face": int(bound), "min_face": int(min_face)})))
        summary.placed = len(face_ids)
        summary.people = cur.execute("SELECT COUNT(*) FROM people").fetchone()[0]


def _max_person_id_cur(cur) -> int:
    top = cur.execute("SELECT COALESCE(MAX(id), 0) FROM people").fetchone()[0]
    seq = cur.execute("SELECT seq FROM sqlite_sequence WHERE name='people'").fetchone()
    return max(int(top), int(seq[0]) if seq else 0)


def _persons_of_all(library: Library, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """``(face ids ascending, person ids)`` of every placed face up to ``bound``, as arrays."""
    faces, pids = [], []
    last = 0
    while True:
        rows = library.query("SELECT face_id, person_id FROM face_person WHERE face_id > ? AND "
                             "face_id <= ? ORDER BY face_id LIMIT ?", (last, bound, _CHUNK))
        if not rows:
            break
        arr = np.asarray(rows, np.int64)
        faces.append(arr[:, 0])
        pids.append(arr[:, 1])
        last = int(arr[-1, 0])
    if not faces:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(faces), np.concatenate(pids)


def _remember(library: Library, bound: int, min_face: int) -> None:
    """Nothing to place: remember how far the faces were looked at (one small write, only when
    it moved)."""
    if _grouped_upto(library, min_face) == bound:
        return
    with library.transaction() as cur:
        cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    (_GROUPED, json.dumps({"max_face": int(bound), "min_face": int(min_face)})))


def unplaced(library: Library, min_face: int = MIN_GROUP_FACE) -> int:
    """How many faces big enough to group have no person yet (a refresh added them). Looks only
    above the last grouping's mark when there is one: no scan of a large library."""
    ensure_tables(library)
    mark = _grouped_upto(library, min_face)
    return library.query("SELECT COUNT(*) FROM faces WHERE id > ? AND MIN(w, h) >= ? AND NOT "
                         "EXISTS (SELECT 1 FROM face_person WHERE face_id = faces.id)",
                         (mark, int(min_face)))[0][0]


# -- reading ---------------------------------------------------------------------------------------
MIN_SHOWN = 2
"""The app's and the CLI's list leaves out unnamed groups of fewer faces than this by default
(single faces are mostly strangers in the background; issue 13). Named people always show."""


def _shown(hidden: bool, min_size: int) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) for the people a list shows."""
    sql = "size > 0"
    args: tuple = ()
    if not hidden:
        sql += " AND hidden = 0"
    if min_size > 1:
        sql += " AND (size >= ? OR name IS NOT NULL)"
        args = (int(min_size),)
    return sql, args


def count_people(library: Library, min_size: int = 1, hidden: bool = True) -> int:
    """How many people have faces (a person whose photos were all deleted has none); only
    those a list with ``min_size`` and ``hidden`` shows (see :func:`people_page`)."""
    ensure_tables(library)
    where, args = _shown(hidden, min_size)
    return library.query(f"SELECT COUNT(*) FROM people WHERE {where}", args)[0][0]


def people_page(library: Library, offset: int = 0, limit: int | None = 50,
                faces: int | None = None, min_size: int = 1,
                hidden: bool = True) -> list[Person]:
    """People largest first (then by id), ``limit`` of them (None: all) from ``offset``; each
    with its first ``faces`` face ids (None: all), the cover the user chose first, then nearest
    the group's centre. Reads only the page's faces. ``min_size``: unnamed groups of fewer faces
    are left out; ``hidden`` False: hidden people are left out."""
    ensure_tables(library)
    where, args = _shown(hidden, min_size)
    rows = library.query(f"SELECT id, name, confirmed, size, hidden, cover FROM people WHERE "
                         f"{where} ORDER BY size DESC, id LIMIT ? OFFSET ?",
                         args + (-1 if limit is None else int(limit), int(offset)))
    out = []
    for pid, name, confirmed, size, hid, cover in rows:
        ordered = _ordered_faces(library, pid, cover)
        if not ordered:
            continue  # its faces went since the page was read
        shown = ordered if faces is None else ordered[:max(int(faces), 1)]
        out.append(Person(pid, name, len(ordered), ordered[0], shown, bool(confirmed),
                          bool(hid), cover))
    return out


def people(library: Library, page: int = 1000, min_size: int = 1,
           hidden: bool = True) -> list[Person]:
    """Every person (as :func:`people_page` chooses them), largest first (then by id), with all
    their faces nearest the centre first. Holds the whole library in Python objects: for large
    libraries use :func:`people_page`."""
    out: list[Person] = []
    offset = 0
    while True:
        part = people_page(library, offset, page, min_size=min_size, hidden=hidden)
        out += part
        if len(part) < page:
            break
        offset += page
    out.sort(key=lambda p: (-p.size, p.id))
    return out


def _ordered_faces(library: Library, person_id: int, cover: int | None = None) -> list[int]:
    """A person's face ids, the chosen ``cover`` first, then nearest the mean of their
    embeddings."""
    faces = [f for (f,) in library.query(
        "SELECT face_id FROM face_person WHERE person_id = ? ORDER BY face_id", (person_id,))]
    if len(faces) <= 1:
        return faces
    ids, vecs = library.embeddings_of(faces)
    centre = vecs.mean(axis=0)
    order = np.argsort(np.linalg.norm(vecs - centre, axis=1), kind="stable")
    out = ids[order].tolist()
    if cover is not None and cover in out:
        out.remove(cover)
        out.insert(0, cover)
    return out


def person(library: Library, person_id: int) -> Person | None:
    """One person with all their faces (cover first, then nearest the centre), or None."""
    ensure_tables(library)
    row = library.query("SELECT name, confirmed, hidden, cover FROM people WHERE id = ?",
                        (person_id,))
    if not row:
        return None
    ordered = _ordered_faces(library, person_id, row[0][3])
    if not ordered:
        return None
    return Person(person_id, row[0][0], len(ordered), ordered[0], ordered, bool(row[0][1]),
                  bool(row[0][2]), row[0][3])


def person_faces(library: Library, person_id: int, offset: int = 0,
                 limit: int | None = None) -> list[int]:
    """A page of a person's face ids, the cover first, then nearest the group's centre."""
    ensure_tables(library)
    row = library.query("SELECT cover FROM people WHERE id = ?", (person_id,))
    ordered = _ordered_faces(library, person_id, row[0][0] if row else None)
    return ordered[int(offset):None if limit is None else int(offset) + int(limit)]


def person_of(library: Library, face_ids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
    """``{face id: (person id, name)}`` for those of ``face_ids`` that have a person."""
    return {f: (pid, name) for f, (pid, name, _) in owners(library, face_ids).items()}


def owners(library: Library, face_ids: Sequence[int]) -> dict[int, tuple[int, str | None, int]]:
    """``{face id: (person id, name, size)}`` for those of ``face_ids`` that have a person."""
    ensure_tables(library)
    out: dict[int, tuple[int, str | None, int]] = {}
    for chunk in _in_chunks(face_ids):
        rows = library.query(
            "SELECT face_person.face_id, people.id, people.name, people.size FROM face_person "
            "JOIN people ON people.id = face_person.person_id WHERE face_id IN "
            f"({','.join('?' * len(chunk))})", chunk)
        for fid, pid, name, size in rows:
            out[fid] = (pid, name, size)
    return out


def nearest_people(library: Library, embedding: np.ndarray, k: int = 10) -> list[NearPerson]:
    """The ``k`` nearest distinct people to ``embedding`` (128,): each by its face nearest the
    query, nearest first. Faces not grouped yet count as people of one (``person_id`` None).

    A vector store that can group by person (Qdrant) answers itself, checked against the catalog;
    it returns None when it cannot vouch for its answer, and the search below answers."""
    grouped = getattr(getattr(library, "vectors", None), "nearest_people", None)
    if grouped is not None:
        found = grouped(library, embedding, k)
        if found is not None:
            return found
    ensure_tables(library)
    total = library.face_count()
    want = min(total, max(10 * k, 50))
    while True:
        hits = library.search(embedding, want)
        found = owners(library, [h.face.face_id for h in hits])
        out: list[NearPerson] = []
        seen: set = set()
        for h in hits:
            pid, name, size = found.get(h.face.face_id, (None, None, 1))
            key = pid if pid is not None else ("face", h.face.face_id)
            if key in seen:
                continue
            seen.add(key)
            out.append(NearPerson(pid, name, size, h.face.face_id, h.distance))
            if len(out) == k:
                return out
        if want >= total:
            return out
        want = min(total, want * 4)


# -- user corrections ------------------------------------------------------------------------------
def rename(library: Library, person_id: int, name: str | None, log: bool = True) -> None:
    """Name a person (empty or None: no name). The person becomes confirmed. ``log``: kept in
    the corrections log (undo)."""
    ensure_tables(library)
    name = (name or "").strip() or None
    with library.transaction() as cur:
        before = person_row(cur, person_id)
        cur.execute("UPDATE people SET name=?, confirmed=1 WHERE id=?", (name, person_id))
        if cur.rowcount == 0:
            raise KeyError(f"no person {person_id}")
        if log:
            log_correction(cur, "rename", {"person": person_id, "before": before})


def merge(library: Library, a: int, b: int, log: bool = True) -> int:
    """Put ``b``'s faces into ``a`` and forget ``b``; returns ``a``. ``a`` becomes confirmed and
    keeps its name (or takes ``b``'s when it has none). Exclusions from ``b`` now exclude from
    ``a``. ``log``: kept in the corrections log (undo puts ``b`` back as it was)."""
    ensure_tables(library)
    if a == b:
        return a
    with library.transaction() as cur:
        rows = dict(cur.execute("SELECT id, name FROM people WHERE id IN (?, ?)", (a, b)))
        if a not in rows or b not in rows:
            raise KeyError(f"no person {b if a in rows else a}")
        if log:
            log_correction(cur, "merge", {
                "a": a, "b": b, "a_row": person_row(cur, a), "b_row": person_row(cur, b),
                "b_faces": [f for (f,) in cur.execute(
                    "SELECT face_id FROM face_person WHERE person_id=?", (b,))],
                "a_excluded": [f for (f,) in cur.execute(
                    "SELECT face_id FROM face_exclusion WHERE person_id=?", (a,))],
                "b_excluded": [f for (f,) in cur.execute(
                    "SELECT face_id FROM face_exclusion WHERE person_id=?", (b,))]})
        name = rows[a] or rows[b]
        cur.execute("UPDATE face_person SET person_id=? WHERE person_id=?", (a, b))
        cur.execute("UPDATE OR IGNORE face_exclusion SET person_id=? WHERE person_id=?", (a, b))
        cur.execute("DELETE FROM face_exclusion WHERE person_id=?", (b,))
        # A face excluded from a or b but now in a (the user merged them anyway): the merge wins.
        cur.execute("DELETE FROM face_exclusion WHERE person_id=? AND face_id IN "
                    "(SELECT face_id FROM face_person WHERE person_id=?)", (a, a))
        cur.execute("UPDATE people SET name=?, confirmed=1 WHERE id=?", (name, a))
        cur.execute("DELETE FROM people WHERE id=?", (b,))
    return a


def move_out(library: Library, face_id: int, log: bool = True) -> int:
    """Take a face out of its person: it never goes back there. It becomes a person of its own
    (returned id), which a full re-grouping may join to another person. ``log``: kept in the
    corrections log (undo puts it back)."""
    ensure_tables(library)
    with library.transaction() as cur:
        row = cur.execute("SELECT person_id FROM face_person WHERE face_id=?",
                          (face_id,)).fetchone()
        if row is None:
            raise KeyError(f"face {face_id} has no person")
        before = person_row(cur, row[0])
        cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) VALUES (?, ?)",
                    (face_id, row[0]))
        added = cur.rowcount > 0
        cur.execute("INSERT INTO people(name, created, confirmed, size) VALUES (NULL, ?, 0, 0)",
                    (time.time(),))
        new = cur.lastrowid
        cur.execute("UPDATE face_person SET person_id=? WHERE face_id=?", (new, face_id))
        cur.execute("DELETE FROM people WHERE id=? AND size <= 0", (row[0],))
        if log:
            log_correction(cur, "move_out", {"face": face_id, "from": row[0], "to": new,
                                             "from_row": before, "excluded": added})
    return new


# -- names from other programs (XMP face regions; issue 14) ----------------------------------------
# Kept apart from the grouping above: these only read the people tables and, for faces that have
# no person yet, put them in one (`rename` and `merge` do the rest).
@dataclass
class NamedFaces:
    """What :func:`name_faces` did. ``named``: faces that now carry the name asked for;
    ``already``: faces that carried it before; ``created``: people made for new names;
    ``conflicts``: ``(face id, name asked, name kept)`` for faces left where the user put them
    (in a person of another name, or taken out of the person of that name: kept None)."""

    named: int = 0
    already: int = 0
    created: int = 0
    conflicts: list[tuple[int, str, str | None]] = field(default_factory=list)


def named_faces(library: Library, name: str | None = None) -> dict[int, str]:
    """``{face id: name}`` for every face of a named person (only ``name``'s, compared without
    regard to case, when given)."""
    ensure_tables(library)
    rows = library.query("SELECT face_person.face_id, people.name FROM face_person JOIN people "
                         "ON people.id = face_person.person_id WHERE people.name IS NOT NULL")
    if name is not None:
        key = " ".join(name.split()).casefold()
        rows = [r for r in rows if r[1].casefold() == key]
    return dict(rows)


def rows_in_chunks(library: Library, sql: str, ids: list[int]) -> list[tuple]:
    """The rows of ``sql`` (whose ``{marks}`` is an ``IN`` list) for all ``ids``, 900 at a time
    (older SQLite builds allow 999 parameters)."""
    out: list[tuple] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        out += library.query(sql.format(marks=",".join("?" * len(chunk))), chunk)
    return out


def name_faces(library: Library, names: dict[int, str]) -> NamedFaces:
    """Give faces the names another program gave them (``{face id: name}``).

    Names are compared without regard to case or repeated spaces; all faces of one name end up
    in one person: the oldest person of that name, or a new (confirmed) one. An unnamed person
    whose named faces all carry the same name becomes that person (renamed, or merged into the
    person of that name), so the names follow the groups; where its faces carry several names,
    each named face moves to its person and is never put back. Faces already in a person of
    another name, or taken out of the person of that name by the user, are left alone and
    reported in ``conflicts``."""
    ensure_tables(library)
    out = NamedFaces()
    wanted = {int(f): " ".join(n.split()) for f, n in names.items() if n and n.strip()}
    if not wanted:
        return out
    ids = list(wanted)
    person_name = dict(library.query("SELECT id, name FROM people"))
    current = dict(rows_in_chunks(
        library, "SELECT face_id, person_id FROM face_person WHERE face_id "
        "IN ({marks})", ids))
    # An unnamed person whose named faces agree on one name is that person.
    votes: dict[int, set[str]] = {}
    for f, n in wanted.items():
        p = current.get(f)
        if p is not None and person_name.get(p) is None:
            votes.setdefault(p, set()).add(n.casefold())

    def target_of(key: str) -> int | None:
        found = [pid for pid, nm in person_name.items() if nm and nm.casefold() == key]
        return min(found) if found else None

    # A merge puts every face of the group into the named person: not where the user has taken
    # one of them out of that person (those faces are handled one by one below).
    members: dict[int, list[int]] = {}
    for f, p in rows_in_chunks(
        library, "SELECT face_id, person_id FROM face_person WHERE person_id "
        "IN ({marks})", list(votes)):
        members.setdefault(p, []).append(f)
    excluded: dict[int, set[int]] = {}
    for f, p in rows_in_chunks(
        library, "SELECT face_id, person_id FROM face_exclusion WHERE face_id "
        "IN ({marks})", ids + [f for m in members.values() for f in m]):
        excluded.setdefault(f, set()).add(p)
    renamed: set[int] = set()  # faces whose group took their name just now
    for p in sorted(votes):
        if len(votes[p]) != 1:
            continue
        key = next(iter(votes[p]))
        t = target_of(key)
        if t is not None and any(t in excluded.get(f, ()) for f in members.get(p, ())):
            continue
        renamed |= {f for f, q in current.items() if q == p}
        if t is None:
            name = next(n for n in wanted.values() if n.casefold() == key)
            rename(library, p, name, log=False)
            person_name[p] = name
        elif t != p:
            merge(library, t, p, log=False)
            person_name.pop(p, None)
            current = {f: (t if q == p else q) for f, q in current.items()}
    now = time.time()
    emptied: set[int] = set()
    with library.transaction() as cur:
        for f, n in wanted.items():
            key = n.casefold()
            t = target_of(key)
            p = current.get(f)
            if t is not None and p == t:
                if f in renamed:
                    out.named += 1
                else:
                    out.already += 1
                continue
            if p is not None and person_name.get(p) is not None:
                out.conflicts.append((f, n, person_name[p]))
                continue
            if t is not None and t in excluded.get(f, ()):
                out.conflicts.append((f, n, None))
                continue
            if not cur.execute("SELECT 1 FROM faces WHERE id=?", (f,)).fetchone():
                continue  # deleted meanwhile (its photo indexed again)
            if t is None:
                cur.execute("INSERT INTO people(name, created, confirmed) VALUES (?, ?, 1)",
                            (n, now))
                t = cur.lastrowid
                person_name[t] = n
                out.created += 1
            if p is not None:  # an unnamed group holding faces of several names
                cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) "
                            "VALUES (?, ?)", (f, p))
                cur.execute("UPDATE face_person SET person_id=? WHERE face_id=?", (t, f))
                emptied.add(p)
            else:
                cur.execute("INSERT INTO face_person(face_id, person_id) VALUES (?, ?)", (f, t))
            current[f] = t
            out.named += 1
        for p in emptied:
            cur.execute("DELETE FROM people WHERE id=? AND NOT EXISTS "
                        "(SELECT 1 FROM face_person WHERE person_id=?)", (p, p))
    return out
