"""Who the faces of a result belong to: each face's person, its name and how many faces it has.

The one place a person's faces are counted for showing beside a result (the app's search
results); it reads the people tables :mod:`facefinder.core.people` keeps.
"""

from __future__ import annotations

from typing import Sequence

from . import people
from .library import Library

_CHUNK = 900
"""Ids per ``IN (...)`` (SQLite allows 999 parameters in older builds)."""


def person_sizes(library: Library, person_ids: Sequence[int]) -> dict[int, int]:
    """``{person id: number of faces}`` for ``person_ids`` (a person with none is left out)."""
    ids = sorted({int(p) for p in person_ids})
    out: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        out.update(library.query(
            "SELECT person_id, COUNT(*) FROM face_person WHERE person_id IN "
            f"({','.join('?' * len(chunk))}) GROUP BY person_id", chunk))
    return out


def owners_of(library: Library, face_ids: Sequence[int]) -> dict[int, tuple[int, str | None, int]]:
    """``{face id: (person id, name, the person's number of faces)}`` for those of
    ``face_ids`` that are in a group. Raises what SQLite raises where the people tables cannot
    be added (a read-only library)."""
    if not face_ids:
        return {}
    found = people.person_of(library, face_ids)
    if not found:
        return {}
    sizes = person_sizes(library, [pid for pid, _ in found.values()])
    return {f: (pid, name, int(sizes.get(pid, 1))) for f, (pid, name) in found.items()}
