"""The HNSW index file of a library (hnswlib), verified before hnswlib ever reads it.

The index is derived data: the catalog (SQLite) holds every embedding, and the index can always
be rebuilt from it. So it is never trusted because it loads. When the index is saved, its size and
Adler-32 checksum are returned as a *record*, which the library stores in its catalog together
with the catalog state the index reflects (see :mod:`facefinder.core.library`). Before a file is
handed to hnswlib, its size and checksum must match such a record: a damaged file (random bytes
inside make hnswlib crash the whole process), a file left over from a deleted catalog, or one
copied from another library is never loaded; the library rebuilds the index instead.

Reading the file for the checksum costs about 0.25 s per GB (zlib's Adler-32; hnswlib then reads
the same pages from the OS cache). Labels are face ids; the space is squared L2 on unit vectors.
"""

from __future__ import annotations

import errno
import os
import tempfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

DIM = 128
_CHUNK = 1 << 24  # bytes read at a time for the checksum
REGION_MIN = 32 << 20
"""Blocks of memory hnswlib takes for an index that :meth:`FaceIndex.prefer_huge_pages` moves
(the vectors and links of about 45,000 faces and up)."""


@dataclass(frozen=True)
class IndexParams:
    """hnswlib construction parameters (fixed when an index is built)."""

    M: int = 16
    ef_construction: int = 200


NEW_PARAMS = IndexParams(M=24, ef_construction=100)
"""What a new library's index is built with (a library keeps the parameters in its record when
its index is rebuilt). Measured on the scale benchmark's 300,000-face library (README, "Scale";
hnswlib alone, one search at a time), for recall@10 >= 0.99: M 16 / ef_construction 200 (what
libraries were built with before) needed ef 320 (1.2 ms p50); M 24 / 100 ef 192 (0.72 ms);
M 32 / 100 ef 160 (0.73 ms); M 24 / 200 ef 160 (0.65 ms) and M 32 / 200 ef 128 (0.66 ms)
build 1.8 times slower for 10% faster searches.
A million faces build in 8 minutes on two cores with M 24 / 100."""


@dataclass
class IndexRecord:
    """What a saved index file holds, as the catalog remembers it.

    ``generation``, ``faces``, ``max_face``, ``id_sum``: the catalog state the index reflects
    (see ``Library``); ``size`` and ``adler32``: the file's bytes; ``M``, ``ef_construction``:
    how it was built."""

    generation: int
    faces: int
    max_face: int
    id_sum: int
    size: int = 0
    adler32: int = 0
    M: int = 16
    ef_construction: int = 200

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "IndexRecord | None":
        try:
            return cls(**{k: int(data[k]) for k in cls.__dataclass_fields__})
        except (KeyError, TypeError, ValueError):
            return None


def file_checksum(path: Path) -> tuple[int, int]:
    """``(size, adler32)`` of a file, read in chunks (bounded memory)."""
    value = 1
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            value = zlib.adler32(chunk, value)
    return size, value


def _anonymous_regions() -> set[tuple[int, int]]:
    """The writable anonymous memory mappings of this process, ``(start, end)`` (Linux; empty
    elsewhere)."""
    out = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 5 and parts[1].startswith("rw"):
                    start, end = (int(x, 16) for x in parts[0].split("-"))
                    out.add((start, end))
    except OSError:
        pass
    return out


@dataclass(frozen=True)
class Verified:
    """A file found to match ``record``, and the file's identity then (device, inode, size,
    modification time in ns): a file replaced or written since has another."""

    record: IndexRecord
    identity: tuple[int, int, int, int]


def file_identity(path: Path) -> tuple[int, int, int, int] | None:
    """(device, inode, size, modification ns) of a file, or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def verify(path: Path, expected: list[IndexRecord]) -> Verified:
    """Check that ``path``'s size and Adler-32 match one of the ``expected`` records; raises
    :class:`IndexRejected` (with the reason) otherwise. Reads the whole file (about 0.6 s of CPU
    per GB here), so a cold search runs it beside the face model (``Library.prepare_search``)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise IndexRejected("missing") from None
    except OSError as exc:
        raise IndexRejected(f"cannot be read ({exc.strerror})") from None
    if not os.path.isfile(path):
        raise IndexRejected("is not a file")
    expected = [r for r in expected if r is not None]
    if not expected:
        raise IndexRejected("belongs to no catalog state this library knows "
                            "(left over, or copied from another library)")
    candidates = [r for r in expected if r.size == st.st_size]
    if not candidates:
        raise IndexRejected("is damaged or belongs to another library (its size does not "
                            "match what this library saved)")
    try:
        size, checksum = file_checksum(path)
    except OSError as exc:
        raise IndexRejected(f"cannot be read ({exc.strerror})") from None
    match = next((r for r in candidates if (r.size, r.adler32) == (size, checksum)), None)
    if match is None:
        raise IndexRejected("is damaged or belongs to another library (its checksum does "
                            "not match what this library saved)")
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if file_identity(path) != identity:  # replaced while it was read: not what was checked
        raise IndexRejected("changed while it was checked")
    return Verified(match, identity)


