"""People: faces of a library grouped by person, kept in the library's own catalog.

Clustering is Chinese whispers (Biemann 2006, the method dlib uses for face clustering) over the
graph whose edges join each face to its ``K`` nearest faces when their Euclidean distance is under
``threshold``. It needs no number of clusters, runs in numpy (exact neighbours up to
:data:`EXACT_LIMIT` faces, hnswlib beyond), and takes seeds: faces already placed keep their
person and pull new faces towards it, which is how a refresh updates the groups without starting
over. The edge weight is ``1 - d / threshold`` (closer faces pull harder; unweighted edges lost
about 0.4 of precision at the same threshold).

Measured on the project's labelled photos (741 photos of 130 people, 882 faces; the largest
face of each photo scored, every face clustered; ``python -m facefinder.core.people LIBRARY
--compare``): at 1.0, pairwise precision 0.95, recall 0.80, 150 groups with faces under 40 px
left out (the default, :data:`MIN_GROUP_FACE`); 0.95, 0.83 and 140 groups with every face
grouped. DBSCAN and union-find over the same edges chain people together (precision 0.04 at 1.0,
0.57 at 0.9); scikit-learn's average-linkage agglomerative clustering peaks at F1 0.79
(precision 0.80, recall 0.79 at 1.05). So no scikit-learn: it would be the app's only user of it,
and ``import sklearn.cluster`` alone takes 1.8 s of CPU.

Tables (created here, in the library's ``catalog.sqlite``)::

    people          id, name (NULL until the user names it), created (unix s),
                    confirmed (1 once the user named or merged it: its faces are never
                    re-clustered, so names and merges survive)
    face_person     face_id -> person_id (cascades away with the face)
    face_exclusion  (face_id, person_id): the user moved the face out of that person; it is never
                    put back there

:func:`cluster` places faces that have no person yet (incrementally); ``full=True`` re-clusters
every face the user has not confirmed, and maps the new groups onto the old people by overlap of
members so that their ids stay. Every write is one transaction; a cancelled run writes nothing.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from .library import Library

DEFAULT_CLUSTER_THRESHOLD = 1.0
"""Edge threshold (Euclidean distance between unit embeddings) for grouping. Lower than the
verification threshold (1.2): a group is built from chains of edges, so each edge must be surer
than a single yes/no verdict. Chosen on the shared test data (module docstring)."""

MIN_GROUP_FACE = 40
"""Faces whose box's shorter side is under this many photo pixels are not grouped. Small,
blurred background faces sit close together in FaceNet's space and made the two largest "people"
on the test data (33 and 27 faces, nearly all strangers in the background); leaving them out
costs a little recall on the test photos (module docstring) and keeps the view clean."""

NEIGHBOURS = 10
"""K: edges per face before the threshold (a face has at most K + incoming edges)."""

EXACT_LIMIT = 20_000
"""Up to this many faces, neighbours are exact (blocked numpy); beyond, hnswlib."""

ITERATIONS = 30

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages 'neighbours', 'grouping', 'saving'."""

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


@dataclass
class Person:
    """A group of faces. ``face_ids`` are sorted nearest the group's centre first;
    ``representative`` is the first of them."""

    id: int
    name: str | None
    size: int
    representative: int
    face_ids: list[int] = field(default_factory=list)
    confirmed: bool = False


@dataclass
class ClusterSummary:
    faces: int = 0  # faces in the library
    too_small: int = 0  # faces left out: under min_face px (see MIN_GROUP_FACE)
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


class Cancelled(Exception):
    pass


# -- storage ---------------------------------------------------------------------------------------
def ensure_tables(library: Library) -> None:
    """Create the people tables if they are missing (once per open library)."""
    if getattr(library, "_people_tables", False):
        return
    with library.transaction() as cur:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                cur.execute(statement)
    library._people_tables = True


def _assignments(library: Library) -> dict[int, int]:
    return dict(library.query("SELECT face_id, person_id FROM face_person"))


def _exclusions(library: Library) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for face_id, person_id in library.query("SELECT face_id, person_id FROM face_exclusion"):
        out.setdefault(face_id, set()).add(person_id)
    return out


