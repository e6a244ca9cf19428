"""Searching with several faces at once (issue 14): several photos of one person, or a named
person's faces, as one query.

Two ways to combine them: ``any`` ranks a face by its distance to the *nearest* of the query
faces (each query searched on its own, the results merged); ``mean`` ranks by the distance to
the normalized mean of the query embeddings (one search). :func:`measure_combine` compares them
on labelled faces (``facefinder bench combine``; figures in the README, "People tools").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .library import Hit, Library

COMBINES = ("any", "mean")


def mean_query(embeddings: np.ndarray) -> np.ndarray:
    """The normalized mean of ``embeddings`` (M, 128) unit vectors: (128,) float32."""
    m = np.asarray(embeddings, np.float32).reshape(-1, 128).mean(axis=0)
    return (m / max(float(np.linalg.norm(m)), 1e-12)).astype(np.float32)


def search_many(library: Library, embeddings: np.ndarray, k: int = 10, combine: str = "mean",
                exclude: set[int] | None = None) -> list[Hit]:
    """The ``k`` faces nearest to several query faces ``embeddings`` (M, 128), nearest first,
    combined as ``combine`` says (see the module docstring). ``exclude``: face ids left out (the
    query faces themselves, when they are in the library). Distances: to the mean, or to the
    nearest query face."""
    if combine not in COMBINES:
        raise ValueError(f"combine must be one of {COMBINES}, not {combine!r}")
    emb = np.asarray(embeddings, np.float32).reshape(-1, 128)
    exclude = exclude or set()
    want = min(library.face_count(), k + len(exclude))
    if want <= 0 or not len(emb):
        return []
    if combine == "mean" or len(emb) == 1:
        hits = [h for h in library.search(mean_query(emb) if len(emb) > 1 else emb[0], want)
                if h.face.face_id not in exclude]
    else:
        best: dict[int, Hit] = {}
        for q in emb:
            for h in library.search(q, want):
                if h.face.face_id in exclude:
                    continue
                if h.face.face_id not in best or h.distance < best[h.face.face_id].distance:
                    best[h.face.face_id] = h
        hits = sorted(best.values(), key=lambda h: (h.distance, h.face.face_id))
    return [Hit(i + 1, h.distance, h.face) for i, h in enumerate(hits[:k])]


@dataclass
class CombineScore:
    """Mean average precision and R-precision (the share of the person's other faces among the
    first R results, R = how many there are) over the trials, for one way of combining
    ``queries`` faces."""

    combine: str
    queries: int
    trials: int
    map: float
    r_precision: float


def measure_combine(emb: np.ndarray, labels: list[str], queries: tuple[int, ...] = (1, 2, 3, 5),
                    trials: int = 20, seed: int = 0, min_faces: int = 0) -> list[CombineScore]:
    """Compare ``any`` and ``mean`` on labelled faces ``emb`` (N, 128) with one identity per row.

    For each identity with at least ``max(m + 2, min_faces)`` faces and each trial: ``m`` of its faces at random
    are the query, its other faces are the ones to find, every face but the queries is ranked
    (exact distances). Returns one score per (combine, m)."""
    emb = np.asarray(emb, np.float32)
    lab = np.asarray(labels)
    rng = np.random.default_rng(seed)
    sims = emb @ emb.T
    dist = np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0))
    out = []
    for m in queries:
        aps: dict[str, list[float]] = {c: [] for c in COMBINES}
        pats: dict[str, list[float]] = {c: [] for c in COMBINES}
        for who in sorted(set(lab.tolist())):
            rows = np.flatnonzero(lab == who)
            if len(rows) < max(m + 2, min_faces):
                continue
            for _ in range(trials):
                q = rng.choice(rows, m, replace=False)
                rest = np.setdiff1d(np.arange(len(lab)), q)
                relevant = lab[rest] == who
                scores = {"any": dist[q][:, rest].min(axis=0),
                          "mean": np.sqrt(np.maximum(2.0 - 2.0 * emb[rest] @ mean_query(emb[q]),
                                                     0.0))}
                for c, d in scores.items():
                    order = np.argsort(d, kind="stable")
                    hit = relevant[order]
                    ranks = np.flatnonzero(hit) + 1
                    aps[c].append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
                    pats[c].append(float(hit[:len(ranks)].mean()))
        for c in COMBINES:
            if aps[c]:
                out.append(CombineScore(c, m, len(aps[c]), float(np.mean(aps[c])),
                                        float(np.mean(pats[c]))))
    return out
