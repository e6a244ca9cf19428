"""A library: the SQLite catalog (source of truth) and the HNSW index derived from it.

Layout of a library folder (see :mod:`facefinder.core.library_files`)::

    facefinder-library.json  marker: this folder is a facefinder library (its id)
    catalog.sqlite           photos, faces (with float32 embeddings), meta, state
    faces.hnsw               hnswlib index over the embeddings; labels are face ids

**The catalog keeps a record of itself.** Triggers on the ``faces`` table keep one ``state``
row up to date in the same transaction as every change: a *generation* number (bumped by every
face added, removed or re-embedded), the face count, the highest face id and the sum of the ids.
Removed and re-embedded faces are journalled in ``face_changes`` with their generation. Face ids
are never reused (AUTOINCREMENT), so the faces added after generation *g* are simply those above
the highest id at *g*.

**The index is verified, never trusted.** A saved index comes with a record in the catalog (the
state it reflects, plus the file's size and checksum; see :mod:`facefinder.core.hnsw_index`).
Opening checks the file's bytes against that record before hnswlib reads it, then brings the
index up to the catalog's generation from the journal: cost in proportion to what changed, not
to the library's size. A file that fails the check (damaged, left over, copied from elsewhere)
is rebuilt from the catalog with a one-line notice. Distances shown to users are recomputed
from the catalog's embeddings of the k results; an index that disagrees with them is rebuilt.

**Writes.** The catalog is written in transactions; the index is patched in memory and saved
atomically, but only when enough changed (:data:`SAVE_AFTER_CHANGES`) or the library is small:
rewriting a 700 MB index for ten new faces is wasteful when the next open patches them from the
catalog in a few milliseconds. A killed process loses nothing that was committed.

Every public method takes the library's lock: hnswlib must never answer ``knn_query`` while
``add_items``, ``resize_index`` or ``save_index`` runs, and SQLite writes are serialized. An open
library notices writes by other processes (the generation moved) and catches up before it
searches.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from .errors import (FacefinderError, LibraryDamagedError, LibraryError, ModelDamagedError,
                     ModelMismatchError, StorageError, db_error, notice, os_error_sentence)
from .hnsw_file import Graph, IndexFile, read_graph
from .hnsw_index import (DIM, NEW_PARAMS, FaceIndex, IndexParams, IndexRecord, IndexRejected,
                         chunked, file_identity, verify)
from .library_files import (CATALOG, INDEX, MARKER, catalog_identity, foreign_entries,
                            read_marker, write_marker)
from .paths import libraries_dir
from .faces import PhotoResult
from .align import ARTICLE, DEFAULT_PIPELINE
from .library_files import salvage_rows

SCHEMA_VERSION = 2
DEFAULT_LIBRARY = "default"

SAVE_AFTER_CHANGES = 250
"""Save the index when this many faces changed since the saved copy (or sooner when the library
is small, :data:`SAVE_ALWAYS_BELOW`); otherwise the next open patches them from the catalog.
Patching is not free: hnswlib inserts about 500-2,000 faces a second into a million-face index
on two cores, so 250 pending faces add a fraction of a second to every cold search until the
next save, while a save rewrites the whole file (0.7 GB at a million faces, 2-3 s; README,
"Scale")."""
SAVE_ALWAYS_BELOW = 100_000
"""Libraries under this many faces save their (small) index after every job."""
FILE_SEARCH_PENDING = 10_000
""":meth:`Library.search_once` searches the saved file when at most this many faces changed
since it was saved (they are compared one by one); beyond, it loads the index."""
FILE_KNN_MAX = 64
""":meth:`Library.knn` for at most this many faces walks the saved file when the index is not
loaded (a few new faces placed into people: 16 ms each at a million faces, against a second to
load the index)."""
HUGE_PAGES_AFTER = 20
"""An index of at least :data:`SAVE_ALWAYS_BELOW` faces that has answered this many searches
in one process (an app, not a one-shot command) is moved to huge pages in the background
(:meth:`FaceIndex.prefer_huge_pages`)."""
EXACT_CHECK = 1e-3
"""Largest difference tolerated between the index's distance and the catalog's for a result."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path BLOB NOT NULL UNIQUE,          -- os.fsencode(absolute path): any byte sequence
    display TEXT NOT NULL,              -- the path for people (undecodable bytes replaced)
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    status TEXT NOT NULL,               -- 'ok', 'noface' or 'skipped'
    error TEXT,
    width INTEGER, height INTEGER,
    indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS faces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: it is the HNSW label
    photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,
    confidence REAL NOT NULL,
    landmarks BLOB,                     -- (5, 2) float32
    embedding BLOB NOT NULL             -- (128,) float32, unit norm
);
CREATE INDEX IF NOT EXISTS faces_photo ON faces(photo_id);
CREATE TABLE IF NOT EXISTS folders (
    path BLOB PRIMARY KEY, display TEXT NOT NULL, recursive INTEGER NOT NULL, added_at REAL
);
"""

# Schema 2: the catalog's record of itself (module docstring), and who judged "no face".
_SCHEMA_2 = """
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL,
    faces INTEGER NOT NULL,
    max_face INTEGER NOT NULL,
    id_sum INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS face_changes (
    face_id INTEGER PRIMARY KEY,        -- removed or re-embedded
    generation INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS face_changes_generation ON face_changes(generation);
CREATE TRIGGER IF NOT EXISTS faces_added AFTER INSERT ON faces BEGIN
    UPDATE state SET generation = generation + 1, faces = faces + 1,
        max_face = MAX(max_face, NEW.id), id_sum = id_sum + NEW.id WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS faces_removed AFTER DELETE ON faces BEGIN
    UPDATE state SET generation = generation + 1, faces = faces - 1,
        id_sum = id_sum - OLD.id WHERE id = 1;
    INSERT OR REPLACE INTO face_changes(face_id, generation)
        SELECT OLD.id, generation FROM state WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS faces_reembedded AFTER UPDATE OF embedding ON faces BEGIN
    UPDATE state SET generation = generation + 1 WHERE id = 1;
    INSERT OR REPLACE INTO face_changes(face_id, generation)
        SELECT NEW.id, generation FROM state WHERE id = 1;
END;
"""


@dataclass
class FaceRow:
    """A face as stored: ids, the photo's path and the box (x, y, w, h) in photo pixels."""

    face_id: int
    photo_id: int
    path: str
    box: tuple[int, int, int, int]
    confidence: float


@dataclass
class Hit:
    """One search result. ``distance`` is the Euclidean distance between unit embeddings,
    computed from the catalog's embedding (the source of truth)."""

    rank: int
    distance: float
    face: FaceRow


@dataclass(frozen=True)
class State:
    """The catalog's record of its faces (module docstring)."""

    generation: int
    faces: int
    max_face: int
    id_sum: int


def resolve_library_path(name_or_path: str | os.PathLike | None) -> Path:
    """``None`` -> the default library; a bare name -> a library in the data folder; anything
    with a path separator (or an existing folder) -> that folder."""
    if name_or_path is None or str(name_or_path) == "":
        return libraries_dir() / DEFAULT_LIBRARY
    text = os.fspath(name_or_path)
    if os.sep in text or (os.altsep and os.altsep in text) or text.startswith(".") \
            or os.path.isdir(text):
        return Path(text).expanduser().absolute()
    return libraries_dir() / text


def list_libraries() -> list[Path]:
    return sorted(p for p in libraries_dir().iterdir() if (p / CATALOG).is_file())


def path_key(path: str | os.PathLike) -> bytes:
    return os.fsencode(os.path.abspath(os.fspath(path)))


def display_path(key: bytes) -> str:
    return key.decode("utf-8", errors="replace")


def fs_path(key: bytes) -> str:
    """The path to hand to the OS (undecodable bytes kept via surrogateescape)."""
    return os.fsdecode(key)


def ef_for(faces: int, M: int = NEW_PARAMS.M) -> int:
    """The search-time ``ef`` for a library of ``faces`` faces whose index was built with ``M``:
    enough for recall@10 >= 0.99 against exact search. hnswlib's recall falls as the graph grows,
    so ``ef`` grows about as the square root of the size. Measured with ``facefinder bench
    scale`` (README, "Scale"; M 24, ef_construction 100): recall@10 0.994 at 100k faces with
    ef 128, 0.991 at 300k with 192, 0.993 at 1M with 384. Indexes built with a smaller M (before
    M 24) need about 1.75 times as much (0.99 at 300k took 320 with M 16)."""
    ef = 32 * math.ceil(4 * (max(faces, 1) / 100_000) ** 0.48)
    if M < NEW_PARAMS.M and faces > 20_000:
        ef = int(ef * 1.75)
    return int(min(1024, max(64, ef)))


def sql_statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, one by one (``executescript`` would commit the
    transaction they belong in)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf
            buf = ""


def _guard(method):
    """Turn SQLite's exceptions inside a method into one-sentence FacefinderErrors."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise db_error(exc, self.path / CATALOG) from exc

    return wrapper


class Library:
    """An open library. Thread-safe: every method holds ``self.lock``.

    ``Library.open(path, fingerprint)`` creates the folder on first use and refuses (with
    :class:`ModelMismatchError`) a library made with another model fingerprint. It refuses to
    create a library in a folder that holds other files, and to touch a ``catalog.sqlite`` that
    facefinder did not make.
    """

    def __init__(self, path: Path, fingerprint: str | None, create: bool = True):
        self.path = Path(path)
        self.lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._index: FaceIndex | None = None
        self._at: IndexRecord | None = None  # the catalog state the in-memory index reflects
        self._unsaved = 0  # faces changed in the in-memory index since the saved file
        self._save_blocked = False
        self._searches = 0  # answered by the in-memory index since it was loaded
        self._checking: tuple[threading.Thread, list] | None = None  # see prepare_search
        self._verified = None  # the saved file as last checked (search_once)
        self._migrated_from = SCHEMA_VERSION
        self.ef: int | None = None  # None: chosen from the library's size (ef_for)
        # Where the vectors live: FaceIndex (hnswlib, the default), or any kind with the same
        # load(path, records) and build(chunks, capacity, params) whose indexes answer add,
        # remove, query and save as FaceIndex does (e.g. distributed.qdrant_store).
        self.vectors = FaceIndex
        self._open(create)
        self._check_fingerprint(fingerprint)

    @classmethod
    def open(cls, name_or_path=None, fingerprint: str | None = None, create: bool = True
             ) -> "Library":
        return cls(resolve_library_path(name_or_path), fingerprint, create)

    # -- opening -----------------------------------------------------------------------------------
    def _open(self, create: bool) -> None:
        shown = self.path
        if self.path.exists() and not self.path.is_dir():
            raise LibraryError(f"{shown} is a file, not a library folder.")
        catalog = self.path / CATALOG
        if os.path.lexists(catalog):
            if not catalog.is_file():
                raise LibraryError(f"{catalog} is not a file; this is not a facefinder library.")
            if catalog_identity(catalog) is None:
                empty = catalog.stat().st_size == 0 and read_marker(self.path) is not None
                if not empty:
                    raise LibraryError(
                        f"{shown} holds a catalog.sqlite that facefinder did not make; "
                        "facefinder leaves it alone. Choose another folder for the library.")
        else:
            if not create:
                raise LibraryError(f"No library at {shown}; index a folder into it first.")
            others = foreign_entries(self.path)
            if others:
                raise LibraryError(
                    f"{shown} is not empty and is not a facefinder library; choose a new or "
                    "empty folder for it (nothing in that folder was touched).")
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(os_error_sentence(exc, "cannot create the library")) from None
        try:
            self._db = sqlite3.connect(catalog, check_same_thread=False, timeout=30,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            if self._db is not None:
                self._db.close()
            raise db_error(exc, catalog) from exc
        library_id = self.meta("library_id")
        if library_id is None:
            library_id = uuid.uuid4().hex
            self.set_meta("library_id", library_id)
        marker = read_marker(self.path)
        if marker is None or marker.get("id") != library_id:
            write_marker(self.path, library_id)

    def _migrate(self) -> None:
        """Create the tables, or bring an older catalog to :data:`SCHEMA_VERSION` in one
        transaction (schema 1 -> 2: the state record, its triggers, ``photos.judged_by``)."""
        db = self._db
        try:  # already current: no write at all (an open must not wait for a busy writer)
            current = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if current and int(current[0]) >= SCHEMA_VERSION and \
                    db.execute("SELECT 1 FROM state WHERE id = 1").fetchone():
                return
        except (sqlite3.OperationalError, ValueError):  # no such table yet: a new catalog
            pass
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql_statements(_SCHEMA + _SCHEMA_2):
                db.execute(statement)
            schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            self._migrated_from = int(schema[0]) if schema else SCHEMA_VERSION
            columns = {r[1] for r in db.execute("PRAGMA table_info(photos)")}
            if "judged_by" not in columns:
                db.execute("ALTER TABLE photos ADD COLUMN judged_by TEXT")
            if db.execute("SELECT 1 FROM state WHERE id = 1").fetchone() is None:
                db.execute("INSERT INTO state(id, generation, faces, max_face, id_sum) SELECT 1, "
                           "0, COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM faces")
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)",
                       (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    # -- meta ----------------------------------------------------------------------------------
    def _check_fingerprint(self, fingerprint: str | None) -> None:
        with self.lock:
            stored = self.meta("model")
            if stored is None:
                if fingerprint is not None:
                    self.set_meta("model", fingerprint)
                    self.set_meta("created", time.strftime("%Y-%m-%d %H:%M:%S"))
            elif fingerprint is not None and stored != fingerprint:
                raise ModelMismatchError(
                    f"The library at {self.path} was built with another face model ({stored}); "
                    f"it cannot be mixed with {fingerprint}. Index into a new library instead."
                )

    @_guard
    def meta(self, key: str) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    @_guard
    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def name(self) -> str:
        return self.path.name

    @_guard
    def state(self) -> State:
        """The catalog's record of its faces (one row: no table scan)."""
        with self.lock:
            row = self._db.execute(
                "SELECT generation, faces, max_face, id_sum FROM state WHERE id = 1").fetchone()
        return State(*row)

    # -- extensions (people, ...) keep their own tables in the same catalog -------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction under the library lock: commits on success, rolls back on error
        (when SQLite has not rolled back already, as it does on a full disk). SQLite errors come
        out as one-sentence FacefinderErrors."""
        with self.lock:
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    try:
                        self._db.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise db_error(exc, self.path / CATALOG) from exc
                raise

    @_guard
    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of a read-only query, under the library lock."""
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    # -- folders and photos ------------------------------------------------------------------
    @_guard
    def add_folder(self, folder: str | os.PathLike, recursive: bool) -> None:
        key = path_key(folder)
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO folders(path, display, recursive, added_at) "
                "VALUES (?, ?, ?, ?)", (key, display_path(key), int(recursive), time.time()))

    @_guard
    def folders(self) -> list[tuple[str, bool]]:
        with self.lock:
            rows = self._db.execute("SELECT path, recursive FROM folders ORDER BY display")
            return [(fs_path(p), bool(r)) for p, r in rows.fetchall()]

    @_guard
    def known_photos(self, under: str | os.PathLike | None = None
                     ) -> dict[bytes, tuple[int, int, int, str, str | None]]:
        """``{path key: (photo id, size, mtime_ns, status, judged_by)}`` for photos under a
        folder (or all)."""
        with self.lock:
            rows = self._db.execute(
                "SELECT path, id, size, mtime_ns, status, judged_by FROM photos").fetchall()
        if under is None:
            return {r[0]: tuple(r[1:]) for r in rows}
        prefix = path_key(under).rstrip(os.sep.encode()) + os.sep.encode()
        return {r[0]: tuple(r[1:]) for r in rows if r[0].startswith(prefix)}

    def store_results(self, items: Sequence[tuple[PhotoResult, int, int]],
                      judged_by: str | None = None) -> list[int]:
        """Write photos and their faces in one transaction; returns the new face ids.

        ``items``: ``(result, size, mtime_ns)`` per photo. A photo stored again replaces its
        earlier faces. ``judged_by`` records the detector and model that looked at the photos,
        so that photos judged to hold no face are looked at again by a different one. Faces whose
        embeddings are not finite unit vectors are refused (ModelDamagedError): a damaged model must
        never write into a library."""
        new_ids: list[int] = []
        now = time.time()
        _refuse_invalid([face for result, _, _ in items for face in result.faces])
        with self.lock:
            with self.transaction() as cur:
                for result, size, mtime_ns in items:
                    key = path_key(result.path)
                    cur.execute("DELETE FROM photos WHERE path=?", (key,))
                    status = "skipped" if result.error else ("ok" if result.faces else "noface")
                    cur.execute(
                        "INSERT INTO photos(path, display, size, mtime_ns, status, error, width, "
                        "height, indexed_at, judged_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (key, display_path(key), size, mtime_ns, status, result.error,
                         result.width, result.height, now, judged_by))
                    photo_id = cur.lastrowid
                    for face in result.faces:
                        cur.execute(
                            "INSERT INTO faces(photo_id, x, y, w, h, confidence, landmarks, "
                            "embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (photo_id, *map(int, face.box), float(face.confidence),
                             np.asarray(face.landmarks, np.float32).tobytes(),
                             np.asarray(face.embedding, np.float32).tobytes()))
                        new_ids.append(cur.lastrowid)
            self._catch_up()
        return new_ids

    def add_faces(self, path: str | os.PathLike, faces: Sequence) -> list[int]:
        """Add faces to a photo already in the catalog, keeping its other faces (faces drawn by
        hand in another program, read from the photo's XMP); returns their ids. ``faces``:
        :class:`~facefinder.core.pipeline.Face` objects. The photo counts as holding faces."""
        _refuse_invalid(faces)
        key = path_key(path)
        ids: list[int] = []
        with self.lock:
            with self.transaction() as cur:
                row = cur.execute("SELECT id FROM photos WHERE path=?", (key,)).fetchone()
                if row is None:
                    raise LibraryError(f"{display_path(key)} is not in the library.")
                for face in faces:
                    cur.execute(
                        "INSERT INTO faces(photo_id, x, y, w, h, confidence, landmarks, "
                        "embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (row[0], *map(int, face.box), float(face.confidence),
                         np.asarray(face.landmarks, np.float32).tobytes(),
                         np.asarray(face.embedding, np.float32).tobytes()))
                    ids.append(cur.lastrowid)
                if faces:
                    cur.execute("UPDATE photos SET status='ok', error=NULL WHERE id=?", (row[0],))
            self._catch_up()
        return ids

    def remove_photos(self, keys: Iterable[bytes]) -> int:
        """Forget photos (deleted from disk) and their faces; returns how many faces went."""
        keys = list(keys)
        removed = 0
        with self.lock:
            with self.transaction() as cur:
                for key in keys:
                    removed += cur.execute(
                        "SELECT COUNT(*) FROM faces JOIN photos ON photos.id = faces.photo_id "
                        "WHERE photos.path=?", (key,)).fetchone()[0]
                    cur.execute("DELETE FROM photos WHERE path=?", (key,))
            self._catch_up()
        return removed

    # -- reading --------------------------------------------------------------------------------
    @_guard
    def stats(self) -> dict:
        with self.lock:
            q = self._db.execute
            counts = dict(q("SELECT status, COUNT(*) FROM photos GROUP BY status").fetchall())
            return {
                "path": str(self.path),
                "model": self.meta("model"),
                "created": self.meta("created"),
                "photos": sum(counts.values()),
                "photos_with_faces": counts.get("ok", 0),
                "photos_without_faces": counts.get("noface", 0),
                "skipped": counts.get("skipped", 0),
                "faces": self.state().faces,
                "folders": [f for f, _ in self.folders()],
            }

    @_guard
    def skipped(self) -> list[tuple[str, str]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT display, error FROM photos WHERE status='skipped' ORDER BY display")
            return [(d, e or "") for d, e in rows.fetchall()]

    @_guard
    def face_rows(self, face_ids: Sequence[int]) -> dict[int, FaceRow]:
        return {fid: row for fid, (row, _) in self._rows(face_ids, False).items()}

    def _rows(self, face_ids: Sequence[int], embeddings: bool
              ) -> dict[int, tuple[FaceRow, np.ndarray | None]]:
        if not len(face_ids):
            return {}
        out: dict[int, tuple[FaceRow, np.ndarray | None]] = {}
        extra = ", faces.embedding" if embeddings else ", NULL"
        with self.lock:
            ids = [int(i) for i in face_ids]
            for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                chunk = ids[start:start + 900]
                rows = self._db.execute(
                    f"SELECT faces.id, photos.id, photos.path, x, y, w, h, confidence{extra} "
                    "FROM faces JOIN photos ON photos.id = faces.photo_id WHERE faces.id IN "
                    f"({','.join('?' * len(chunk))})", chunk)
                rows = rows.fetchall()
                if embeddings:  # every embedding checked, in one go (a search reads ten)
                    matrix = self._checked_matrix(
                        np.fromiter((r[0] for r in rows), np.int64, len(rows)),
                        [r[8] for r in rows])
                for i, (fid, pid, path, x, y, w, h, conf, _emb) in enumerate(rows):
                    vec = matrix[i] if embeddings else None
                    out[fid] = (FaceRow(fid, pid, fs_path(path), (x, y, w, h), conf), vec)
        return out

    @_guard
    def all_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (N,) int64, embeddings (N, 128) float32)`` straight from SQLite."""
        with self.lock:
            rows = self._db.execute("SELECT id, embedding FROM faces ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        emb = self._checked_matrix(ids, [r[1] for r in rows])
        return ids, emb

    def _checked_matrix(self, ids: np.ndarray, blobs: list[bytes]) -> np.ndarray:
        """(N, 128) float32 from embedding blobs, each checked (see :meth:`_check_blob`)."""
        if not blobs:
            return np.zeros((0, DIM), np.float32)
        for fid, blob in zip(ids.tolist(), blobs):
            if blob is None or len(blob) != DIM * 4:
                self._check_blob(fid, blob)
        emb = np.frombuffer(b"".join(blobs), np.float32).reshape(-1, DIM)
        bad = ~unit_rows(emb)
        if bad.any():
            i = int(np.argmax(bad))
            self._check_blob(int(ids[i]), blobs[i])
        return emb

    @_guard
    def export_rows(self) -> list[tuple[str, tuple[int, int, int, int], float, np.ndarray]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT photos.path, x, y, w, h, confidence, embedding FROM faces JOIN photos "
                "ON photos.id = faces.photo_id ORDER BY faces.id").fetchall()
        emb = self._checked_matrix(np.arange(1, len(rows) + 1), [r[6] for r in rows])
        return [(fs_path(p), (x, y, w, h), c, emb[i])
                for i, (p, x, y, w, h, c, _) in enumerate(rows)]

    def face_count(self) -> int:
        return self.state().faces

    # -- the HNSW index ---------------------------------------------------------------------------
    @property
    def file_backed(self) -> bool:
        """Whether the vectors live in this folder's ``faces.hnsw`` (hnswlib, the default), so
        that one-shot searches and grouping may read the saved file directly; other vector
        stores (Qdrant) answer through their own interface."""
        return self.vectors is FaceIndex

    @property
    def index_path(self) -> Path:
        return self.path / INDEX

    def _records(self) -> list[IndexRecord]:
        """The saved-index records the catalog holds: the last one, and one whose save was
        under way (a crash between writing the file and recording it)."""
        out = []
        for key in ("index_record", "index_pending"):
            raw = self.meta(key)
            if raw:
                try:
                    rec = IndexRecord.from_dict(json.loads(raw))
                except ValueError:
                    rec = None
                if rec is not None:
                    out.append(rec)
        return out

    def _chunks(self, after: int = 0, upto: int | None = None, size: int = 20_000,
                boxes: bool = False) -> Iterator[tuple[np.ndarray, ...]]:
        """``(ids (n,) int64, vectors (n, 128) float32[, boxes (n, 4) int32])`` of the faces with
        ``after < id <= upto``, in id order, ``size`` at a time (bounded memory; each embedding
        checked). Each chunk is its own query, so the lock is not held between chunks."""
        last = int(after)
        bound = (1 << 62) if upto is None else int(upto)
        extra = ", x, y, w, h" if boxes else ""
        while True:
            with self.lock:
                rows = self._db.execute(
                    f"SELECT id, embedding{extra} FROM faces WHERE id > ? AND id <= ? "
                    "ORDER BY id LIMIT ?", (last, bound, int(size))).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            vectors = self._checked_matrix(ids, [r[1] for r in rows])
            last = int(ids[-1])
            if boxes:
                yield ids, vectors, np.asarray([r[2:] for r in rows], np.int32).reshape(-1, 4)
            else:
                yield ids, vectors
            if len(rows) < size:
                return

    def embedding_chunks(self, upto: int | None = None, size: int = 50_000
                         ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every face with ``id <= upto`` (default: all) as chunks of ``(ids (n,) int64,
        embeddings (n, 128) float32, boxes (n, 4) int32 x, y, w, h)`` in id order: the whole
        library in bounded memory (``size`` faces at a time). Writers may commit between chunks;
        pass ``upto`` (e.g. ``state().max_face``) for a consistent set of faces."""
        try:
            yield from self._chunks(0, upto, size, boxes=True)
        except sqlite3.Error as exc:
            raise db_error(exc, self.path / CATALOG) from exc

    @_guard
    def embeddings_of(self, face_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (m,) int64 ascending, embeddings (m, 128) float32)`` of those of ``face_ids``
        that exist."""
        ids = sorted({int(i) for i in face_ids})
        rows: list[tuple[int, bytes]] = []
        with self.lock:
            for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                chunk = ids[start:start + 900]
                rows += self._db.execute(
                    f"SELECT id, embedding FROM faces WHERE id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY id", chunk).fetchall()
        found = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        return found, self._checked_matrix(found, [r[1] for r in rows])

    def _check_blob(self, face_id: int, blob: bytes | None) -> None:
        """Every stored embedding is a finite unit vector; anything else is damage in the catalog
        that SQLite cannot see (it keeps no checksums of row contents)."""
        if not _unit_blob(blob):
            raise LibraryDamagedError(
                f"The library catalog {self.path / CATALOG} is damaged (the stored embedding of "
                f"face {face_id} is not a unit vector); run `facefinder library repair` on it to "
                "keep everything that is intact (your photos are not touched).")

    def _ensure_index(self, state: State | None = None) -> FaceIndex:
        """The in-memory index, loaded (verified) or built, in step with the catalog (``state``:
        the catalog's, when the caller has just read it). Lock held."""
        if self._index is None:
            self._load_or_build()
        else:
            self._catch_up(state)
        return self._index

    def _load_or_build(self) -> None:
        self._searches = 0
        state = self.state()
        records = self._records()
        problem = None
        verified = None
        if self._checking is not None:  # prepare_search checked the file meanwhile
            thread, result = self._checking
            self._checking = None
            thread.join()
            verified = result[0] if result else None
        try:
            index, rec = self.vectors.load(self.index_path, records, verified)
        except IndexRejected as exc:
            problem = str(exc)
            index, rec = None, None
        if index is not None and rec.generation < self._pruned_upto() and \
                rec.generation != state.generation:
            index, rec, problem = None, None, None  # too old to patch: rebuild quietly
        if index is None:
            # An index from before the catalog kept records (schema 1) is rebuilt quietly.
            legacy = not records and self._migrated_from < 2
            if problem and problem != "missing" and state.faces and not legacy:
                notice(f"The face index {self.index_path} {problem}; rebuilt it from the "
                       "catalog (nothing is lost).")
            self._build(state)
            return
        self._index, self._at, self._unsaved = index, rec, 0
        self._catch_up()

    def _build(self, state: State) -> None:
        # A library keeps the parameters its index was built with; a new one gets NEW_PARAMS.
        known = self._records()
        params = IndexParams(known[0].M, known[0].ef_construction) if known else NEW_PARAMS
        self._index = self.vectors.build(self._chunks(0, state.max_face), state.faces + 1024,
                                         params)
        self._at = IndexRecord(state.generation, state.faces, state.max_face, state.id_sum,
                               M=params.M, ef_construction=params.ef_construction)
        self._unsaved = max(state.faces, 1)
        after = self.state()
        if after != state:  # another process wrote while we read: take its changes too
            self._catch_up()

    def _pruned_upto(self) -> int:
        raw = self.meta("changes_pruned_upto")
        return int(raw) if raw else 0

    def _catch_up(self, state: State | None = None) -> None:
        """Apply to the in-memory index what changed in the catalog since it was made (faces
        added above its highest id, faces removed or re-embedded after its generation)."""
        if self._index is None:
            return
        state = state or self.state()
        at = self._at
        if state.generation == at.generation:
            return
        if at.generation < self._pruned_upto():
            # Another process saved the index and forgot the journal we need: start again
            # from the saved file (at or after that point), or from the catalog.
            self._index = None
            self._load_or_build()
            return
        gone, redone = self._changed_since(at)
        self._index.remove(gone)
        n = len(gone)
        for ids, vectors in chunked(iter(redone)):
            self._index.add(ids, vectors)
            n += len(ids)
        for ids, vectors in self._chunks(at.max_face, state.max_face):
            self._index.add(ids, vectors)
            n += len(ids)
        self._at = IndexRecord(state.generation, state.faces, state.max_face, state.id_sum,
                               M=at.M, ef_construction=at.ef_construction)
        self._unsaved += n

    def _changed_since(self, at: IndexRecord) -> tuple[list[int], list[tuple[int, bytes]]]:
        """Faces up to ``at.max_face`` removed, and re-embedded ``(id, embedding)``, after
        ``at.generation`` (the journal). Lock held."""
        changed = self._db.execute(
            "SELECT face_changes.face_id, faces.embedding FROM face_changes LEFT JOIN faces ON "
            "faces.id = face_changes.face_id WHERE face_changes.generation > ? AND "
            "face_changes.face_id <= ?", (at.generation, at.max_face)).fetchall()
        gone = [fid for fid, emb in changed if emb is None]
        redone = [(fid, emb) for fid, emb in changed if emb is not None]
        for fid, emb in redone:
            self._check_blob(fid, emb)
        return gone, redone

    @_guard
    def load_index(self) -> None:
        """Load (or build) the index now, so that later writes keep it up to date."""
        with self.lock:
            self._ensure_index()

    @_guard
    def save_index(self, force: bool = False) -> bool:
        """Write the index next to the catalog (atomically) when enough changed since the saved
        copy (see :data:`SAVE_AFTER_CHANGES`), or always with ``force``. Returns whether it
        saved. A failure (full disk, no permission, ``faces.hnsw`` a folder) is a one-line
        notice, not an error: the catalog holds everything and the next open catches up."""
        with self.lock:
            if self._index is None or self._unsaved == 0 or self._save_blocked:
                return False
            self._catch_up()
            at = self._at
            if not force and self._unsaved < SAVE_AFTER_CHANGES and at.faces >= SAVE_ALWAYS_BELOW:
                return False
            def record(size: int, checksum: int) -> IndexRecord:
                return IndexRecord(at.generation, at.faces, at.max_face, at.id_sum, size,
                                   checksum, at.M, at.ef_construction)

            def pending(size: int, checksum: int) -> None:
                # A crash between the rename and the record below leaves a file that matches
                # this pending record, so it is still used (not rebuilt).
                self.set_meta("index_pending", json.dumps(record(size, checksum).to_dict()))

            try:
                rec = record(*self._index.save(self.index_path, pending))
            except OSError as exc:
                self._save_blocked = True
                notice(os_error_sentence(exc, "could not save the face index") +
                       "; searches still work, and the next run catches up from the catalog.")
                return False
            with self.transaction() as cur:
                cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('index_record', ?)",
                            (json.dumps(rec.to_dict()),))
                cur.execute("DELETE FROM meta WHERE key = 'index_pending'")
                # The journal before this generation is no longer needed by anyone who starts
                # from the saved file; a process holding an older index reloads it.
                cur.execute("DELETE FROM face_changes WHERE generation <= ?", (at.generation,))
                cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES "
                            "('changes_pruned_upto', ?)", (str(at.generation),))
            self._unsaved = 0
            return True

    def search(self, embedding: np.ndarray, k: int = 10) -> list[Hit]:
        """The ``k`` faces nearest to ``embedding`` (128,), nearest first. Distances are those
        of the catalog's embeddings; an index that disagrees with them is rebuilt."""
        query = np.asarray(embedding, np.float32).reshape(DIM)
        if not np.isfinite(query).all():
            raise FacefinderError("The query's embedding is not a valid vector (the face model "
                                  "may be damaged); run `facefinder model fetch` to repair it.")
        for attempt in (0, 1):
            hits, suspicious = self._search_once(query, k)
            if not suspicious:
                return hits
            with self.lock:
                notice(f"The face index {self.index_path} disagreed with the catalog; rebuilt "
                       "it from the catalog (nothing is lost).")
                self._index = None
                self._build(self.state())
        return hits

    def search_once(self, embedding: np.ndarray, k: int = 10) -> list[Hit]:
        """:meth:`search` for a process that searches once (a command): when the index is not
        loaded yet, the search runs straight on the saved file (:class:`IndexFile`: the few
        thousand records it visits are read, not the whole index; the faces changed since the
        file was saved are compared exactly), so a million faces cost neither hnswlib's second
        to load them nor the 0.75 GB it holds them in. The same answers as :meth:`search` (the
        same walk through the same graph, the catalog's distances); it falls back to it when
        the file cannot be used."""
        query = np.asarray(embedding, np.float32).reshape(DIM)
        if np.isfinite(query).all():
            try:
                found = self._search_file(query, k)
            except sqlite3.Error as exc:
                raise db_error(exc, self.path / CATALOG) from exc
            if found is not None:
                return found
        return self.search(query, k)

    def _search_file(self, query: np.ndarray, k: int) -> list[Hit] | None:
        """:meth:`search_once` on the saved file; None when it cannot be used."""
        with self.lock:
            found = self._file_knn(query[None, :], k)
            if found is None:
                return None
            labels, d2 = found[0][0], found[1][0]
            live = labels >= 0
            labels, d2 = labels[live], d2[live]
            rows = self._rows(labels.tolist(), True)
        hits, suspicious = _hits(labels, d2, rows, query)
        return None if suspicious else hits

    def _file_knn(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The ``k`` nearest faces of each of ``queries`` (n, 128) by a walk through the saved
        index file (:class:`IndexFile`), with the faces changed since it was saved compared
        exactly: ``(face ids (n, k) int64, squared distances (n, k))``, -1 / inf where fewer.
        None when the file cannot be used (the index is loaded already, the file does not match
        the catalog's record, too much changed since). Lock held."""
        if self._index is not None or not self.file_backed:
            return None
        state = self.state()
        if state.faces == 0:
            return None
        verified = self._verified
        if self._checking is not None:
            thread, result = self._checking
            self._checking = None
            thread.join()
            verified = result[0] if result else None
        records = self._records()
        if verified is None or verified.record not in records or \
                file_identity(self.index_path) != verified.identity:
            try:
                verified = verify(self.index_path, records)
            except IndexRejected:
                return None  # the index is loaded (rebuilt, with a notice) instead
        self._verified = verified  # the next one-shot search reads it once more at most
        at = verified.record
        if at.generation < self._pruned_upto() or \
                state.max_face - at.max_face > FILE_SEARCH_PENDING:
            return None
        gone, redone = self._changed_since(at)
        if len(gone) + len(redone) > FILE_SEARCH_PENDING:
            return None
        extra_ids, extra_vectors = [np.zeros(0, np.int64)], [np.zeros((0, DIM), np.float32)]
        for ids, vectors in self._chunks(at.max_face, state.max_face):
            extra_ids.append(ids)
            extra_vectors.append(vectors)
        for ids, vectors in chunked(iter(redone)):
            extra_ids.append(ids)
            extra_vectors.append(vectors)
        extra = np.concatenate(extra_ids), np.concatenate(extra_vectors)
        skip = np.fromiter(set(gone) | {fid for fid, _ in redone}, np.int64)
        k = max(1, min(int(k), state.faces))
        ef = self.ef or ef_for(state.faces, at.M)
        labels = np.full((len(queries), k), -1, np.int64)
        d2 = np.full((len(queries), k), np.inf, np.float32)
        try:
            with IndexFile(self.index_path) as file:
                if file.identity != verified.identity:
                    return None  # replaced since it was checked
                for i, q in enumerate(queries):
                    found, dist = file.search(q, k + len(skip), ef)
                    keep = ~np.isin(found, skip)
                    found = np.concatenate([found[keep], extra[0]])
                    dist = np.concatenate([dist[keep], ((extra[1] - q) ** 2).sum(axis=1)])
                    order = np.argsort(dist, kind="stable")[:k]
                    labels[i, :len(order)] = found[order]
                    d2[i, :len(order)] = dist[order]
        except (OSError, IndexRejected, ValueError):
            return None
        return labels, d2

    @_guard
    def _search_once(self, query: np.ndarray, k: int) -> tuple[list[Hit], bool]:
        with self.lock:
            state = self.state()
            n = state.faces
            if n == 0:
                raise LibraryError(
                    f"The library '{self.name}' has no faces yet; index a folder first.")
            index = self._ensure_index(state)
            k = max(1, min(int(k), n))
            labels, d2 = index.query(query, k, self.ef or ef_for(n, index.params.M))
            rows = self._rows(labels.tolist(), True)
            self._searches += 1
            if self._searches == HUGE_PAGES_AFTER and n >= SAVE_ALWAYS_BELOW \
                    and self.file_backed:
                threading.Thread(target=index.prefer_huge_pages, daemon=True,
                                 name="facefinder-huge-pages").start()
        return _hits(labels, d2, rows, query)

    @_guard
    def knn(self, vectors: np.ndarray, k: int, ef: int | None = None, threads: int = -1
            ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest faces of each of ``vectors`` (n, 128) by the HNSW index, in one
        batch on ``threads`` cores (-1: all): ``(face ids (n, k) int64, distances (n, k)
        float32)``, nearest first; -1 and inf where fewer faces were found. ``ef`` defaults to
        the search's. Approximate like :meth:`search`, but the distances are the index's (no
        catalog read per neighbour): for grouping, not for showing."""
        with self.lock:
            vectors = np.asarray(vectors, np.float32).reshape(-1, DIM)
            if len(vectors) <= FILE_KNN_MAX and not ef:
                found = self._file_knn(vectors, k)  # a few faces: no need to load the index
                if found is not None:
                    return found[0], np.sqrt(np.maximum(found[1], 0.0)).astype(np.float32)
            n = self.state().faces
            index = self._ensure_index()
            k = max(1, min(int(k), n))
            return index.knn(vectors, k, ef or self.ef or ef_for(n, index.params.M), threads)

    @_guard
    def index_graph(self) -> Graph | None:
        """The bottom layer of the HNSW index (:func:`~facefinder.core.hnsw_index.read_graph`):
        the neighbours hnswlib found for every face, read from the saved file without loading
        the index. A saved file that lags the catalog is brought up to date first (the index is
        loaded, patched, saved and dropped). None when no current file can be had (a full disk,
        say): the caller finds neighbours with :meth:`knn` instead."""
        if not self.file_backed:
            return None
        with self.lock:
            for attempt in (0, 1):
                state = self.state()
                current = [r for r in self._records() if r.generation == state.generation]
                if current:
                    try:
                        return read_graph(self.index_path, current)[0]
                    except IndexRejected:
                        pass
                if attempt == 0:
                    self._ensure_index()
                    self._unsaved = max(self._unsaved, 1)  # the file must be written again
                    self.save_index(force=True)
                    self.release_index()
        return None

    @_guard
    def prepare_search(self) -> None:
        """Start checking the saved index file against the catalog's records in the background,
        when the index is not loaded yet: a one-shot search calls this before it loads the face
        model, so that reading 0.7 GB for the checksum of a million faces' index runs beside the
        model instead of after it. The first search waits for it (and checks again whatever
        changed since)."""
        with self.lock:
            if self._index is not None or self._checking is not None or not self.file_backed:
                return
            records = self._records()
            result: list = []

            def check() -> None:
                try:
                    result.append(verify(self.index_path, records))
                except IndexRejected:
                    pass  # the load finds out again and says so

            thread = threading.Thread(target=check, daemon=True, name="facefinder-check-index")
            self._checking = (thread, result)
            thread.start()

    @_guard
    def index_params(self) -> IndexParams:
        """How the index was built (loading it if needed)."""
        with self.lock:
            return self._ensure_index().params

    def prefer_huge_pages(self) -> int:
        """Move the in-memory index to huge pages now (see :data:`HUGE_PAGES_AFTER`, which does
        it on its own in a process that searches a large library many times); returns bytes."""
        with self.lock:
            index = self._index
        return index.prefer_huge_pages() if index is not None else 0

    @_guard
    def release_index(self) -> None:
        """Save the in-memory index if it is due (:meth:`save_index`), then drop it; the next
        search loads it again. Frees its memory (about 0.75 GB per million faces)."""
        with self.lock:
            if self._index is not None:
                self.save_index()
            self._index = None
            self._at = None
            self._unsaved = 0

    # -- the pipeline that made the embeddings (see core.align, core.upgrade) ----------------------
    def pipeline_name(self) -> str:
        """The name of the crop pipeline the library's embeddings were made with
        (:data:`facefinder.core.align.PIPELINES`). Libraries that record none were built before
        pipelines were recorded, by the article's; an empty one takes the default."""
        stored = self.meta("pipeline")
        if stored:
            return stored
        return DEFAULT_PIPELINE if self.face_count() == 0 else ARTICLE

    def drop_index(self) -> None:
        """Forget the HNSW index (in memory and on disk); it is rebuilt from SQLite on next use.
        For after every embedding changed at once (an upgrade)."""
        with self.lock:
            if self._checking is not None:
                self._checking[0].join()
            self._index, self._at, self._unsaved = None, None, 0
            self._checking, self._verified = None, None
            with self.transaction() as cur:
                cur.execute("DELETE FROM meta WHERE key IN ('index_record', 'index_pending')")
            if self.index_path.is_file():
                with contextlib.suppress(FileNotFoundError):
                    self.index_path.unlink()

    def close(self) -> None:
        with self.lock:
            if self._db is None:
                return
            try:
                self.save_index()
            except FacefinderError as exc:
                notice(str(exc))
            finally:
                self._db.close()
                self._db = None

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _hits(labels: np.ndarray, d2: np.ndarray, rows: dict, query: np.ndarray
          ) -> tuple[list[Hit], bool]:
    """Hits for the index's answer ``labels``/``d2`` (squared distances), with the distances of
    the catalog's embeddings (``rows``: face id -> (FaceRow, embedding)); and whether the two
    disagree (the index is not what the catalog holds)."""
    live = [(label, sq) for label, sq in zip(labels.tolist(), d2.tolist()) if label in rows]
    # (a face missing from rows was deleted by another process since the index caught up)
    if not live:
        return [], False
    vectors = np.stack([rows[label][1] for label, _ in live])
    exact = np.sqrt(np.einsum("ij,ij->i", vectors - query, vectors - query)).tolist()
    hits, suspicious = [], False
    for (label, sq), d in zip(live, exact):
        if abs(d - math.sqrt(max(sq, 0.0))) > EXACT_CHECK:
            suspicious = True
        hits.append(Hit(0, d, rows[label][0]))
    hits.sort(key=lambda h: (h.distance, h.face.face_id))
    for rank, h in enumerate(hits, 1):
        h.rank = rank
    return hits, suspicious


def repair_library(path: Path) -> dict:
    """Salvage a damaged catalog: every row SQLite can still read goes into a new catalog; the
    damaged file is kept beside it (``catalog.sqlite.damaged-<time>``), never deleted. Photos
    whose faces could not all be read are marked to be indexed again. Returns a report
    ``{"tables": {name: [kept, lost ranges]}, "damaged_copy": path}``."""
    path = Path(path)
    catalog = path / CATALOG
    if not catalog.is_file():
        raise LibraryError(f"No library at {path}.")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    damaged = path / f"{CATALOG}.damaged-{stamp}"
    try:
        old = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
        try:
            tables = {r[0]: r[1] for r in old.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='table' AND name NOT LIKE "
                "'sqlite_%'")}
        except sqlite3.DatabaseError:
            tables = {}
        salvaged: dict[str, tuple[list[str], list[tuple], int]] = {}
        for name in tables:
            try:
                cols = [r[1] for r in old.execute(f'PRAGMA table_info("{name}")')]
            except sqlite3.DatabaseError:
                continue
            rows, lost = salvage_rows(old, name, cols)
            salvaged[name] = (cols, rows, lost)
        old.close()
        # Keep the damaged catalog (and its journal) aside, then build a new one.
        for suffix in ("", "-wal", "-shm"):
            src = path / (CATALOG + suffix)
            if src.exists():
                os.replace(src, path / (damaged.name + suffix))
    except OSError as exc:
        raise StorageError(os_error_sentence(exc, "cannot repair the library")) from None
    new = Library(path, None, create=True)
    report: dict = {"tables": {}, "damaged_copy": str(damaged)}
    try:
        with new.transaction() as cur:
            # (people_grouped: how far the people were grouped; rows of face_person may be lost)
            cur.execute("DELETE FROM meta WHERE key IN ('library_id', 'index_record', "
                        "'index_pending', 'changes_pruned_upto', 'people_grouped')")
            for name in _REPAIR_ORDER + sorted(set(salvaged) - set(_REPAIR_ORDER)):
                if name not in salvaged or name in ("state", "face_changes"):
                    continue
                cols, rows, lost = salvaged[name]
                have = {r[1] for r in cur.execute(f'PRAGMA table_info("{name}")')}
                if not have:
                    cur.execute(tables[name])
                    have = set(cols)
                keep = [i for i, c in enumerate(cols) if c in have]
                names = ", ".join(f'"{cols[i]}"' for i in keep)
                marks = ", ".join("?" * len(keep))
                cur.execute("PRAGMA defer_foreign_keys = ON")
                cur.executemany(f'INSERT OR IGNORE INTO "{name}" ({names}) VALUES ({marks})',
                                ([row[i] for i in keep] for row in rows))
                report["tables"][name] = [len(rows), lost]
            # Rows whose photo or person was lost cannot stand: drop them, and have the photos
            # that lost faces indexed again.
            cur.execute("DELETE FROM faces WHERE photo_id NOT IN (SELECT id FROM photos)")
            bad = [fid for fid, blob in cur.execute("SELECT id, embedding FROM faces")
                   if not _unit_blob(blob)]
            cur.executemany("DELETE FROM faces WHERE id = ?", [(f,) for f in bad])
            if bad:
                report["tables"]["faces"][0] -= len(bad)
                report["tables"]["faces"][1] += len(bad)
            if report["tables"].get("faces", [0, 0])[1]:
                cur.execute("UPDATE photos SET size = -1 WHERE status = 'ok' AND id NOT IN "
                            "(SELECT photo_id FROM faces)")
            for table, ref in (("face_person", "faces"), ("face_exclusion", "faces")):
                if table in salvaged:
                    cur.execute(f"DELETE FROM {table} WHERE face_id NOT IN (SELECT id FROM {ref})")
            cur.execute("DELETE FROM state")
            cur.execute("INSERT INTO state(id, generation, faces, max_face, id_sum) SELECT 1, 0, "
                        "COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM faces")
        library_id = uuid.uuid4().hex
        new.set_meta("library_id", library_id)
        write_marker(path, library_id)
        new.load_index()
        new.save_index(force=True)
    finally:
        new.close()
    return report


def unit_rows(vectors: np.ndarray, tolerance: float = 1e-3) -> np.ndarray:
    """(N,) bool: which rows of ``vectors`` (N, 128) are finite unit vectors."""
    v = np.asarray(vectors, np.float32).reshape(-1, DIM)
    with np.errstate(all="ignore"):
        norms = np.einsum("ij,ij->i", v.astype(np.float64), v.astype(np.float64))
        return np.isfinite(norms) & (np.abs(norms - 1.0) < tolerance)


def _refuse_invalid(faces: Sequence) -> None:
    """A damaged model must never write into a library: every embedding must be a finite unit
    vector of 128 floats, else nothing is stored."""
    for face in faces:
        e = np.asarray(face.embedding, np.float32)
        if e.shape != (DIM,) or not unit_rows(e)[0]:
            raise ModelDamagedError(
                "The face model gave an invalid embedding (not a finite unit vector); nothing "
                "was stored. Its files may be damaged: run `facefinder model fetch` to check "
                "and repair them.")


def _unit_blob(blob) -> bool:
    if not isinstance(blob, bytes) or len(blob) != DIM * 4:
        return False
    return bool(unit_rows(np.frombuffer(blob, np.float32))[0])


_REPAIR_ORDER = ["meta", "folders", "photos", "faces", "people", "face_person", "face_exclusion"]
