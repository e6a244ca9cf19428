"""Searching a library with a photo, and comparing two photos: the verbs front ends call.

A search embeds the query with the pipeline the library was built with (an old library keeps
working until it is upgraded: :mod:`facefinder.core.upgrade`), and judges each result with
:class:`~facefinder.core.verify.Judge` (:func:`judge_for`), the same way in the CLI and the app.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

from .library import Hit, Library
from .pipeline import Engine, Face, distance
from .verify import COHORT, Judge, PairVerdict, calibration, is_small, pair_verdict, \
    query_norm, quality
from .upgrade import library_pipeline


@dataclass
class QueryResult:
    """The query photo's faces (largest first), the one searched with, the hits and the judge
    of their verdicts."""

    path: str
    width: int
    height: int
    faces: list[Face]
    chosen: int
    threshold: float | None
    hits: list[Hit] = field(default_factory=list)
    judge: Judge | None = None
    pipeline: str = ""

    def verdicts(self):
        """One :class:`~facefinder.core.verify.Verdict` per hit."""
        judge = self.judge or Judge(calibration(self.pipeline or None), 1)
        return [judge.verdict(h.distance, min(h.face.box[2], h.face.box[3]))
                for h in self.hits]

    def to_json(self) -> dict:
        q = self.faces[self.chosen]
        out = {
            "query": {
                "image_path": self.path,
                "face": self.chosen,
                "box": list(q.box),
                "quality": quality(q.box, self.pipeline or None),
                "faces": [{"index": i, "box": list(f.box), "confidence": round(f.confidence, 4),
                           "quality": quality(f.box, self.pipeline or None)}
                          for i, f in enumerate(self.faces)],
            },
            "threshold": self.threshold,
            "library_faces": self.judge.library_size if self.judge else None,
            "pipeline": self.pipeline,
            "results": [],
        }
        for h, v in zip(self.hits, self.verdicts()):
            out["results"].append({
                "rank": h.rank,
                "distance": round(h.distance, 4),
                "same_person": v.same,
                "verdict": {"same": "same person", "possible": "possibly"}.get(v.tier, ""),
                "expected_strangers": float(f"{v.expected_strangers:.3g}"),
                "quality": "small" if is_small(h.face.box, self.pipeline or None) else "ok",
                "image_path": h.face.path,
                "box": list(h.face.box),
            })
        return out


# -- the cohort a query's distances are normalised with ------------------------------------------
_cohorts: dict[tuple, np.ndarray] = {}
_cohorts_lock = threading.Lock()


def library_cohort(library: Library, size: int = COHORT, seed: int = 0) -> np.ndarray:
    """Up to ``size`` of the library's embeddings, drawn at random (the same ones while the
    library does not change): ``(n, 128)`` float32. Cached per library and face count."""
    # The catalog's own record (no COUNT(*) over a million faces per search); MIN(id) is one
    # b-tree lookup.
    state = library.state()
    count, hi = state.faces, state.max_face
    lo = library.query("SELECT COALESCE(MIN(id), 0) FROM faces")[0][0]
    key = (str(library.path), state.generation, count, lo, hi, size)
    with _cohorts_lock:
        if key in _cohorts:
            return _cohorts[key]
    if count <= size:
        rows = library.query("SELECT embedding FROM faces")
    else:
        # Random ids between the smallest and the largest (deleted ids are simply missing):
        # primary-key lookups, no scan of a large catalog.
        rng = np.random.default_rng(seed)
        want = min(hi - lo + 1, int(size * (hi - lo + 1) / count * 1.2) + 16)
        ids = np.sort(rng.choice(hi - lo + 1, want, replace=False) + lo)
        rows = []
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900].tolist()
            rows += library.query(f"SELECT embedding FROM faces WHERE id IN "
                                  f"({','.join('?' * len(chunk))})", chunk)
        rows = rows[:size]
    emb = (np.frombuffer(b"".join(r[0] for r in rows), np.float32).reshape(-1, 128)
           if rows else np.zeros((0, 128), np.float32))
    with _cohorts_lock:
        if len(_cohorts) > 8:
            _cohorts.clear()
        _cohorts[key] = emb
    return emb


def judge_for(library: Library, embedding: np.ndarray, query_box=None,
              threshold: float | None = None) -> Judge:
    """The :class:`~facefinder.core.verify.Judge` of a query's results in ``library``: its
    pipeline's calibration, its size, the query's distances to a sample of its faces, whether
    the query face (``query_box``) is small, and an optional fixed ``threshold``."""
    name = library_pipeline(library)
    cal = calibration(name)
    cohort = library_cohort(library)
    d = np.sqrt(np.maximum(2.0 - 2.0 * cohort @ np.asarray(embedding, np.float32), 0.0))
    small = query_box is not None and is_small(query_box, name)
    return Judge(cal, library.face_count(), query_norm(d, cal), small, threshold)


def search_photo(library: Library, engine: Engine, path: str | os.PathLike, k: int = 10,
                 face_index: int | None = None, threshold: float | None = None,
                 unload_model: bool = False) -> QueryResult:
    """Find the ``k`` faces in ``library`` most like a face of the photo at ``path`` (by default
    its most prominent face), embedded with the library's own pipeline. ``threshold``: a fixed
    same-person threshold instead of the calibrated verdict.

    ``unload_model``: a one-shot search (a command): drop the face model once the query is
    embedded, and search the library's index file without loading it
    (:meth:`Library.search_once`); the process then peaks at the model's memory, not the
    model's and the index's (the README's Scale section).

    Raises ImageError (not a photo), NoFaceError, LibraryError (empty library)."""
    library.prepare_search()  # the index file is checked while the model works
    name = library_pipeline(library)
    with engine.using(name):
        photo, faces, chosen = engine.query_face(path, face_index)
    face = faces[chosen]
    if unload_model:
        engine.unload()
        hits = library.search_once(face.embedding, k)  # straight from the file
    else:
        hits = library.search(face.embedding, k)
    judge = judge_for(library, face.embedding, face.box, threshold)
    return QueryResult(os.fspath(path), photo.width, photo.height, faces, chosen, threshold,
                       hits, judge, name)


@dataclass
class Comparison:
    distance: float
    threshold: float
    same_person: bool
    faces: tuple[Face, Face]
    verdict: PairVerdict | None = None
    pipeline: str = ""

    def to_json(self) -> dict:
        v = self.verdict
        out = {"distance": round(self.distance, 4), "threshold": self.threshold,
               "same_person": self.same_person}
        if v is not None:
            out.update({
                "verdict": {"same": "same person", "possible": "possibly",
                            "different": "different people"}[v.tier],
                "different_pairs_closer": float(f"{v.different_closer:.3g}"),
                "same_pairs_farther": round(v.same_farther, 4),
                "quality": ["small" if is_small(f.box, self.pipeline or None) else "ok"
                            for f in self.faces],
                "pipeline": self.pipeline,
            })
        return out


def compare_photos(engine: Engine, a: str | os.PathLike, b: str | os.PathLike,
                   threshold: float | None = None, face_a: int | None = None,
                   face_b: int | None = None) -> Comparison:
    """Distance between the most prominent faces (or the chosen ones) of two photos, embedded
    with ``engine.pipeline``, and the verdict (see :func:`~facefinder.core.verify.pair_verdict`;
    ``threshold`` overrides the pipeline's pair threshold)."""
    _, faces_a, ia = engine.query_face(a, face_a)
    _, faces_b, ib = engine.query_face(b, face_b)
    fa, fb = faces_a[ia], faces_b[ib]
    d = distance(fa.embedding, fb.embedding)
    name = engine.pipeline.name
    small = is_small(fa.box, name) or is_small(fb.box, name)
    v = pair_verdict(d, name, small, threshold)
    # same_person: under the pair threshold (the balanced yes/no), unless a face is too small
    # to judge; the verdict's tier says how strong the evidence is.
    return Comparison(d, v.threshold, v.under_threshold and not small, (fa, fb), v, name)
