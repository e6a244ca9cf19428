"""``facefinder bench grouping LIBRARY [--compare]``: how well faces are grouped into people.

On a library indexed from labelled folders (one folder per person, e.g. ``../shared/data/faces``)
it groups every face with the library's own method (:mod:`facefinder.core.grouping`) at several
thresholds and scores the largest face of each photo against its folder: pairwise precision and
recall, and the number of groups. ``--compare`` adds union-find over the same edges, and
DBSCAN and agglomerative clustering from scikit-learn (installed separately; facefinder itself
does not need it). Writes nothing to the library. The README quotes the figures.
"""

from __future__ import annotations

import os
import time

import numpy as np

from .core.grouping import NEIGHBOURS, edge_graph, group_labels, knn, pairwise_scores
from .core.library import Library
from .core.people import MIN_GROUP_FACE


def largest_faces(library: Library) -> tuple[np.ndarray, list[str]]:
    """Face ids (M,) of the largest face of each photo, and each photo's parent folder name
    (the identity, in a labelled folder of one folder per person)."""
    rows = library.query(
        "SELECT faces.id, photos.path, w * h FROM faces JOIN photos ON photos.id = "
        "faces.photo_id ORDER BY photos.id, w * h DESC, faces.id")
    best: dict[bytes, int] = {}
    for fid, path, _area in rows:
        best.setdefault(path, fid)
    keys = sorted(best, key=lambda p: best[p])
    return (np.array([best[p] for p in keys], np.int64),
            [os.path.basename(os.path.dirname(os.fsdecode(p))) for p in keys])


def _union_find(n: int, indptr: np.ndarray, nbrs: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(n):
        for j in nbrs[indptr[i]:indptr[i + 1]]:
            a, b = find(i), find(int(j))
            if a != b:
                parent[a] = b
    return np.array([find(i) for i in range(n)])


def main(args) -> int:
    lib = Library.open(args.library, None, create=False)
    try:
        ids, emb = lib.all_embeddings()
        scored, truth = largest_faces(lib)
        side = dict(lib.query("SELECT id, MIN(w, h) FROM faces"))
    finally:
        lib.close()
    rows = np.searchsorted(ids, scored)
    min_face = MIN_GROUP_FACE if args.min_face is None else args.min_face
    ok = np.fromiter((side[f] >= min_face for f in ids.tolist()), bool, len(ids))
    print(f"{len(ids)} faces ({int((~ok).sum())} under {min_face} px left ungrouped, "
          f"each scored as a group of its own), {len(scored)} photos scored (largest face), "
          f"{len(set(truth))} identities")

    def with_small(labels_ok: np.ndarray) -> np.ndarray:
        labels = 10**9 + np.arange(len(ids))
        labels[ok] = labels_ok
        return labels

    def report(method: str, t: float, labels: np.ndarray, seconds: float) -> None:
        pred = labels[rows]
        p, r = pairwise_scores(truth, pred)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{method:28} t={t:<5} precision {p:.3f} recall {r:.3f} F1 {f1:.3f} "
              f"groups {len(set(pred.tolist())):4d} (all faces: {len(set(labels.tolist()))}) "
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
            labels = _union_find(len(ids), indptr, nbrs)
            report(f"union-find (kNN {NEIGHBOURS})", t, labels, time.perf_counter() - t0)
        try:
            from sklearn.cluster import DBSCAN, AgglomerativeClustering
        except ImportError:
            print("scikit-learn is not installed: DBSCAN and agglomerative clustering skipped "
                  "(pip install scikit-learn)")
            return 0

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
    return 0
