"""Searching a library with a photo, the nearest people, and comparing two photos: the verbs
the CLI and the app both call, so that each behaviour exists once.

A search embeds the query with the pipeline the library was built with (an old library keeps
working until it is upgraded: :mod:`facefinder.core.upgrade`), and judges each result with
:class:`~facefinder.core.verify.Judge` (:func:`judge_for`), the same way in the CLI and the app.
The app embeds its query photos in another process and comes in at :func:`search_faces` and
:func:`compare_faces`, with the faces already found; the CLI at :func:`search_photo` and
:func:`compare_photos`, which find them first.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import numpy as np

from . import people as people_store
from .library import Hit, Library
from .multi_query import mean_query, search_many
from .people import NearPerson
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
    people: list[NearPerson] | None = None
    """A search for the nearest people: the person of each hit (``hits[i]`` is
    ``people[i]``'s face nearest the query); None: a search for the nearest faces."""

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
                **verdict_fields(v),
                "quality": "small" if is_small(h.face.box, self.pipeline or None) else "ok",
                "image_path": h.face.path,
                "box": list(h.face.box),
            })
        for item, n in zip(out["results"], self.people or []):
            item["person"] = {"id": n.person_id, "name": n.name, "size": n.size}
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


def verdict_fields(v) -> dict:
    """A :class:`~facefinder.core.verify.Verdict` as the JSON fields every search prints:
    ``same_person``, ``verdict`` ("same person", "possibly" or "") and ``expected_strangers``."""
    return {"same_person": v.same,
            "verdict": {"same": "same person", "possible": "possibly"}.get(v.tier, ""),
            "expected_strangers": float(f"{v.expected_strangers:.3g}")}


def search_combined(library: Library, embeddings: np.ndarray, query_box, k: int = 10,
                    combine: str = "mean", exclude: set[int] | None = None
                    ) -> tuple[list[Hit], Judge]:
    """The ``k`` faces nearest several query faces ``embeddings`` (M, 128) of one person (photos
    of one person, or a person's faces), combined as ``combine`` says
    (:func:`facefinder.core.multi_query.search_many`: ``mean`` ranked better on the shared
    photos), ``exclude`` left out, and the :class:`Judge` of their verdicts (judged from the
    query the search used: the mean, or the first face for ``any``; ``query_box``: that face's
    box, for the small-face rule)."""
    vecs = np.asarray(embeddings, np.float32).reshape(-1, 128)
    hits = search_many(library, vecs, k, combine, exclude=exclude)
    query = mean_query(vecs) if combine == "mean" and len(vecs) > 1 else vecs[0]
    return hits, judge_for(library, query, query_box)


def search_with_faces(library: Library, face_ids: list[int], k: int = 10,
                      combine: str = "mean") -> tuple[list[Hit], Judge]:
    """:func:`search_combined` with several faces of the library itself (a person's: "Search
    with this person"), those faces left out. Raises LookupError when none of them is in the
    library."""
    ids, vecs = library.embeddings_of(face_ids)
    if not len(ids):
        raise LookupError("none of these faces is in the library any more")
    first = library.face_rows([int(ids[0])])[int(ids[0])]
    return search_combined(library, vecs, first.box, k, combine, {int(i) for i in ids})


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


def place_new_faces(library: Library) -> None:
    """Faces added since the last grouping join the people they look like (incremental: about
    0.1 s for 500 new faces; placed faces keep their people)."""
    if people_store.unplaced(library) > 0:
        people_store.cluster(library)


def nearest_people(library: Library, embedding: np.ndarray, k: int
                   ) -> list[tuple[Hit, NearPerson]]:
    """The ``k`` nearest distinct people to ``embedding`` (128,), nearest first, each as the
    :class:`~facefinder.core.library.Hit` of its face nearest the query (ranked 1, 2, ...) with
    its :class:`~facefinder.core.people.NearPerson`. Faces not grouped yet count as people of
    one (see :func:`place_new_faces`)."""
    near = people_store.nearest_people(library, embedding, k)
    rows = library.face_rows([n.face_id for n in near])
    out: list[tuple[Hit, NearPerson]] = []
    for n in near:
        row = rows.get(n.face_id)
        if row is not None:  # a face deleted since the search
            out.append((Hit(len(out) + 1, float(n.distance), row), n))
    return out