# -- neighbours and Chinese whispers ---------------------------------------------------------------
def knn(emb: np.ndarray, k: int = NEIGHBOURS, rows: np.ndarray | None = None,
        should_stop: Callable[[], bool] | None = None, progress: Progress | None = None,
        max_distance: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other faces of the ``rows`` (default: all) of ``emb`` (N, 128) unit
    float32, optionally only those closer than ``max_distance``.

    Returns ``(index (R, k') int64 into emb, distance (R, k') float32)``, nearest first,
    k' = min(k, N-1); missing neighbours are index -1, distance inf. Exact up to
    :data:`EXACT_LIMIT` faces (blocked numpy), hnswlib beyond."""
    n = len(emb)
    rows = np.arange(n) if rows is None else np.asarray(rows, np.int64)
    k = min(k, n - 1)
    if k <= 0 or len(rows) == 0:
        return np.zeros((len(rows), 0), np.int64), np.zeros((len(rows), 0), np.float32)
    emb = np.ascontiguousarray(emb, np.float32)
    if n > EXACT_LIMIT:
        import hnswlib

        index = hnswlib.Index(space="l2", dim=emb.shape[1])
        index.init_index(max_elements=n, ef_construction=100, M=16)
        index.add_items(emb, np.arange(n), num_threads=2)
        index.set_ef(max(64, 2 * k))
        labels, d2 = index.knn_query(emb[rows], k=k + 1, num_threads=2)
        if progress:
            progress("neighbours", len(rows), len(rows))
        # Drop each face itself (usually the first column, not always with ties).
        keep = labels != rows[:, None]
        idx = np.array([r[m][:k] for r, m in zip(labels, keep)], np.int64)
        dist = np.sqrt(np.maximum(np.array([r[m][:k] for r, m in zip(d2, keep)]), 0))
        if max_distance is not None:
            far = dist >= max_distance
            idx[far], dist[far] = -1, np.inf
        return idx, dist.astype(np.float32)
    idx = np.full((len(rows), k), -1, np.int64)
    dist = np.full((len(rows), k), np.inf, np.float32)
    # Unit vectors: d^2 = 2 - 2 cos, so "closer than max_distance" is "cos above min_sim".
    min_sim = None if max_distance is None else 1.0 - max_distance ** 2 / 2.0
    block = 1024
    for start in range(0, len(rows), block):
        if should_stop and should_stop():
            raise Cancelled
        stop = min(len(rows), start + block)
        part_rows = rows[start:stop]
        sims = emb[part_rows] @ emb.T
        sims[np.arange(stop - start), part_rows] = -np.inf  # not itself
        if min_sim is None:
            part = np.argpartition(sims, n - k, axis=1)[:, n - k:]
            ps = np.take_along_axis(sims, part, axis=1)
            order = np.argsort(-ps, axis=1)
            idx[start:stop] = np.take_along_axis(part, order, axis=1)
            ps = np.take_along_axis(ps, order, axis=1)
            dist[start:stop] = np.sqrt(np.maximum(2.0 - 2.0 * ps, 0.0))
        else:
            # Few pairs are close: pick them out, rank them within each row (much faster than a
            # partition of the whole block).
            r, c = np.nonzero(sims > min_sim)
            vals = sims[r, c]
            order = np.lexsort((-vals, r))
            r, c, vals = r[order], c[order], vals[order]
            rank = np.arange(len(r)) - np.searchsorted(r, r)
            keep = rank < k
            r, c, vals, rank = r[keep], c[keep], vals[keep], rank[keep]
            idx[start + r, rank] = c
            dist[start + r, rank] = np.sqrt(np.maximum(2.0 - 2.0 * vals, 0.0))
        if progress:
            progress("neighbours", stop, len(rows))
    return idx, dist


def edge_graph(idx: np.ndarray, dist: np.ndarray, threshold: float,
               rows: np.ndarray | None = None, n: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The undirected graph of kNN edges under ``threshold`` in CSR form over ``n`` nodes:
    ``(indptr (n+1,), neighbours (E,), weights (E,) = 1 - d / threshold)``. ``idx``/``dist``
    hold the neighbours of ``rows`` (default: every node)."""
    if rows is None:
        rows = np.arange(len(idx))
    n = len(idx) if n is None else n
    src = np.repeat(np.asarray(rows, np.int64), idx.shape[1])
    cols = idx.ravel()
    d = dist.ravel()
    keep = d < threshold
    src, cols, d = src[keep], cols[keep], d[keep]
    a = np.concatenate([src, cols])
    b = np.concatenate([cols, src])
    w = np.concatenate([d, d])
    key = a * n + b
    key, first = np.unique(key, return_index=True)  # each undirected edge once per direction
    a, b, w = a[first], b[first], w[first]
    indptr = np.zeros(n + 1, np.int64)
    np.add.at(indptr, a + 1, 1)
    indptr = np.cumsum(indptr)
    weights = (1.0 - w / threshold).astype(np.float32)
    return indptr, b.astype(np.int64), weights


def chinese_whispers(indptr: np.ndarray, nbrs: np.ndarray, weights: np.ndarray,
                     labels: np.ndarray, frozen: np.ndarray,
                     forbidden: dict[int, set[int]] | None = None,
                     iterations: int = ITERATIONS, seed: int = 0,
                     should_stop: Callable[[], bool] | None = None,
                     progress: Progress | None = None) -> np.ndarray:
    """Chinese whispers label propagation.

    ``labels`` (N,) int64 start labels (distinct per free node, or a person's label for seeds);
    ``frozen`` (N,) bool: nodes that keep their label (they still pass it on); ``forbidden``:
    node -> labels it must never take. Each free node, in random order, takes the label with the
    largest summed edge weight among its neighbours, until no label changes. Returns the labels.
    """
    labels = labels.copy()
    forbidden = forbidden or {}
    ptr = indptr.tolist()
    nb = nbrs.tolist()
    wt = weights.tolist()
    lab = labels.tolist()
    free = [i for i in range(len(lab)) if not frozen[i] and ptr[i + 1] > ptr[i]]
    rng = random.Random(seed)
    for it in range(iterations):
        if should_stop and should_stop():
            raise Cancelled
        rng.shuffle(free)
        changed = 0
        for i in free:
            score: dict[int, float] = {}
            for e in range(ptr[i], ptr[i + 1]):
                lj = lab[nb[e]]
                score[lj] = score.get(lj, 0.0) + wt[e]
            banned = forbidden.get(i)
            if banned:
                for b in banned:
                    score.pop(b, None)
            if not score:
                continue
            best = max(score.items(), key=lambda kv: (kv[1], -kv[0]))[0]
            if best != lab[i]:
                lab[i] = best
                changed += 1
        if progress:
            progress("grouping", it + 1, iterations)
        if changed == 0:
            break
    return np.asarray(lab, np.int64)


def group_labels(emb: np.ndarray, threshold: float = DEFAULT_CLUSTER_THRESHOLD,
                 seeds: np.ndarray | None = None, forbidden: dict[int, set[int]] | None = None,
                 k: int = NEIGHBOURS, should_stop=None, progress=None) -> np.ndarray:
    """Cluster ``emb`` (N, 128) unit vectors; returns (N,) int64 labels.

    ``seeds`` (N,) int64: a label >= 0 fixes that row's label (a known person); -1 rows are free
    and start in their own label (``max(seeds) + 1 + row``). ``forbidden``: row -> labels."""
    n = len(emb)
    if seeds is None:
        seeds = np.full(n, -1, np.int64)
    frozen = seeds >= 0
    base = int(seeds.max()) + 1 if n and frozen.any() else 0
    labels = np.where(frozen, seeds, base + np.arange(n)).astype(np.int64)
    if n < 2:
        return labels
    idx, dist = knn(emb, k, should_stop=should_stop, progress=progress, max_distance=threshold)
    indptr, nbrs, weights = edge_graph(idx, dist, threshold)
    return chinese_whispers(indptr, nbrs, weights, labels, frozen, forbidden,
                            should_stop=should_stop, progress=progress)


# -- the job ------------------------------------------------------------------------------------
def cluster(library: Library, threshold: float = DEFAULT_CLUSTER_THRESHOLD, full: bool = False,
            progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
            min_face: int = MIN_GROUP_FACE) -> ClusterSummary:
    """Group the library's faces into people and store the groups.

    Incremental (default): faces without a person join the person their nearest faces (under
    ``threshold``) belong to, or form new people among themselves; placed faces stay. ``full``:
    every face not in a confirmed person (named or merged by the user) is grouped again; the new
    groups take over the ids of the old people they share most faces with. Exclusions are always
    respected. Faces under ``min_face`` px (shorter side) are left without a person unless
    they already have one that stays. ``should_stop()`` true: raises nothing, returns with
    ``cancelled`` and writes nothing."""
    t0 = time.perf_counter()
    ensure_tables(library)
    ids, emb = library.all_embeddings()
    summary = ClusterSummary(faces=len(ids), full=full)
    assigned = _assignments(library)
    confirmed = {pid for (pid,) in library.query("SELECT id FROM people WHERE confirmed=1")}
    if min_face > 0 and len(ids):
        small = {f for (f,) in library.query("SELECT id FROM faces WHERE MIN(w, h) < ?",
                                             (int(min_face),))}
        stays = {f for f, p in assigned.items() if not full or p in confirmed}
        keep = np.fromiter((f not in small or f in stays for f in ids.tolist()), bool, len(ids))
        summary.too_small = int((~keep).sum())
        ids, emb = ids[keep], emb[keep]
    excluded = _exclusions(library)
    row_of = {int(f): i for i, f in enumerate(ids.tolist())}

    # Seeds: a person id per placed face that stays put.
    seeds = np.full(len(ids), -1, np.int64)
    for face_id, person_id in assigned.items():
        row = row_of.get(face_id)
        if row is not None and (not full or person_id in confirmed):
            seeds[row] = person_id
    max_pid = library.query("SELECT COALESCE(MAX(id), 0) FROM people")[0][0]
    seq = library.query("SELECT seq FROM sqlite_sequence WHERE name='people'")
    max_pid = max(max_pid, seq[0][0] if seq else 0)
    forbidden = {row_of[f]: set(p) for f, p in excluded.items() if f in row_of}
    free_rows = np.where(seeds < 0)[0]
    if len(free_rows) == 0:
        summary.people = len(library.query("SELECT id FROM people"))
        summary.seconds = time.perf_counter() - t0
        return summary
    try:
        # Labels of free rows: max_pid + 1 + row (above every id ever handed out).
        n = len(ids)
        frozen = seeds >= 0
        labels = np.where(frozen, seeds, max_pid + 1 + np.arange(n)).astype(np.int64)
        if n >= 2:
            # Only the free faces need their neighbours: placed faces keep their person, and
            # an edge found from either end joins both.
            idx, dist = knn(emb, NEIGHBOURS, free_rows, should_stop, progress, threshold)
            indptr, nbrs, weights = edge_graph(idx, dist, threshold, free_rows, n)
            labels = chinese_whispers(indptr, nbrs, weights, labels, frozen, forbidden,
                                      should_stop=should_stop, progress=progress)
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

    # New groups (labels above max_pid) -> person ids. In a full run, a new group takes over the
    # unconfirmed old person it shares most faces with (one each, biggest overlaps first).
    new_groups: dict[int, list[int]] = {}
    for row in free_rows.tolist():
        lab = int(labels[row])
        if lab > max_pid:
            new_groups.setdefault(lab, []).append(row)
    takeover: dict[int, int] = {}
    if full:
        overlap: dict[tuple[int, int], int] = {}
        for lab, rows in new_groups.items():
            for row in rows:
                old = assigned.get(int(ids[row]))
                if old is not None and old not in confirmed:
                    overlap[(lab, old)] = overlap.get((lab, old), 0) + 1
        used: set[int] = set()
        for (lab, old), _count in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0])):
            if lab not in takeover and old not in used:
                takeover[lab] = old
                used.add(old)
    existing = {pid for (pid,) in library.query("SELECT id FROM people")}
    now = time.time()
    with library.transaction() as cur:
        if full:
            cur.execute("DELETE FROM face_person WHERE person_id NOT IN "
                        "(SELECT id FROM people WHERE confirmed=1)")
        label_to_pid: dict[int, int] = {}
        for lab in sorted(new_groups):
            if lab in takeover:
                label_to_pid[lab] = takeover[lab]
            else:
                cur.execute("INSERT INTO people(name, created, confirmed) VALUES (NULL, ?, 0)",
                            (now,))
                label_to_pid[lab] = cur.lastrowid
                summary.new_people += 1
        rows_out = []
        for row in free_rows.tolist():
            lab = int(labels[row])
            pid = label_to_pid.get(lab, lab)
            face_id = int(ids[row])
            if pid in forbidden.get(row, ()):  # a takeover landed it where the user said no
                cur.execute("INSERT INTO people(name, created, confirmed) VALUES (NULL, ?, 0)",
                            (now,))
                pid = cur.lastrowid
                summary.new_people += 1
            elif pid in existing and assigned.get(face_id) != pid:
                summary.joined += 1
            rows_out.append((face_id, pid))
        # Faces deleted since they were read (an index run re-indexing their photo at the same
        # time) are skipped: the grouping of the others still stands.
        cur.executemany("INSERT OR REPLACE INTO face_person(face_id, person_id) SELECT ?, ? "
                        "WHERE EXISTS (SELECT 1 FROM faces WHERE id = ?)",
                        [(f, pid, f) for f, pid in rows_out])
        cur.execute("DELETE FROM people WHERE id NOT IN (SELECT DISTINCT person_id FROM "
                    "face_person)")
        summary.placed = len(rows_out)
        summary.people = cur.execute("SELECT COUNT(*) FROM people").fetchone()[0]
    if progress:
        progress("saving", 1, 1)
    summary.seconds = time.perf_counter() - t0
    return summary


