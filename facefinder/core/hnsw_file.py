"""Reading a saved HNSW index file without hnswlib: its bottom layer for grouping, and one search
straight from the file for a process that searches once.

hnswlib saves (since 0.5) a 96-byte header, then one fixed-size record per face (link count
(2 bytes), flags (1; bit 0: deleted), 1 spare, ``max_m0`` links to other records, the vector as
128 float32, the label as uint64), then each face's upper-layer links. Only files that match
the library's record (:func:`~facefinder.core.hnsw_index.verify`) are read, and a header that
does not describe that layout is refused (:class:`IndexRejected`), so a later hnswlib that
changed its format costs speed (the library loads the index instead), never answers.
"""

from __future__ import annotations

import heapq
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .hnsw_index import _CHUNK, DIM, IndexRecord, IndexRejected

@dataclass
class Graph:
    """The bottom layer of a saved HNSW index (every face, each with up to ``2 M`` links chosen
    by hnswlib's neighbour heuristic while it built the index): ``labels`` (n,) int64 face ids,
    ``links`` (n, 2M) int32 rows of the same arrays (-1: none), ``vectors`` (n, 128) float32,
    ``deleted`` (n,) bool. About 650 bytes per face."""

    labels: np.ndarray
    links: np.ndarray
    vectors: np.ndarray
    deleted: np.ndarray


_HEADER = np.dtype([("offset_level0", "<u8"), ("max_elements", "<u8"), ("count", "<u8"),
                    ("record", "<u8"), ("label_offset", "<u8"), ("data_offset", "<u8"),
                    ("max_level", "<i4"), ("entry", "<u4"), ("max_m", "<u8"),
                    ("max_m0", "<u8"), ("m", "<u8"), ("mult", "<f8"), ("ef_construction", "<u8")])


def _layout(f, size: int) -> tuple[int, np.dtype]:
    """``(faces, record dtype)`` from the header of the open file ``f`` of ``size`` bytes;
    raises :class:`IndexRejected` for a layout this reader does not know."""
    f.seek(0)
    head = np.fromfile(f, _HEADER, count=1)
    if len(head) != 1:
        raise IndexRejected("is too short to be an index")
    h = {name: head[name][0].item() for name in _HEADER.names}
    m0 = int(h["max_m0"])
    if not 0 < m0 < 1 << 12:
        raise IndexRejected("has a layout this version cannot read")
    record = np.dtype([("count", "<u2"), ("flags", "u1"), ("spare", "u1"),
                       ("links", "<u4", (m0,)), ("vector", "<f4", (DIM,)), ("label", "<u8")])
    n = int(h["count"])
    if (h["offset_level0"], h["data_offset"], h["label_offset"], h["record"]) != (
            0, 4 + 4 * m0, 4 + 4 * m0 + 4 * DIM, record.itemsize) or \
            _HEADER.itemsize + n * record.itemsize > size or not 0 <= h["entry"] < max(n, 1):
        raise IndexRejected("has a layout this version cannot read")
    return n, record


def read_graph(path: Path, expected: list[IndexRecord], chunk: int = 1 << 16
               ) -> tuple[Graph, IndexRecord]:
    """Read the bottom layer of an index file saved by :meth:`FaceIndex.save`, without hnswlib:
    grouping a million faces uses the neighbours hnswlib found while it built the index instead
    of a million searches. The file must match one of the ``expected`` records (size and
    checksum, checked on the same open file that is then read), like :meth:`FaceIndex.load`.

    Raises :class:`IndexRejected` when it does not, or when the file's layout is not the one
    this reader knows (hnswlib's save format since 0.5: a 96-byte header, then one fixed-size
    record per face: link count (2 bytes), flags (1), 1 spare, ``max_m0`` links, the vector,
    the label). Reads a chunk of records at a time; the result takes about 650 bytes a face."""
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise IndexRejected(f"cannot be read ({exc.strerror})") from None
    with f:
        expected = [r for r in expected if r is not None]
        size = os.fstat(f.fileno()).st_size
        candidates = [r for r in expected if r.size == size]
        if not candidates:
            raise IndexRejected("does not match what this library saved")
        value = 1
        while True:
            block = f.read(_CHUNK)
            if not block:
                break
            value = zlib.adler32(block, value)
        match = next((r for r in candidates if r.adler32 == value), None)
        if match is None:
            raise IndexRejected("does not match what this library saved")
        n, record = _layout(f, size)
        m0 = record["links"].shape[0]
        f.seek(_HEADER.itemsize)
        labels = np.empty(n, np.int64)
        links = np.empty((n, m0), np.int32)
        vectors = np.empty((n, DIM), np.float32)
        deleted = np.empty(n, bool)
        for start in range(0, n, chunk):
            part = np.fromfile(f, record, count=min(chunk, n - start))
            stop = start + len(part)
            if stop - start != min(chunk, n - start):
                raise IndexRejected("is shorter than its header says")
            counts = np.minimum(part["count"].astype(np.int64), m0)
            own = part["links"].astype(np.int64)
            own[np.arange(m0)[None, :] >= counts[:, None]] = -1
            own[own >= n] = -1
            links[start:stop] = own
            vectors[start:stop] = part["vector"]
            labels[start:stop] = part["label"].astype(np.int64)
            deleted[start:stop] = (part["flags"] & 1).astype(bool)
    return Graph(labels, links, vectors, deleted), match




