"""A library's vectors in Qdrant: a second vector store beside the embedded HNSW index.

The catalog (SQLite, on this machine) stays the source of truth for photos, boxes, embeddings
and people. Qdrant holds a copy of the embeddings, one point per face::

    point id = face id        vector = the 128-D unit embedding (Euclidean distance)
    payload  = {"face": face id, "path": the photo's path, "person": person id or null,
                "group": person id, or -face id for a face not grouped yet}

so that "nearest people, not photos" is Qdrant's grouping (``query_points_groups`` by
``group``, one hit per group) rather than a search for many faces filtered afterwards.

**The same bookkeeping as the HNSW index** (see :mod:`facefinder.core.library`). The Library
uses :class:`QdrantVectors` where it would use :class:`~facefinder.core.hnsw_index.FaceIndex`
(``Library.vectors``): ``load(path, records)`` and ``build(chunks, capacity, params)`` give a
:class:`QdrantIndex`, which the Library patches with ``add``/``remove`` after every commit,
queries with ``query`` and "saves" with ``save`` (Qdrant keeps its data itself: saving only
records, in the catalog, the catalog generation the collection reflects). Distances shown are
recomputed from the catalog's embeddings, and a collection that disagrees with them is rebuilt,
exactly as for hnswlib.

**Verified, never trusted.** The collection's metadata holds a store id that the catalog also
keeps (``meta.vector_store``); a collection without it, or with another library's id, is never
written to or deleted (one line says so). The catalog's record of the collection carries a tag
of that id and the address, so an HNSW record is never taken for a Qdrant one or the other way
round. Loading brings the collection up to date from the newest record: points above that
record's highest face id are dropped (a run killed between writing to Qdrant and recording it),
the journal of removed and re-embedded faces since that generation is applied, faces added
since are written; then the collection must hold exactly the catalog's number of faces, or it is
rebuilt with a one-line notice. Every step is idempotent, so a kill anywhere loses nothing.

**People.** Triggers on ``face_person`` journal every face whose person changes
(``vector_person_changes``, bounded by the number of faces); before a grouped search the changed
faces' payloads are updated in one batch. The groups Qdrant returns are checked against the
catalog (person of each face, distances); any disagreement falls back to the embedded method.

A Qdrant server (``qdrant://HOST:PORT/COLLECTION``) must be 1.16 or newer (collection
metadata). Local mode (``qdrant+path:///DIR/COLLECTION``) keeps the collection in a folder and
searches exactly (no HNSW): one process at a time may open it.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import FacefinderError, LibraryDamagedError, LibraryError, StorageError
from ..hnsw_index import DIM, IndexParams, IndexRecord, IndexRejected, chunked
from ..library import EXACT_CHECK, ef_for, sql_statements, unit_rows
from ..people import NearPerson, ensure_tables, person_of

TAG_SIZE = -1
"""The ``size`` of a Qdrant record in the catalog (never the size of an index file)."""
STORE_META = "vector_store"
"""Catalog meta key: ``{"url": address, "id": store id}`` of a library whose vectors are in
Qdrant."""
PERSON_SEQ_META = "vector_person_seq"
UPLOAD_CHUNK = 1000
"""Points per upsert request."""

_PERSON_SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_person_changes (
    face_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS vector_person_changes_seq ON vector_person_changes(seq);
CREATE TRIGGER IF NOT EXISTS vector_person_added AFTER INSERT ON face_person BEGIN
    INSERT OR REPLACE INTO vector_person_changes(face_id, seq) VALUES
        (NEW.face_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM vector_person_changes));
END;
CREATE TRIGGER IF NOT EXISTS vector_person_moved AFTER UPDATE OF person_id ON face_person BEGIN
    INSERT OR REPLACE INTO vector_person_changes(face_id, seq) VALUES
        (NEW.face_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM vector_person_changes));
END;
CREATE TRIGGER IF NOT EXISTS vector_person_removed AFTER DELETE ON face_person BEGIN
    INSERT OR REPLACE INTO vector_person_changes(face_id, seq) VALUES
        (OLD.face_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM vector_person_changes));
END;
"""
PERSON_OBJECTS = ("vector_person_added", "vector_person_moved", "vector_person_removed",
                  "vector_person_changes")