def unplaced(library: Library, min_face: int = MIN_GROUP_FACE) -> int:
    """How many faces big enough to group have no person yet (a refresh added them)."""
    ensure_tables(library)
    return library.query("SELECT COUNT(*) FROM faces WHERE MIN(w, h) >= ? AND id NOT IN "
                         "(SELECT face_id FROM face_person)", (int(min_face),))[0][0]


# -- reading ---------------------------------------------------------------------------------------
def people(library: Library) -> list[Person]:
    """Every person, largest first (then by id); faces sorted nearest the group centre first."""
    ensure_tables(library)
    ids, emb = library.all_embeddings()
    row_of = {int(f): i for i, f in enumerate(ids.tolist())}
    members: dict[int, list[int]] = {}
    for face_id, person_id in library.query("SELECT face_id, person_id FROM face_person"):
        if face_id in row_of:
            members.setdefault(person_id, []).append(face_id)
    info = {pid: (name, bool(c)) for pid, name, c in
            library.query("SELECT id, name, confirmed FROM people")}
    out = []
    for pid, faces in members.items():
        rows = np.fromiter((row_of[f] for f in faces), np.int64, len(faces))
        vecs = emb[rows]
        centre = vecs.mean(axis=0)
        order = np.argsort(np.linalg.norm(vecs - centre, axis=1), kind="stable")
        ordered = [faces[i] for i in order.tolist()]
        name, conf = info.get(pid, (None, False))
        out.append(Person(pid, name, len(ordered), ordered[0], ordered, conf))
    out.sort(key=lambda p: (-p.size, p.id))
    return out


