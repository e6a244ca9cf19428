"""Measuring quality on labelled photos (one folder per person).

Used by ``facefinder calibrate DIR`` and the tests: embeds the main face of every photo (the one
a query uses: :func:`~facefinder.core.pipeline.main_face`), then reports verification (threshold,
accuracy, ROC; see :mod:`verify`), retrieval (each photo whose person has another photo queries
all the other photos; precision@1 and mAP; photos where no face is found count as misses) and
the same-person badge in result lists (:func:`list_badges`). The ablation harness behind
``facefinder evaluate`` is :mod:`facefinder.core.ablation`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .images import is_photo_name
from .pipeline import Engine, main_face
from .verify import Judge, calibration, query_norm


@dataclass
class Labelled:
    paths: list[str]
    labels: list[str]
    embeddings: np.ndarray  # (N, 128); rows of NaN where no face was found
    found: np.ndarray  # (N,) bool


def labelled_photos(root: str | os.PathLike) -> list[tuple[str, str]]:
    """``(path, person)`` for every photo in ``root/<person>/``, sorted."""
    out = []
    for person in sorted(os.listdir(root)):
        folder = os.path.join(root, person)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if is_photo_name(name):
                out.append((os.path.join(folder, name), person))
    return out


def embed_labelled(engine: Engine, root: str | os.PathLike,
                   progress: Callable[[int, int], None] | None = None) -> Labelled:
    items = labelled_photos(root)
    paths = [p for p, _ in items]
    emb = np.full((len(items), 128), np.nan, np.float32)
    found = np.zeros(len(items), bool)
    for i, result in enumerate(engine.process_paths(paths)):
        if result.faces:
            emb[i] = result.faces[main_face(result.faces, result.width,
                                            result.height)].embedding
            found[i] = True
        if progress:
            progress(i + 1, len(items))
    return Labelled(paths, [lbl for _, lbl in items], emb, found)


@dataclass
class Retrieval:
    queries: int
    precision_at_1: float
    mean_average_precision: float
    no_face: int


def retrieval_metrics(data: Labelled) -> Retrieval:
    labels = np.asarray(data.labels)
    counts = {lbl: int((labels == lbl).sum()) for lbl in set(data.labels)}
    queries = [i for i, lbl in enumerate(data.labels) if counts[lbl] > 1]
    valid = np.where(data.found)[0]
    emb = data.embeddings[valid]
    hits1, aps = [], []
    for q in queries:
        if not data.found[q]:
            hits1.append(0.0)
            aps.append(0.0)
            continue
        others = valid[valid != q]
        d = np.linalg.norm(data.embeddings[others] - data.embeddings[q], axis=1)
        order = others[np.argsort(d, kind="stable")]
        rel = labels[order] == labels[q]
        hits1.append(float(rel[0]) if len(rel) else 0.0)
        n_rel = counts[labels[q]] - 1  # relevant photos, found or not
        if rel.any():
            precision = np.cumsum(rel) / np.arange(1, len(rel) + 1)
            aps.append(float((precision * rel).sum() / n_rel))
        else:
            aps.append(0.0)
    del emb
    return Retrieval(len(queries), float(np.mean(hits1)), float(np.mean(aps)),
                     int((~data.found).sum()))


@dataclass
class ListBadges:
    """The same-person badge over top-``k`` result lists: its precision, the share of the true
    matches in the lists that carry it, and the precision of "possibly"."""

    queries: int
    precision: float
    recall: float
    possible_precision: float
    badges: int


def list_badges(data: Labelled, pipeline: str | None = None, k: int = 20) -> ListBadges:
    """Each photo searches a library of the other photos' faces; the verdicts
    (:class:`~facefinder.core.verify.Judge` with the pipeline's shipped figures, as the app
    gives them) of the top ``k`` are scored against the folders' labels."""
    cal = calibration(pipeline)
    labels = np.asarray(data.labels)
    valid = np.where(data.found)[0]
    emb = data.embeddings[valid]
    d_all = np.sqrt(np.maximum(2.0 - 2.0 * emb @ emb.T, 0.0))
    tp = fp = ptp = pfp = rel_in = queries = 0
    for qi, q in enumerate(valid):
        others = np.delete(np.arange(len(valid)), qi)
        rel = labels[valid[others]] == labels[q]
        if not rel.any():
            continue
        d = d_all[qi, others]
        judge = Judge(cal, len(d), query_norm(d, cal))
        top = np.argsort(d, kind="stable")[:k]
        for j in top:
            tier = judge.verdict(float(d[j])).tier
            if tier == "same":
                tp += rel[j]
                fp += not rel[j]
            elif tier == "possible":
                ptp += rel[j]
                pfp += not rel[j]
        rel_in += int(rel[top].sum())
        queries += 1
    return ListBadges(queries, tp / max(tp + fp, 1), tp / max(rel_in, 1),
                      ptp / max(ptp + pfp, 1), int(tp + fp))
