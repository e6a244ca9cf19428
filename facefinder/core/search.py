"""Searching a library with a photo, and comparing two photos: the verbs front ends call."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .library import Hit, Library
from .pipeline import Engine, Face, distance
from .verify import DEFAULT_THRESHOLD, same_person


@dataclass
class QueryResult:
    """The query photo's faces (largest first), the one searched with, and the hits."""

    path: str
    width: int
    height: int
    faces: list[Face]
    chosen: int
    threshold: float
    hits: list[Hit] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "query": {
                "image_path": self.path,
                "face": self.chosen,
                "box": list(self.faces[self.chosen].box),
                "faces": [{"index": i, "box": list(f.box), "confidence": round(f.confidence, 4)}
                          for i, f in enumerate(self.faces)],
            },
            "threshold": self.threshold,
            "results": [
                {
                    "rank": h.rank,
                    "distance": round(h.distance, 4),
                    "same_person": same_person(h.distance, self.threshold),
                    "image_path": h.face.path,
                    "box": list(h.face.box),
                }
                for h in self.hits
            ],
        }


def search_photo(library: Library, engine: Engine, path: str | os.PathLike, k: int = 10,
                 face_index: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                 unload_model: bool = False) -> QueryResult:
    """Find the ``k`` faces in ``library`` most like a face of the photo at ``path``.

    ``unload_model``: a one-shot search (a command): drop the face model once the query is
    embedded, and search the library's index file without loading it
    (:meth:`Library.search_once`); the process then peaks at the model's memory, not the
    model's and the index's (the README's Scale section).

    Raises ImageError (not a photo), NoFaceError, LibraryError (empty library)."""
    library.prepare_search()  # the index file is checked while the model works
    photo, faces, chosen = engine.query_face(path, face_index)
    if unload_model:
        engine.unload()
        hits = library.search_once(faces[chosen].embedding, k)  # straight from the file
    else:
        hits = library.search(faces[chosen].embedding, k)
    return QueryResult(os.fspath(path), photo.width, photo.height, faces, chosen, threshold, hits)


@dataclass
class Comparison:
    distance: float
    threshold: float
    same_person: bool
    faces: tuple[Face, Face]

    def to_json(self) -> dict:
        return {"distance": round(self.distance, 4), "threshold": self.threshold,
                "same_person": self.same_person}


def compare_photos(engine: Engine, a: str | os.PathLike, b: str | os.PathLike,
                   threshold: float = DEFAULT_THRESHOLD, face_a: int | None = None,
                   face_b: int | None = None) -> Comparison:
    """Distance between the largest faces (or the chosen ones) of two photos, and the verdict."""
    _, faces_a, ia = engine.query_face(a, face_a)
    _, faces_b, ib = engine.query_face(b, face_b)
    d = distance(faces_a[ia].embedding, faces_b[ib].embedding)
    return Comparison(d, threshold, same_person(d, threshold), (faces_a[ia], faces_b[ib]))