def person(library: Library, person_id: int) -> Person | None:
    for p in people(library):
        if p.id == person_id:
            return p
    return None


def person_of(library: Library, face_ids: Sequence[int]) -> dict[int, tuple[int, str | None]]:
    """``{face id: (person id, name)}`` for those of ``face_ids`` that have a person."""
    ensure_tables(library)
    out: dict[int, tuple[int, str | None]] = {}
    ids = [int(i) for i in face_ids]
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        rows = library.query(
            "SELECT face_person.face_id, people.id, people.name FROM face_person JOIN people ON "
            f"people.id = face_person.person_id WHERE face_id IN ({','.join('?' * len(chunk))})",
            chunk)
        for fid, pid, name in rows:
            out[fid] = (pid, name)
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
    sizes = dict(library.query("SELECT person_id, COUNT(*) FROM face_person GROUP BY person_id"))
    names = dict(library.query("SELECT id, name FROM people"))
    want = min(total, max(10 * k, 50))
    while True:
        hits = library.search(embedding, want)
        owners = person_of(library, [h.face.face_id for h in hits])
        out: list[NearPerson] = []
        seen: set = set()
        for h in hits:
            pid = owners.get(h.face.face_id, (None, None))[0]
            key = pid if pid is not None else ("face", h.face.face_id)
            if key in seen:
                continue
            seen.add(key)
            out.append(NearPerson(pid, names.get(pid), sizes.get(pid, 1), h.face.face_id,
                                  h.distance))
            if len(out) == k:
                return out
        if want >= total:
            return out
        want = min(total, want * 4)