class IndexFile:
    """One search straight from a saved index file, reading only the records it visits (a few
    thousand, with ``pread``) instead of loading the whole index: a process that searches once
    needs neither the second hnswlib takes to load a million faces nor the 0.75 GB it holds
    them in. (Not a memory map: the kernel maps whole cached folios of the file on each touch,
    which counted 0.6 GB against the process for 20,000 records read.) Use as a context manager.

    The search is hnswlib's bottom-layer search (``searchBaseLayerST``: a best-first walk that
    keeps the ``ef`` nearest faces seen and stops when the nearest unexplored one is farther than
    all of them; deleted faces are walked through but not returned), started from the nearest of
    about a thousand faces spread over the file instead of from hnswlib's descent through the
    upper layers (which sit in a variable-length part of the file). It found the same faces as
    hnswlib at the same ``ef`` on the scale benchmark's libraries (README, "Scale")."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")
        try:
            st = os.fstat(self._file.fileno())
            self.identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
            self.faces, self._record = _layout(self._file, st.st_size)
        except BaseException:
            self._file.close()
            raise
        self._fd = self._file.fileno()
        self._cache: dict[int, bytes] = {}

    def __enter__(self) -> "IndexFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._cache = {}
        self._file.close()

    def records(self, nodes) -> np.ndarray:
        """The records (structured array: count, flags, links, vector, label) of ``nodes``."""
        size = self._record.itemsize
        parts = []
        for node in nodes:
            data = self._cache.get(node)
            if data is None:
                data = os.pread(self._fd, size, _HEADER.itemsize + node * size)
                if len(data) != size:
                    raise IndexRejected("is shorter than its header says")
                self._cache[node] = data
            parts.append(data)
        return np.frombuffer(b"".join(parts), self._record)

    def search(self, query: np.ndarray, k: int, ef: int, samples: int = 1024
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (k',) int64, squared distances (k',) float32)`` of the nearest live faces,
        nearest first, k' <= k."""
        n = self.faces
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.asarray(query, np.float32).reshape(DIM)
        ef = max(int(ef), int(k))
        start = list(range(0, n, max(1, n // samples)))
        recs = self.records(start)
        d = ((recs["vector"] - q) ** 2).sum(axis=1)
        first = int(np.argmin(d))
        entry, d0 = start[first], float(d[first])
        visited = np.zeros(n, bool)
        visited[entry] = True
        candidates = [(d0, entry)]  # min-heap of faces to explore
        best: list[tuple[float, int]] = []  # max-heap (negated) of the ef nearest live faces
        if not recs["flags"][first] & 1:
            best.append((-d0, entry))
        bound = d0 if best else float("inf")
        while candidates:
            dist, node = candidates[0]
            if dist > bound and len(best) >= ef:
                break
            heapq.heappop(candidates)
            rec = self.records([node])[0]
            near = rec["links"][:int(rec["count"])].astype(np.int64)
            near = near[near < n]
            near = near[~visited[near]]
            if not len(near):
                continue
            visited[near] = True
            found = self.records(near.tolist())
            dists = ((found["vector"] - q) ** 2).sum(axis=1).tolist()
            dead = (found["flags"] & 1).astype(bool).tolist()
            for other, dd, gone in zip(near.tolist(), dists, dead):
                if len(best) < ef or dd < bound:
                    heapq.heappush(candidates, (dd, other))
                    if not gone:
                        heapq.heappush(best, (-dd, other))
                        if len(best) > ef:
                            heapq.heappop(best)
                    if best:
                        bound = -best[0][0]
        top = sorted((-nd, node) for nd, node in best)[:k]
        if not top:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        labels = self.records([node for _, node in top])["label"].astype(np.int64)
        return labels, np.fromiter((dd for dd, _ in top), np.float32, len(top))