def qdrant_available() -> bool:
    try:
        import qdrant_client  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class QdrantLocation:
    """Where a collection is. ``url`` identifies it (no catalog part): ``qdrant://HOST:PORT/C``,
    ``qdrants://...`` (TLS), ``qdrant+path:///DIR/C`` or ``qdrant+memory:///C`` (``path``
    ":memory:")."""

    url: str
    collection: str
    host: str | None = None
    port: int | None = None
    https: bool = False
    path: str | None = None  # local mode: the storage folder

    @property
    def local(self) -> bool:
        return self.path is not None


# -- one client per server or storage folder (local mode allows one per folder and process) ------
_CLIENTS: dict[tuple, list] = {}  # key -> [client, users]
_CLIENTS_LOCK = threading.Lock()


def _client_key(loc: QdrantLocation) -> tuple:
    return ("path", loc.path) if loc.local else ("server", loc.host, loc.port, loc.https)


def _acquire_client(loc: QdrantLocation):
    try:
        from qdrant_client import QdrantClient
    except ImportError:
        raise FacefinderError("This library keeps its vectors in Qdrant, which needs the "
                              "qdrant-client package: pip install \"facefinder[qdrant]\".") from None
    import os

    key = _client_key(loc)
    with _CLIENTS_LOCK:
        held = _CLIENTS.get(key)
        if held is None:
            try:
                if loc.path == ":memory:":
                    client = QdrantClient(":memory:")
                elif loc.local:
                    client = QdrantClient(path=loc.path)
                else:
                    client = QdrantClient(host=loc.host, port=loc.port, https=loc.https,
                                          api_key=os.environ.get("QDRANT_API_KEY") or None,
                                          timeout=60)
            except RuntimeError as exc:  # local mode: the folder is locked by another process
                raise StorageError(f"{loc.url}: {str(exc).split('. ')[0]} (another facefinder "
                                   "process has it open; local mode allows one at a time).") from None
            except OSError as exc:
                raise StorageError(f"{loc.url}: cannot open the Qdrant storage ({exc}).") from None
            held = _CLIENTS[key] = [client, 0]
        held[1] += 1
        return held[0]


def _release_client(loc: QdrantLocation) -> None:
    key = _client_key(loc)
    with _CLIENTS_LOCK:
        held = _CLIENTS.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0 and loc.path != ":memory:":  # memory: kept for the process's life
            del _CLIENTS[key]
            try:
                held[0].close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def _qdrant_errors() -> tuple[type[BaseException], ...]:
    from qdrant_client.http.exceptions import ApiException

    errors: list[type[BaseException]] = [ApiException, ConnectionError, OSError, TimeoutError]
    try:
        import httpx

        errors.append(httpx.HTTPError)
    except ImportError:
        pass
    try:
        import grpc

        errors.append(grpc.RpcError)
    except ImportError:
        pass
    return tuple(errors)