# -- user corrections ------------------------------------------------------------------------------
def rename(library: Library, person_id: int, name: str | None) -> None:
    """Name a person (empty or None: no name). The person becomes confirmed."""
    ensure_tables(library)
    name = (name or "").strip() or None
    with library.transaction() as cur:
        cur.execute("UPDATE people SET name=?, confirmed=1 WHERE id=?", (name, person_id))
        if cur.rowcount == 0:
            raise KeyError(f"no person {person_id}")


def merge(library: Library, a: int, b: int) -> int:
    """Put ``b``'s faces into ``a`` and forget ``b``; returns ``a``. ``a`` becomes confirmed and
    keeps its name (or takes ``b``'s when it has none). Exclusions from ``b`` now exclude from
    ``a``."""
    ensure_tables(library)
    if a == b:
        return a
    with library.transaction() as cur:
        rows = dict(cur.execute("SELECT id, name FROM people WHERE id IN (?, ?)", (a, b)))
        if a not in rows or b not in rows:
            raise KeyError(f"no person {b if a in rows else a}")
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


def move_out(library: Library, face_id: int) -> int:
    """Take a face out of its person: it never goes back there. It becomes a person of its own
    (returned id), which a full re-clustering may join to another person."""
    ensure_tables(library)
    with library.transaction() as cur:
        row = cur.execute("SELECT person_id FROM face_person WHERE face_id=?",
                          (face_id,)).fetchone()
        if row is None:
            raise KeyError(f"face {face_id} has no person")
        cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) VALUES (?, ?)",
                    (face_id, row[0]))
        cur.execute("INSERT INTO people(name, created, confirmed) VALUES (NULL, ?, 0)",
                    (time.time(),))
        new = cur.lastrowid
        cur.execute("UPDATE face_person SET person_id=? WHERE face_id=?", (new, face_id))
        cur.execute("DELETE FROM people WHERE id=? AND NOT EXISTS "
                    "(SELECT 1 FROM face_person WHERE person_id=?)", (row[0], row[0]))
    return new


