"""A library: the SQLite catalog (source of truth) and the HNSW index derived from it.

Layout of a library folder::

    catalog.sqlite   photos, faces (with float32 embeddings), meta (model fingerprint, ...)
    faces.hnsw       hnswlib index over the embeddings; labels are face ids

The index is rebuilt or patched from SQLite whenever it is missing, unreadable or out of step
(say after a crash mid-indexing), so nothing in it can be lost. Every public method takes the
library's lock: hnswlib must never answer ``knn_query`` while ``add_items``, ``resize_index`` or
``save_index`` runs, and SQLite writes are serialized.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from .errors import LibraryError, ModelMismatchError
from .paths import libraries_dir
from .pipeline import Face, PhotoResult

DIM = 128
SCHEMA_VERSION = 1
DEFAULT_LIBRARY = "default"

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
    """One search result. ``distance`` is the Euclidean distance between unit embeddings."""

    rank: int
    distance: float
    face: FaceRow


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
    return sorted(p for p in libraries_dir().iterdir() if (p / "catalog.sqlite").is_file())


def path_key(path: str | os.PathLike) -> bytes:
    return os.fsencode(os.path.abspath(os.fspath(path)))


def display_path(key: bytes) -> str:
    return key.decode("utf-8", errors="replace")


def fs_path(key: bytes) -> str:
    """The path to hand to the OS (undecodable bytes kept via surrogateescape)."""
    return os.fsdecode(key)


class Library:
    """An open library. Thread-safe: every method holds ``self.lock``.

    ``Library.open(path, fingerprint)`` creates the folder on first use and refuses (with
    :class:`ModelMismatchError`) a library made with another model fingerprint.
    """

    def __init__(self, path: Path, fingerprint: str | None, create: bool = True):
        self.path = Path(path)
        self.lock = threading.RLock()
        if not create and not (self.path / "catalog.sqlite").is_file():
            raise LibraryError(f"No library at {self.path}; index a folder into it first.")
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path / "catalog.sqlite", check_same_thread=False,
                                       timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise LibraryError(f"The library at {self.path} cannot be opened ({exc}).") from None
        self._index = None
        self._index_dirty = False
        self._live = 0  # faces in the in-memory index that are not marked deleted
        self.ef = 64
        self._check_fingerprint(fingerprint)

    @classmethod
    def open(cls, name_or_path=None, fingerprint: str | None = None, create: bool = True
             ) -> "Library":
        return cls(resolve_library_path(name_or_path), fingerprint, create)

    # -- meta ----------------------------------------------------------------------------------
    def _check_fingerprint(self, fingerprint: str | None) -> None:
        with self.lock:
            stored = self.meta("model")
            if stored is None:
                if fingerprint is not None:
                    self.set_meta("model", fingerprint)
                    self.set_meta("schema", str(SCHEMA_VERSION))
                    self.set_meta("created", time.strftime("%Y-%m-%d %H:%M:%S"))
            elif fingerprint is not None and stored != fingerprint:
                raise ModelMismatchError(
                    f"The library at {self.path} was built with another face model ({stored}); "
                    f"it cannot be mixed with {fingerprint}. Index into a new library instead."
                )

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def name(self) -> str:
        return self.path.name

    # -- extensions (people, ...) keep their own tables in the same catalog -------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction under the library lock: commits on success, rolls back on error."""
        with self.lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of a read-only query, under the library lock."""
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    # -- folders and photos ------------------------------------------------------------------
    def add_folder(self, folder: str | os.PathLike, recursive: bool) -> None:
        key = path_key(folder)
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO folders(path, display, recursive, added_at) "
                "VALUES (?, ?, ?, ?)", (key, display_path(key), int(recursive), time.time()))

    def folders(self) -> list[tuple[str, bool]]:
        with self.lock:
            rows = self._db.execute("SELECT path, recursive FROM folders ORDER BY display")
            return [(fs_path(p), bool(r)) for p, r in rows.fetchall()]

    def known_photos(self, under: str | os.PathLike | None = None
                     ) -> dict[bytes, tuple[int, int, int]]:
        """``{path key: (photo id, size, mtime_ns)}`` for photos under a folder (or all)."""
        with self.lock:
            rows = self._db.execute("SELECT path, id, size, mtime_ns FROM photos").fetchall()
        if under is None:
            return {p: (i, s, m) for p, i, s, m in rows}
        prefix = path_key(under).rstrip(os.sep.encode()) + os.sep.encode()
        return {p: (i, s, m) for p, i, s, m in rows if p.startswith(prefix)}

    def store_results(self, items: Sequence[tuple[PhotoResult, int, int]]) -> list[int]:
        """Write photos and their faces in one transaction; returns the new face ids.

        ``items``: ``(result, size, mtime_ns)`` per photo. A photo stored again replaces its
        earlier faces. The HNSW index is updated in memory (saved by :meth:`save_index`).
        """
        new_ids: list[int] = []
        vectors: list[np.ndarray] = []
        removed: list[int] = []
        now = time.time()
        with self.lock:
            with self.transaction() as cur:
                for result, size, mtime_ns in items:
                    key = path_key(result.path)
                    old = cur.execute("SELECT id FROM photos WHERE path=?", (key,)).fetchone()
                    if old:
                        removed += [r[0] for r in cur.execute(
                            "SELECT id FROM faces WHERE photo_id=?", (old[0],))]
                        cur.execute("DELETE FROM photos WHERE id=?", (old[0],))
                    status = "skipped" if result.error else ("ok" if result.faces else "noface")
                    cur.execute(
                        "INSERT INTO photos(path, display, size, mtime_ns, status, error, width, "
                        "height, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (key, display_path(key), size, mtime_ns, status, result.error,
                         result.width, result.height, now))
                    photo_id = cur.lastrowid
                    for face in result.faces:
                        cur.execute(
                            "INSERT INTO faces(photo_id, x, y, w, h, confidence, landmarks, "
                            "embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (photo_id, *map(int, face.box), float(face.confidence),
                             np.asarray(face.landmarks, np.float32).tobytes(),
                             np.asarray(face.embedding, np.float32).tobytes()))
                        new_ids.append(cur.lastrowid)
                        vectors.append(face.embedding)
            if self._index is not None:
                self._index_remove(removed)
                if new_ids:
                    self._index_add(np.stack(vectors), np.asarray(new_ids))
        return new_ids

    def remove_photos(self, keys: Iterable[bytes]) -> int:
        """Forget photos (deleted from disk) and their faces; returns how many faces went."""
        keys = list(keys)
        removed: list[int] = []
        with self.lock:
            with self.transaction() as cur:
                for key in keys:
                    removed += [r[0] for r in cur.execute(
                        "SELECT faces.id FROM faces JOIN photos ON photos.id = faces.photo_id "
                        "WHERE photos.path=?", (key,))]
                    cur.execute("DELETE FROM photos WHERE path=?", (key,))
            if self._index is not None:
                self._index_remove(removed)
        return len(removed)

    # -- reading --------------------------------------------------------------------------------
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
                "faces": q("SELECT COUNT(*) FROM faces").fetchone()[0],
                "folders": [f for f, _ in self.folders()],
            }

    def skipped(self) -> list[tuple[str, str]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT display, error FROM photos WHERE status='skipped' ORDER BY display")
            return [(d, e or "") for d, e in rows.fetchall()]

    def face_rows(self, face_ids: Sequence[int]) -> dict[int, FaceRow]:
        if not len(face_ids):
            return {}
        out: dict[int, FaceRow] = {}
        with self.lock:
            ids = [int(i) for i in face_ids]
            for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
                chunk = ids[start:start + 900]
                rows = self._db.execute(
                    "SELECT faces.id, photos.id, photos.path, x, y, w, h, confidence FROM faces "
                    f"JOIN photos ON photos.id = faces.photo_id WHERE faces.id IN "
                    f"({','.join('?' * len(chunk))})", chunk)
                for fid, pid, path, x, y, w, h, conf in rows:
                    out[fid] = FaceRow(fid, pid, fs_path(path), (x, y, w, h), conf)
        return out

    def all_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (N,) int64, embeddings (N, 128) float32)`` straight from SQLite."""
        with self.lock:
            rows = self._db.execute("SELECT id, embedding FROM faces ORDER BY id").fetchall()
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        emb = (np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(-1, DIM)
               if rows else np.zeros((0, DIM), np.float32))
        return ids, emb

    def export_rows(self) -> list[tuple[str, tuple[int, int, int, int], float, np.ndarray]]:
        with self.lock:
            rows = self._db.execute(
                "SELECT photos.path, x, y, w, h, confidence, embedding FROM faces JOIN photos "
                "ON photos.id = faces.photo_id ORDER BY faces.id").fetchall()
        return [(fs_path(p), (x, y, w, h), c, np.frombuffer(e, np.float32))
                for p, x, y, w, h, c, e in rows]

    # -- the HNSW index ---------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.path / "faces.hnsw"

    def _new_index(self, capacity: int):
        import hnswlib

        index = hnswlib.Index(space="l2", dim=DIM)
        index.init_index(max_elements=max(capacity, 1024), ef_construction=200, M=16)
        return index

    def _ensure_index(self):
        """Load the index (or build it), then bring it in step with SQLite. Lock held."""
        if self._index is not None:
            return self._index
        import hnswlib

        ids, emb = self.all_embeddings()
        index = None
        if self.index_path.is_file():
            try:
                index = hnswlib.Index(space="l2", dim=DIM)
                index.load_index(str(self.index_path), max_elements=0)  # 0: saved capacity
            except Exception:  # unreadable or from another hnswlib: rebuild from SQLite
                index = None
        if index is None:
            index = self._new_index(len(ids) + 1024)
            if len(ids):
                index.add_items(emb, ids)
            self._index_dirty = True
        else:
            # Patch the loaded index from SQLite; the helpers mark it for saving only when they
            # change something (labels deleted before the save are skipped quietly).
            self._index, self._index_dirty = index, False
            have = set(index.get_ids_list())
            want = set(ids.tolist())
            self._index_remove(have - want)
            missing = np.fromiter(want - have, np.int64)
            if len(missing):
                rows = np.searchsorted(ids, np.sort(missing))
                self._index_add(emb[rows], ids[rows])
        index.set_ef(self.ef)  # ef is not saved with the index: it comes back as 10
        self._index = index
        self._live = len(ids)
        return index

    def _index_add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        index = self._index
        needed = index.get_current_count() + len(ids)
        if needed > index.get_max_elements():
            index.resize_index(max(needed, index.get_max_elements() * 2))
        index.add_items(np.asarray(vectors, np.float32), np.asarray(ids, np.int64))
        self._live += len(ids)
        self._index_dirty = True

    def _index_remove(self, ids: Iterable[int]) -> None:
        for label in ids:
            try:
                self._index.mark_deleted(int(label))
            except RuntimeError:
                continue  # not in the index, or already deleted
            self._live -= 1
            self._index_dirty = True

    def load_index(self) -> None:
        """Load (or build) the index now, so that later writes keep it up to date."""
        with self.lock:
            self._ensure_index()

    def save_index(self) -> None:
        """Write the index next to the catalog, atomically (temporary file, then rename)."""
        with self.lock:
            if self._index is None or not self._index_dirty:
                return
            fd, tmp = tempfile.mkstemp(prefix=".faces-", suffix=".hnsw", dir=self.path)
            os.close(fd)
            try:
                self._index.save_index(tmp)
                os.replace(tmp, self.index_path)
                self._index_dirty = False
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)

    def face_count(self) -> int:
        with self.lock:
            return self._db.execute("SELECT COUNT(*) FROM faces").fetchone()[0]

    def search(self, embedding: np.ndarray, k: int = 10) -> list[Hit]:
        """The ``k`` faces nearest to ``embedding`` (128,), nearest first."""
        with self.lock:
            n = self.face_count()
            if n == 0:
                raise LibraryError(
                    f"The library '{self.name}' has no faces yet; index a folder first.")
            index = self._ensure_index()
            if self._live != n:  # another process changed the catalog: bring the index in step
                self._index = None
                index = self._ensure_index()
            k = max(1, min(int(k), n))
            index.set_ef(max(self.ef, k))
            labels, sq = index.knn_query(np.asarray(embedding, np.float32).reshape(1, DIM), k=k)
            rows = self.face_rows(labels[0].tolist())
        hits = []
        for label, d2 in zip(labels[0].tolist(), sq[0].tolist()):
            if label in rows:  # a face deleted by another process since the index was read
                hits.append(Hit(len(hits) + 1, float(np.sqrt(max(d2, 0.0))), rows[label]))
        return hits

    # -- the pipeline that made the embeddings (see core.align, core.upgrade) ----------------------
    def pipeline_name(self) -> str:
        """The name of the crop pipeline the library's embeddings were made with
        (:data:`facefinder.core.align.PIPELINES`). Libraries that record none were built before
        pipelines were recorded, by the article's; an empty one takes the default."""
        from .align import ARTICLE, DEFAULT_PIPELINE

        stored = self.meta("pipeline")
        if stored:
            return stored
        return DEFAULT_PIPELINE if self.face_count() == 0 else ARTICLE

    def drop_index(self) -> None:
        """Forget the HNSW index (in memory and on disk); it is rebuilt from SQLite on next use.
        For after every embedding changed at once (an upgrade)."""
        with self.lock:
            self._index = None
            self._index_dirty = False
            self._live = 0
            with contextlib.suppress(FileNotFoundError):
                self.index_path.unlink()

    def close(self) -> None:
        with self.lock:
            try:
                self.save_index()
            finally:
                self._db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