class QdrantVectors:
    """The kind of vector store a Library uses for a Qdrant-backed library (``Library.vectors``):
    makes :class:`QdrantIndex` objects by loading (verified, caught up) or building."""

    def __init__(self, location: QdrantLocation, library, store_id: str) -> None:
        self.location = location
        self.library = library
        self.store_id = store_id
        self._client = None

    # -- plumbing --------------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            self._client = _acquire_client(self.location)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client = None
            _release_client(self.location)

    def call(self, what: str, fn: Callable, *args, **kwargs):
        """``fn(*args, **kwargs)`` on the client, its failures as one line."""
        try:
            return fn(*args, **kwargs)
        except FacefinderError:
            raise
        except _qdrant_errors() as exc:
            text = str(exc).strip().splitlines()
            raise StorageError(f"Qdrant at {self.location.url} could not {what} "
                               f"({text[0][:300] if text else type(exc).__name__}).") from None

    @property
    def name(self) -> str:
        return self.location.collection

    def tag(self) -> int:
        """The ``adler32`` field of this store's records in the catalog."""
        return zlib.adler32(f"qdrant|{self.location.url}|{self.store_id}".encode())

    def record(self, state) -> IndexRecord:
        return IndexRecord(state.generation, state.faces, state.max_face, state.id_sum,
                           TAG_SIZE, self.tag())

    # -- the Library's interface (as FaceIndex's class methods) ---------------------------------
    def load(self, path, records: list[IndexRecord], verified=None
             ) -> tuple["QdrantIndex", IndexRecord]:
        """The collection, checked and brought up to date with the catalog; raises
        IndexRejected (the Library then builds it) or LibraryError (not ours: left alone)."""
        client = self.client
        if not self.call("look up the collection", client.collection_exists, self.name):
            raise IndexRejected("missing")
        self._check_owner()
        mine = [r for r in records if r is not None and r.size == TAG_SIZE
                and r.adler32 == self.tag()]
        if not mine:
            raise IndexRejected("has no record in this catalog (made by an earlier run that "
                                "stopped, or by another copy of the catalog)")
        self._ensure_person_schema()
        rec = max(mine, key=lambda r: r.generation)
        lib = self.library
        index = QdrantIndex(self)
        # Points above the record's highest face: written by a run killed before it recorded
        # them (some may be faces removed since). The catalog's rows put back the live ones.
        self._delete_filter(_face_above(rec.max_face))
        at = rec
        for _ in range(3):
            state = lib.state()
            pruned = int(lib.meta("changes_pruned_upto") or 0)
            if at.generation < pruned and at.generation != state.generation:
                raise IndexRejected("is too far behind the catalog to be patched")
            changed = lib.query(
                "SELECT face_changes.face_id, faces.embedding FROM face_changes LEFT JOIN "
                "faces ON faces.id = face_changes.face_id WHERE face_changes.generation > ?",
                (at.generation,))
            gone = [fid for fid, emb in changed if emb is None]
            redone = [(fid, emb) for fid, emb in changed if emb is not None]
            index.remove(gone)
            for ids, vectors in _arrays_checked(lib, iter(redone)):
                index.add(ids, vectors)
            for ids, vectors in _arrays_checked(lib, rows_after(lib, at.max_face)):
                index.add(ids, vectors)
            at = state
            if lib.state() == state:
                break
        count = self.count()
        if count != at.faces:
            raise IndexRejected(f"holds {count} faces where the catalog has {at.faces}")
        return index, self.record(at)

    def build(self, chunks: Iterable[tuple[np.ndarray, np.ndarray]], capacity: int,
              params: IndexParams = IndexParams()) -> "QdrantIndex":
        """A new collection holding every ``(ids, vectors)`` chunk (an old one of this library
        is replaced; anyone else's is refused)."""
        from qdrant_client import models

        client = self.client
        if self.call("look up the collection", client.collection_exists, self.name):
            self._check_owner()
            self.call("replace the collection", client.delete_collection, self.name)
        self._ensure_person_schema()
        seq = self.library.query("SELECT COALESCE(MAX(seq), 0) FROM vector_person_changes")[0][0]
        self.call("create the collection", client.create_collection, self.name,
                  vectors_config=models.VectorParams(size=DIM, distance=models.Distance.EUCLID),
                  hnsw_config=models.HnswConfigDiff(m=params.M,
                                                    ef_construct=params.ef_construction),
                  metadata={"facefinder_store": self.store_id, "app": "facefinder"})
        self._check_owner(created=True)
        if not self.location.local:  # local mode has no payload indexes (it scans)
            for field in ("group", "face"):
                self.call("index the payload", client.create_payload_index, self.name,
                          field_name=field, field_schema=models.PayloadSchemaType.INTEGER)
        index = QdrantIndex(self)
        for ids, vectors in chunks:
            index.add(ids, vectors)
        self.library.set_meta(PERSON_SEQ_META, str(seq))
        return index

    # -- helpers ---------------------------------------------------------------------------------
    def _check_owner(self, created: bool = False) -> None:
        info = self.call("read the collection", self.client.get_collection, self.name)
        meta = getattr(info.config, "metadata", None) or {}
        if meta.get("facefinder_store") == self.store_id:
            params = info.config.params.vectors
            size = getattr(params, "size", None)
            if size != DIM or str(getattr(params, "distance", "")).lower().find("euclid") < 0:
                raise LibraryError(f"The Qdrant collection {self.location.url} does not hold "
                                   "128-D Euclidean vectors; it is not facefinder's.")
            return
        if created:
            raise StorageError(f"The Qdrant server at {self.location.url} does not keep "
                               "collection metadata; facefinder needs Qdrant 1.16 or newer.")
        whose = ("another facefinder library" if meta.get("app") == "facefinder"
                 else "another program")
        raise LibraryError(
            f"The Qdrant collection {self.location.url} belongs to {whose}; facefinder leaves it "
            "alone. Choose another collection name for this library.")

    def _ensure_person_schema(self) -> None:
        """The people tables and the triggers that journal person changes (written once)."""
        lib = self.library
        have = {r[0] for r in lib.query(
            "SELECT name FROM sqlite_master WHERE name IN (?, ?, ?, ?, 'face_person')",
            PERSON_OBJECTS)}
        if have >= set(PERSON_OBJECTS) | {"face_person"}:
            return

        ensure_tables(lib)
        with lib.transaction() as cur:
            for statement in sql_statements(_PERSON_SCHEMA):
                cur.execute(statement)

    def search_params(self, ef: int):
        """HNSW's ``ef`` for a server; None in local mode (it searches exactly)."""
        if self.location.local:
            return None
        from qdrant_client import models

        return models.SearchParams(hnsw_ef=int(ef))

    def count(self) -> int:
        return int(self.call("count the faces", self.client.count, self.name,
                             exact=True).count)

    def _delete_filter(self, flt) -> None:
        from qdrant_client import models

        self.call("remove faces", self.client.delete, self.name,
                  points_selector=models.FilterSelector(filter=flt), wait=True)

    def payloads(self, ids: list[int]) -> dict[int, dict]:
        """``{face id: payload}`` from the catalog for the faces ``ids`` (those that exist)."""
        lib = self.library
        people = lib.query("SELECT 1 FROM sqlite_master WHERE name = 'face_person'")
        person = ("(SELECT person_id FROM face_person WHERE face_person.face_id = faces.id)"
                  if people else "NULL")
        out: dict[int, dict] = {}
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            rows = lib.query(
                f"SELECT faces.id, photos.display, {person} FROM faces JOIN photos ON "
                f"photos.id = faces.photo_id WHERE faces.id IN ({','.join('?' * len(chunk))})",
                chunk)
            for fid, path, pid in rows:
                out[fid] = _payload(fid, path, pid)
        return out

    def sync_people(self) -> int:
        """Write the person of every face whose person changed since the last sync into its
        payload (one batch); returns how many faces were updated."""
        from qdrant_client import models

        lib = self.library
        if not lib.query("SELECT 1 FROM sqlite_master WHERE name = 'vector_person_changes'"):
            return 0
        synced = int(lib.meta(PERSON_SEQ_META) or 0)
        rows = lib.query(
            "SELECT c.face_id, c.seq, fp.person_id FROM vector_person_changes c LEFT JOIN "
            "face_person fp ON fp.face_id = c.face_id JOIN faces ON faces.id = c.face_id "
            "WHERE c.seq > ? ORDER BY c.seq", (synced,))
        top = lib.query("SELECT COALESCE(MAX(seq), 0) FROM vector_person_changes")[0][0]
        if rows:
            by_person: dict[int | None, list[int]] = {}
            for fid, _seq, pid in rows:
                by_person.setdefault(pid, []).append(fid)
            ops = []
            for pid, fids in by_person.items():
                if pid is not None:
                    ops.append((fids, {"person": pid, "group": pid}))
                else:
                    ops += [([f], {"person": None, "group": -f}) for f in fids]
            for start in range(0, len(ops), UPLOAD_CHUNK):
                batch = [models.SetPayloadOperation(set_payload=models.SetPayload(
                    payload=payload, filter=models.Filter(must=[models.HasIdCondition(
                        has_id=fids)]))) for fids, payload in ops[start:start + UPLOAD_CHUNK]]
                self.call("update the people", self.client.batch_update_points, self.name,
                          update_operations=batch, wait=True)
        if top != synced:
            lib.set_meta(PERSON_SEQ_META, str(top))
        return len(rows)

    # -- nearest people (people.nearest_people uses this when the store offers it) --------------
    def nearest_people(self, library, embedding: np.ndarray, k: int):
        """The ``k`` nearest people by Qdrant's grouping, checked against the catalog; None when
        Qdrant's answer disagrees with the catalog (the caller then uses the embedded method)."""
        ensure_tables(library)
        query = np.asarray(embedding, np.float32).reshape(DIM)
        with library.lock:
            n = library.face_count()
            if n == 0:
                raise LibraryError(
                    f"The library '{library.name}' has no faces yet; index a folder first.")
            library.load_index()  # the collection caught up with the catalog
            self.sync_people()
            k = max(1, min(int(k), n))
            ef = max(library.ef or ef_for(n), k)
            result = self.call(
                "search", self.client.query_points_groups, self.name, group_by="group",
                query=query.tolist(), limit=k, group_size=1, with_payload=["group"],
                search_params=self.search_params(ef))
            hits = [(int(g.hits[0].id), int(g.id), float(g.hits[0].score))
                    for g in result.groups if g.hits]
            ids = [h[0] for h in hits]
            vecs = dict(library.query(
                f"SELECT id, embedding FROM faces WHERE id IN ({','.join('?' * len(ids))})",
                ids)) if ids else {}
            owners = person_of(library, ids)
            sizes = dict(library.query(
                "SELECT person_id, COUNT(*) FROM face_person GROUP BY person_id"))
            names = dict(library.query("SELECT id, name FROM people"))
        out = []
        for fid, group, score in hits:
            blob = vecs.get(fid)
            if blob is None:
                return None  # a face gone since: let the embedded method answer
            d = float(np.linalg.norm(np.frombuffer(blob, np.float32) - query))
            pid = owners.get(fid, (None, None))[0]
            if abs(d - score) > EXACT_CHECK or group != (pid if pid is not None else -fid):
                return None
            out.append(NearPerson(pid, names.get(pid), sizes.get(pid, 1), fid, d))
        out.sort(key=lambda p: (p.distance, p.face_id))
        return out