# -- measuring -------------------------------------------------------------------------------------
def pairwise_scores(truth: Sequence, predicted: Sequence) -> tuple[float, float]:
    """Pairwise (precision, recall) of a clustering: over all pairs of items put in one group,
    the share that are one true identity; over all pairs of one identity, the share put in one
    group."""
    pairs: dict[tuple, int] = {}
    for t, p in zip(truth, predicted):
        pairs[(t, p)] = pairs.get((t, p), 0) + 1

    def both(counts) -> int:
        return sum(c * (c - 1) // 2 for c in counts)

    tp = both(pairs.values())
    by_pred: dict = {}
    by_true: dict = {}
    for (t, p), c in pairs.items():
        by_pred[p] = by_pred.get(p, 0) + c
        by_true[t] = by_true.get(t, 0) + c
    pp, tt = both(by_pred.values()), both(by_true.values())
    return (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)


def largest_faces(library: Library) -> tuple[np.ndarray, list[str]]:
    """Face ids (M,) of the largest face of each photo, and each photo's parent folder name
    (the identity, in a labelled folder of one folder per person)."""
    import os

    rows = library.query(
        "SELECT faces.id, photos.path, w * h FROM faces JOIN photos ON photos.id = "
        "faces.photo_id ORDER BY photos.id, w * h DESC, faces.id")
    best: dict[bytes, int] = {}
    for fid, path, _area in rows:
        best.setdefault(path, fid)
    keys = sorted(best, key=lambda p: best[p])
    return (np.array([best[p] for p in keys], np.int64),
            [os.path.basename(os.path.dirname(os.fsdecode(p))) for p in keys])


def _main(argv: list[str] | None = None) -> int:
    """``python -m facefinder.core.people LIBRARY [--compare]``: pairwise precision/recall and
    groups vs identities of the clustering on a library indexed from labelled folders (largest
    face per photo scored; every face clustered). Writes nothing to the library."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m facefinder.core.people")
    parser.add_argument("library")
    parser.add_argument("--compare", action="store_true",
                        help="also DBSCAN, union-find and agglomerative (needs scikit-learn)")
    parser.add_argument("--min-face", type=int, default=MIN_GROUP_FACE, metavar="PX",
                        help=f"leave faces under PX px ungrouped (default {MIN_GROUP_FACE})")
    parser.add_argument("--threshold", type=float, nargs="*",
                        default=[0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2])
    args = parser.parse_args(argv)
    lib = Library.open(args.library, None, create=False)
    ids, emb = lib.all_embeddings()
    scored, truth = largest_faces(lib)
    rows = np.searchsorted(ids, scored)
    side = dict(lib.query("SELECT id, MIN(w, h) FROM faces"))
    ok = np.fromiter((side[f] >= args.min_face for f in ids.tolist()), bool, len(ids))
    print(f"{len(ids)} faces ({int((~ok).sum())} under {args.min_face} px left ungrouped, "
          f"each scored as a group of its own), {len(scored)} photos scored (largest face), "
          f"{len(set(truth))} identities")

    def with_small(labels_ok: np.ndarray) -> np.ndarray:
        labels = 10**9 + np.arange(len(ids))
        labels[ok] = labels_ok
        return labels

    def report(method: str, t: float, labels: np.ndarray, seconds: float) -> None:
        pred = labels[rows].tolist()
        p, r = pairwise_scores(truth, pred)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{method:28} t={t:<5} precision {p:.3f} recall {r:.3f} F1 {f1:.3f} "
              f"groups {len(set(pred)):4d} (all faces: {len(set(labels.tolist()))}) "
              f"{seconds * 1000:7.0f} ms")

    for t in args.threshold:
        t0 = time.perf_counter()
        labels = with_small(group_labels(emb[ok], t))
        report(f"chinese whispers (kNN {NEIGHBOURS})", t, labels, time.perf_counter() - t0)
    if args.compare:
        for t in args.threshold:
            t0 = time.perf_counter()
            idx, dist = knn(emb)
            indptr, nbrs, _w = edge_graph(idx, dist, t)
            parent = np.arange(len(ids))

            def find(x: int) -> int:
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            for i in range(len(ids)):
                for j in nbrs[indptr[i]:indptr[i + 1]]:
                    a, b = find(i), find(int(j))
                    if a != b:
                        parent[a] = b
            labels = np.array([find(i) for i in range(len(ids))])
            report(f"union-find (kNN {NEIGHBOURS})", t, labels, time.perf_counter() - t0)
        from sklearn.cluster import DBSCAN, AgglomerativeClustering

        for t in args.threshold:
            for min_samples in (1, 2):
                t0 = time.perf_counter()
                labels = DBSCAN(eps=t, min_samples=min_samples).fit_predict(emb)
                labels = np.where(labels < 0, 10**6 + np.arange(len(labels)), labels)
                report(f"DBSCAN min_samples={min_samples}", t, labels, time.perf_counter() - t0)
            for linkage in ("average", "complete"):
                t0 = time.perf_counter()
                labels = AgglomerativeClustering(n_clusters=None, distance_threshold=t,
                                                 linkage=linkage).fit_predict(emb)
                report(f"agglomerative {linkage}", t, labels, time.perf_counter() - t0)
    lib.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())


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


def _ids_in(library: Library, sql: str, ids: list[int]) -> list[tuple]:
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
    current = dict(_ids_in(library, "SELECT face_id, person_id FROM face_person WHERE face_id "
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
    for f, p in _ids_in(library, "SELECT face_id, person_id FROM face_person WHERE person_id "
                                 "IN ({marks})", list(votes)):
        members.setdefault(p, []).append(f)
    excluded: dict[int, set[int]] = {}
    for f, p in _ids_in(library, "SELECT face_id, person_id FROM face_exclusion WHERE face_id "
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
            rename(library, p, name)
            person_name[p] = name
        elif t != p:
            merge(library, t, p)
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