class FaceIndex:
    """An hnswlib index of unit vectors labelled by face id. Not thread-safe: the library's lock
    serialises every call (hnswlib must not answer queries while it adds, resizes or saves)."""

    def __init__(self, index, params: IndexParams,
                 regions: frozenset[tuple[int, int]] = frozenset()) -> None:
        self._index = index
        self.params = params
        self._regions = regions  # the large blocks of memory hnswlib took for it (Linux)

    # -- making one ----------------------------------------------------------------------------
    @classmethod
    def new(cls, capacity: int, params: IndexParams = IndexParams()) -> "FaceIndex":
        import hnswlib

        index = hnswlib.Index(space="l2", dim=DIM)
        index.init_index(max_elements=max(int(capacity), 1024), M=params.M,
                         ef_construction=params.ef_construction, allow_replace_deleted=True)
        return cls(index, params)

    @classmethod
    def build(cls, chunks: Iterable[tuple[np.ndarray, np.ndarray]], capacity: int,
              params: IndexParams = IndexParams()) -> "FaceIndex":
        """An index of every ``(ids (n,), vectors (n, 128))`` chunk (bounded memory)."""
        made = cls.new(capacity, params)
        for ids, vectors in chunks:
            made.add(ids, vectors)
        return made

    @classmethod
    def load(cls, path: Path, expected: list[IndexRecord], verified: "Verified | None" = None
             ) -> tuple["FaceIndex", IndexRecord]:
        """Load ``path`` if its size and checksum match one of the ``expected`` records
        (``verified``: the result of :func:`verify` on this very file, which is then not read
        twice; a file renamed into place or written since is checked again).

        Raises :class:`IndexRejected` (with the reason, for a one-line notice) otherwise, or when
        hnswlib cannot read it. hnswlib is only given files whose bytes are exactly those this
        library saved, so a damaged file can never crash the process."""
        import hnswlib

        if verified is None or verified.record not in expected or \
                file_identity(path) != verified.identity:
            verified = verify(path, expected)
        match = verified.record
        index = hnswlib.Index(space="l2", dim=DIM)
        before = _anonymous_regions()
        try:
            index.load_index(str(path), max_elements=0, allow_replace_deleted=True)
        except Exception as exc:  # e.g. written by an incompatible hnswlib
            raise IndexRejected(f"cannot be loaded ({exc})") from None
        regions = frozenset(r for r in _anonymous_regions() - before if r[1] - r[0] >= REGION_MIN)
        return cls(index, IndexParams(match.M, match.ef_construction), regions), match

    # -- changing it ---------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or update) faces; deleted slots are reused. ``vectors`` (n, 128) float32."""
        ids = np.asarray(ids, np.int64)
        if not len(ids):
            return
        vectors = np.ascontiguousarray(vectors, np.float32).reshape(-1, DIM)
        index = self._index
        needed = index.get_current_count() + len(ids)
        if needed > index.get_max_elements():
            index.resize_index(max(needed, int(index.get_max_elements() * 1.5)))
        try:
            index.add_items(vectors, ids, replace_deleted=True)
        except RuntimeError:
            # A label that exists but is marked deleted cannot be updated in place while
            # replacement is on: bring those back first, one at a time.
            for label, vec in zip(ids.tolist(), vectors):
                try:
                    index.add_items(vec[None], np.asarray([label]), replace_deleted=True)
                except RuntimeError:
                    index.unmark_deleted(label)
                    index.add_items(vec[None], np.asarray([label]))

    def remove(self, ids: Iterable[int]) -> int:
        """Mark faces deleted; returns how many were live in the index."""
        gone = 0
        for label in ids:
            try:
                self._index.mark_deleted(int(label))
                gone += 1
            except RuntimeError:
                continue  # not in the index, or already deleted
        return gone

    # -- reading it ----------------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (k',), squared distances (k',))`` of the nearest live faces, k' <= k."""
        q = np.asarray(vector, np.float32).reshape(1, DIM)
        self._index.set_ef(max(int(ef), int(k)))
        while k > 0:
            try:
                labels, d2 = self._index.knn_query(q, k=k)
                return labels[0].astype(np.int64), d2[0]
            except RuntimeError:
                # fewer than k live faces reachable (deletions): ask for fewer
                k = k // 2 if k > 8 else k - 1
        return np.zeros(0, np.int64), np.zeros(0, np.float32)

    def knn(self, vectors: np.ndarray, k: int, ef: int, threads: int = -1
            ) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (n, k) int64, distances (n, k) float32)`` of the nearest live faces of each
        of ``vectors`` (n, 128), searched on ``threads`` cores; -1 / inf where fewer than k
        were reachable (deletions)."""
        q = np.ascontiguousarray(vectors, np.float32).reshape(-1, DIM)
        labels = np.full((len(q), k), -1, np.int64)
        dist = np.full((len(q), k), np.inf, np.float32)
        if not len(q):
            return labels, dist
        self._index.set_ef(max(int(ef), int(k)))
        want = k
        while want > 0:
            try:
                found, d2 = self._index.knn_query(q, k=want, num_threads=threads)
            except RuntimeError:  # fewer than ``want`` live faces reachable for some query
                want = want // 2 if want > 8 else want - 1
                continue
            labels[:, :want] = found
            dist[:, :want] = np.sqrt(np.maximum(d2, 0.0))
            break
        return labels, dist

    @property
    def ef(self) -> int:
        return self._index.ef

    def prefer_huge_pages(self) -> int:
        """Ask Linux to hold the index's memory in 2 MB pages (``madvise`` MADV_HUGEPAGE, then
        MADV_COLLAPSE, 64 MB at a time); returns the bytes asked for. A search of a million
        faces reads thousands of scattered records, and with 4 KB pages nearly each read also
        misses the TLB, which in a virtual machine costs as much as the read: measured here,
        a search at 300,000 faces took a quarter to a third less CPU afterwards (README,
        "Scale"). Costs about 1 s of CPU per GB, once; safe while other threads search (the
        kernel moves the pages under them); does nothing where unsupported."""
        import ctypes
        import sys

        if not sys.platform.startswith("linux") or not self._regions:
            return 0
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            madvise = libc.madvise
        except (OSError, AttributeError):
            return 0
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        huge, step = 2 << 20, 64 << 20
        done = 0
        for start, end in sorted(self._regions):
            start = (start + huge - 1) & ~(huge - 1)
            end &= ~(huge - 1)
            if end <= start or madvise(start, end - start, 14) != 0:  # MADV_HUGEPAGE
                continue
            for at in range(start, end, step):
                madvise(at, min(step, end - at), 25)  # MADV_COLLAPSE (Linux 6.1+)
            done += end - start
        return done

    def labels(self) -> np.ndarray:
        return np.asarray(self._index.get_ids_list(), np.int64)

    # -- saving it -----------------------------------------------------------------------------
    def save(self, path: Path, before_replace: Callable[[int, int], None] | None = None
             ) -> tuple[int, int]:
        """Write the index to ``path`` atomically (a temporary file in the same folder, then a
        rename); returns the new file's ``(size, adler32)``. ``before_replace(size, adler32)``
        runs between writing and renaming (the library records what is about to appear). A
        failed save leaves the old file. Raises OSError (a full disk, ``path`` a folder, ...)."""
        fd, tmp = tempfile.mkstemp(prefix=".faces-", suffix=".hnsw", dir=path.parent)
        os.close(fd)
        try:
            self._index.save_index(tmp)
            checksum = file_checksum(Path(tmp))
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
            if before_replace is not None:
                before_replace(*checksum)
            os.replace(tmp, path)
            return checksum
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


class IndexRejected(Exception):
    """An index file that must not be loaded; ``str()`` says why, after "faces.hnsw ..."."""


def chunked(rows: Iterator[tuple[int, bytes]], size: int = 20_000
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(ids, vectors)`` chunks from ``(id, float32 blob)`` rows."""
    batch: list[tuple[int, bytes]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield _arrays(batch)
            batch = []
    if batch:
        yield _arrays(batch)


def _arrays(rows: list[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    vectors = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(-1, DIM)
    return ids, vectors