class QdrantIndex:
    """A collection as the Library's in-memory index (the interface of FaceIndex)."""

    def __init__(self, store: QdrantVectors) -> None:
        self.store = store
        self.params = IndexParams()
        self._ef = 0

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Write (or overwrite) faces, with their payloads from the catalog."""
        from qdrant_client import models

        ids = [int(i) for i in np.asarray(ids, np.int64).tolist()]
        if not ids:
            return
        vectors = np.ascontiguousarray(vectors, np.float32).reshape(-1, DIM)
        payloads = self.store.payloads(ids)
        for start in range(0, len(ids), UPLOAD_CHUNK):
            part = range(start, min(len(ids), start + UPLOAD_CHUNK))
            points = [models.PointStruct(id=ids[i], vector=vectors[i].tolist(),
                                         payload=payloads.get(ids[i]) or _payload(ids[i], "", None))
                      for i in part]
            self.store.call("store faces", self.store.client.upsert, self.store.name,
                            points=points, wait=True)

    def remove(self, ids: Iterable[int]) -> int:
        from qdrant_client import models

        ids = [int(i) for i in ids]
        for start in range(0, len(ids), UPLOAD_CHUNK):
            self.store.call("remove faces", self.store.client.delete, self.store.name,
                            points_selector=models.PointIdsList(points=ids[start:start + UPLOAD_CHUNK]),
                            wait=True)
        return len(ids)

    def query(self, vector: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (k',), squared distances (k',))`` of the nearest faces, k' <= k."""
        self._ef = max(int(ef), int(k))
        q = np.asarray(vector, np.float32).reshape(DIM).tolist()
        result = self.store.call("search", self.store.client.query_points, self.store.name,
                                 query=q, limit=int(k), with_payload=False,
                                 search_params=self.store.search_params(self._ef))
        labels = np.fromiter((int(p.id) for p in result.points), np.int64, len(result.points))
        d = np.fromiter((float(p.score) for p in result.points), np.float64, len(result.points))
        return labels, (d * d).astype(np.float32)

    def knn(self, vectors: np.ndarray, k: int, ef: int, threads: int = -1
            ) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (n, k) int64, distances (n, k) float32)`` of the nearest faces of each of
        ``vectors`` (n, 128), nearest first; -1 / inf where fewer were found. Batched requests
        (``threads`` is hnswlib's; Qdrant parallelises on its side)."""
        from qdrant_client import models

        q = np.ascontiguousarray(vectors, np.float32).reshape(-1, DIM)
        labels = np.full((len(q), k), -1, np.int64)
        dist = np.full((len(q), k), np.inf, np.float32)
        params = self.store.search_params(max(int(ef), int(k)))
        for start in range(0, len(q), 256):
            requests = [models.QueryRequest(query=v.tolist(), limit=int(k), params=params,
                                            with_payload=False) for v in q[start:start + 256]]
            answers = self.store.call("search", self.store.client.query_batch_points,
                                      self.store.name, requests=requests)
            for i, answer in enumerate(answers, start):
                for j, point in enumerate(answer.points[:k]):
                    labels[i, j] = int(point.id)
                    dist[i, j] = float(point.score)
        return labels, dist

    @property
    def ef(self) -> int:
        return self._ef

    def labels(self) -> np.ndarray:
        out: list[int] = []
        offset = None
        while True:
            points, offset = self.store.call(
                "list faces", self.store.client.scroll, self.store.name, limit=10_000,
                offset=offset, with_payload=False, with_vectors=False)
            out += [int(p.id) for p in points]
            if offset is None:
                return np.asarray(sorted(out), np.int64)

    def save(self, path, before_replace=None) -> tuple[int, int]:
        """Nothing to write (Qdrant keeps its data); the record's ``(size, adler32)``."""
        rec = (TAG_SIZE, self.store.tag())
        if before_replace is not None:
            before_replace(*rec)
        return rec


# -- catalog reading ------------------------------------------------------------------------------
def _payload(face_id: int, path: str, person_id: int | None) -> dict:
    return {"face": int(face_id), "path": path, "person": person_id,
            "group": int(person_id) if person_id is not None else -int(face_id)}


def _face_above(face_id: int):
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key="face",
                                                     range=models.Range(gt=int(face_id)))])