def search_faces(library: Library, path: str, width: int, height: int, faces: list[Face],
                 chosen: int, k: int = 10, threshold: float | None = None,
                 people: bool = False, place_new: bool = True, once: bool = False,
                 pipeline: str | None = None) -> QueryResult:
    """Search ``library`` with ``faces[chosen]`` of a query photo (``path``, ``width`` x
    ``height`` px) whose ``faces`` were embedded with the library's pipeline: the ``k`` nearest
    faces, or with ``people`` the ``k`` nearest people (:func:`nearest_people`; ``place_new``:
    new faces join their people first, :func:`place_new_faces`). ``once``: search the index
    file without loading it (:meth:`Library.search_once`). ``pipeline``: the library's, when
    the caller knows it already. ``threshold``: a fixed same-person threshold instead of the
    calibrated verdict."""
    name = pipeline or library_pipeline(library)
    face = faces[chosen]
    near = None
    if people:
        if place_new:
            place_new_faces(library)
        found = nearest_people(library, face.embedding, k)
        hits, near = [h for h, _ in found], [n for _, n in found]
    elif once:
        hits = library.search_once(face.embedding, k)  # straight from the file
    else:
        hits = library.search(face.embedding, k)
    judge = judge_for(library, face.embedding, face.box, threshold)
    return QueryResult(path, width, height, faces, chosen, threshold, hits, judge, name, near)


def search_photo(library: Library, engine: Engine, path: str | os.PathLike, k: int = 10,
                 face_index: int | None = None, threshold: float | None = None,
                 unload_model: bool = False, people: bool = False) -> QueryResult:
    """Find the ``k`` faces in ``library`` most like a face of the photo at ``path`` (by default
    its most prominent face), embedded with the library's own pipeline; ``people``: the ``k``
    nearest people instead (see :func:`search_faces`). ``threshold``: a fixed same-person
    threshold instead of the calibrated verdict.

    ``unload_model``: a one-shot search for faces (a command): drop the face model once the
    query is embedded, and search the library's index file without loading it
    (:meth:`Library.search_once`); the process then peaks at the model's memory, not the
    model's and the index's (the README's Scale section).

    Raises ImageError (not a photo), NoFaceError, LibraryError (empty library)."""
    library.prepare_search()  # the index file is checked while the model works
    name = library_pipeline(library)
    with engine.using(name):
        photo, faces, chosen = engine.query_face(path, face_index)
    once = unload_model and not people
    if once:
        engine.unload()
    return search_faces(library, os.fspath(path), photo.width, photo.height, faces, chosen, k,
                        threshold, people=people, once=once, pipeline=name)


@dataclass
class Comparison:
    distance: float
    threshold: float
    same_person: bool
    faces: tuple[Face, Face]
    verdict: PairVerdict | None = None
    pipeline: str = ""

    @property
    def small(self) -> bool:
        """Whether either face is too small to judge (the verdict is then at most "possibly")."""
        return any(is_small(f.box, self.pipeline or None) for f in self.faces)

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
    return compare_faces(faces_a[ia], faces_b[ib], engine.pipeline.name, threshold)


def compare_faces(fa: Face, fb: Face, pipeline: str, threshold: float | None = None
                  ) -> Comparison:
    """The distance between two faces embedded with ``pipeline`` (a name of
    :data:`~facefinder.core.align.PIPELINES`) and its verdict (see :func:`compare_photos`)."""
    d = distance(fa.embedding, fb.embedding)
    name = pipeline
    small = is_small(fa.box, name) or is_small(fb.box, name)
    v = pair_verdict(d, name, small, threshold)
    # same_person: under the pair threshold (the balanced yes/no), unless a face is too small
    # to judge; the verdict's tier says how strong the evidence is.
    return Comparison(d, v.threshold, v.under_threshold and not small, (fa, fb), v, name)