def rows_after(library, face_id: int, size: int = 20_000) -> Iterator[tuple[int, bytes]]:
    """``(face id, embedding blob)`` of every face above ``face_id``, in id order, in pages."""
    last = int(face_id)
    while True:
        rows = library.query("SELECT id, embedding FROM faces WHERE id > ? ORDER BY id LIMIT ?",
                             (last, size))
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def _arrays_checked(library, rows: Iterator[tuple[int, bytes]]
                    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for ids, vectors in chunked(_blobs_checked(library, rows)):
        bad = ~unit_rows(vectors)
        if bad.any():
            fid = int(ids[int(np.argmax(bad))])
            raise LibraryDamagedError(
                f"The library catalog {Path(library.path) / 'catalog.sqlite'} is damaged (the "
                f"stored embedding of face {fid} is not a unit vector); run `facefinder library "
                "repair` on it to keep everything that is intact (your photos are not touched).")
        yield ids, vectors


def _blobs_checked(library, rows):
    for fid, blob in rows:
        if not isinstance(blob, bytes) or len(blob) != DIM * 4:
            raise LibraryDamagedError(
                f"The library catalog {Path(library.path) / 'catalog.sqlite'} is damaged (the "
                f"stored embedding of face {fid} is not a vector); run `facefinder library "
                "repair` on it.")
        yield fid, blob


def store_meta(library) -> dict | None:
    """The ``vector_store`` record of a catalog (``{"url", "id"}``), or None (embedded)."""
    raw = library.meta(STORE_META)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("url") and data.get("id") else None
