"""The people tools (issue 14): hide, cover, undo, the review queue, faces drawn by hand, photos of
several people together.

Every correction the user makes is logged in the ``corrections`` table of the library's catalog
(:func:`facefinder.core.people.log_correction`, in the same transaction as the correction) with
what undoing it needs; :func:`undo` takes back the newest one not yet undone. The grouping
(:mod:`facefinder.core.people`) keeps what these write: hidden people, chosen covers and review
answers make a person confirmed, so a full re-grouping leaves it as it is, and a "no" in the
review queue is an exclusion (the face is never put into that person).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import FacefinderError
from .face_names import DRAWN_CONFIDENCE, MIN_DRAWN_PX
from .images import load_photo
from .library import Library
from .people import (MIN_GROUP_FACE, ensure_tables, log_correction, person_row,
                     rows_in_chunks)
from .pipeline import Face
from .upgrade import library_pipeline

__all__ = ["hide", "unhide", "hide_small", "set_cover", "find_named", "undo", "last_correction",
           "ReviewItem", "review_queue", "answer", "add_face", "together", "REVIEW_DISTANCE",
           "ANSWERS"]

REVIEW_DISTANCE = 1.2
"""Faces farther than this from every face of a named person are not offered for review (the
verification threshold: beyond it a face is not that person's look-alike)."""

ANSWERS = ("yes", "no", "skip")


# -- hiding and covers ------------------------------------------------------------------------------
def hide(library: Library, person_ids: Sequence[int], hidden: bool = True) -> int:
    """Hide (or show again) people: hidden people stay out of the list (strangers). They become
    confirmed, so a full re-grouping keeps them (and their hiding). Returns how many changed."""
    ensure_tables(library)
    ids = sorted({int(p) for p in person_ids})
    with library.transaction() as cur:
        before = {p: person_row(cur, p) for p in ids}
        changed = [p for p, row in before.items()
                   if row is not None and bool(row["hidden"]) != hidden]
        for p in changed:
            cur.execute("UPDATE people SET hidden=?, confirmed=1 WHERE id=?", (int(hidden), p))
        if changed:
            log_correction(cur, "hide" if hidden else "unhide",
                           {"people": {str(p): before[p] for p in changed}})
    return len(changed)


def unhide(library: Library, person_ids: Sequence[int] | None = None) -> int:
    """Show hidden people again (``None``: every hidden person). Returns how many."""
    ensure_tables(library)
    if person_ids is None:
        person_ids = [p for (p,) in library.query("SELECT id FROM people WHERE hidden = 1")]
    return hide(library, person_ids, hidden=False)


def hide_small(library: Library, below: int) -> int:
    """Hide every unnamed person with fewer than ``below`` faces (one correction: one undo)."""
    ensure_tables(library)
    ids = [p for (p,) in library.query(
        "SELECT id FROM people WHERE name IS NULL AND hidden = 0 AND size > 0 AND size < ?",
        (int(below),))]
    return hide(library, ids) if ids else 0


def set_cover(library: Library, person_id: int, face_id: int) -> None:
    """Show a person by this face (one of theirs) from now on."""
    ensure_tables(library)
    with library.transaction() as cur:
        row = cur.execute("SELECT person_id FROM face_person WHERE face_id=?",
                          (face_id,)).fetchone()
        if row is None or row[0] != person_id:
            raise FacefinderError(f"face {face_id} is not one of person {person_id}'s faces")
        before = person_row(cur, person_id)
        cur.execute("UPDATE people SET cover=?, confirmed=1 WHERE id=?", (face_id, person_id))
        log_correction(cur, "cover", {"person": person_id, "before": before})


def find_named(library: Library, name: str, but: int | None = None) -> int | None:
    """The oldest person called ``name`` (without regard to case or repeated spaces), other than
    ``but``; None when there is none. The app offers a merge when a name is given twice."""
    ensure_tables(library)
    key = " ".join((name or "").split()).casefold()
    if not key:
        return None
    for pid, other in library.query("SELECT id, name FROM people WHERE name IS NOT NULL AND "
                                    "size > 0 ORDER BY id"):
        if pid != but and " ".join(other.split()).casefold() == key:
            return int(pid)
    return None


def resolve_person(library: Library, who: str) -> int:
    """A person by name (see :func:`find_named`) or by id (``12`` or ``#12``)."""
    ensure_tables(library)
    text = who.strip()
    found = find_named(library, text)
    if found is not None:
        return found
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit() and library.query("SELECT 1 FROM people WHERE id=? AND size > 0",
                                          (int(digits),)):
        return int(digits)
    raise FacefinderError(f"no person called {who!r} (give a name or a person id)")


# -- undo --------------------------------------------------------------------------------------------
def last_correction(library: Library) -> tuple[int, str] | None:
    """``(id, kind)`` of the newest correction not undone yet, or None."""
    ensure_tables(library)
    row = library.query("SELECT id, kind FROM corrections WHERE undone = 0 ORDER BY id DESC "
                        "LIMIT 1")
    return (int(row[0][0]), row[0][1]) if row else None


def undo(library: Library) -> str | None:
    """Take back the newest correction not undone yet; returns its kind ('merge', 'move_out',
    'rename', 'hide', 'unhide', 'cover', 'review'), or None when there is nothing to undo.
    Faces deleted since (their photo indexed again) stay deleted; the rest goes back."""
    ensure_tables(library)
    with library.transaction() as cur:
        row = cur.execute("SELECT id, kind, data FROM corrections WHERE undone = 0 ORDER BY id "
                          "DESC LIMIT 1").fetchone()
        if row is None:
            return None
        cid, kind, data = row[0], row[1], json.loads(row[2])
        _UNDO[kind](cur, data)
        cur.execute("UPDATE corrections SET undone = 1 WHERE id = ?", (cid,))
        cur.execute("DELETE FROM people WHERE size <= 0 AND NOT EXISTS "
                    "(SELECT 1 FROM face_person WHERE person_id = people.id)")
    return kind


def _restore_person(cur, pid: int, row: dict | None) -> None:
    """Make ``pid`` again with its logged columns, or put them back when it still exists."""
    if row is None:
        return
    if cur.execute("SELECT 1 FROM people WHERE id=?", (pid,)).fetchone():
        cur.execute("UPDATE people SET name=?, confirmed=?, hidden=?, cover=? WHERE id=?",
                    (row["name"], row["confirmed"], row["hidden"], row["cover"], pid))
    else:
        cur.execute("INSERT INTO people(id, name, created, confirmed, size, hidden, cover) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?)", (pid, row["name"], row["created"],
                                                     row["confirmed"], row["hidden"],
                                                     row["cover"]))


def _undo_merge(cur, d: dict) -> None:
    a, b = d["a"], d["b"]
    _restore_person(cur, b, d["b_row"])
    _restore_person(cur, a, d["a_row"])
    for f in d["b_faces"]:
        cur.execute("UPDATE face_person SET person_id=? WHERE face_id=? AND person_id=?",
                    (b, f, a))
    cur.execute("DELETE FROM face_exclusion WHERE person_id IN (?, ?)", (a, b))
    for p, faces in ((a, d["a_excluded"]), (b, d["b_excluded"])):
        for f in faces:
            cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) SELECT ?, ? "
                        "WHERE EXISTS (SELECT 1 FROM faces WHERE id=?)", (f, p, f))


def _undo_move_out(cur, d: dict) -> None:
    face, src, dst = d["face"], d["from"], d["to"]
    _restore_person(cur, src, d["from_row"])
    cur.execute("UPDATE face_person SET person_id=? WHERE face_id=? AND person_id=?",
                (src, face, dst))
    if d["excluded"]:
        cur.execute("DELETE FROM face_exclusion WHERE face_id=? AND person_id=?", (face, src))


def _undo_columns(cur, d: dict) -> None:
    _restore_person(cur, d["person"], d["before"])


def _undo_hide(cur, d: dict) -> None:
    for p, row in d["people"].items():
        _restore_person(cur, int(p), row)


def _undo_review(cur, d: dict) -> None:
    face, pid = d["face"], d["person"]
    cur.execute("DELETE FROM review_answers WHERE face_id=? AND person_id=?", (face, pid))
    if d["answer"] == "no" and d.get("excluded"):
        cur.execute("DELETE FROM face_exclusion WHERE face_id=? AND person_id=?", (face, pid))
    if d["answer"] == "yes":
        src = d.get("from")
        if src is None:
            cur.execute("DELETE FROM face_person WHERE face_id=? AND person_id=?", (face, pid))
        else:
            _restore_person(cur, src, d.get("from_row"))
            cur.execute("UPDATE face_person SET person_id=? WHERE face_id=? AND person_id=?",
                        (src, face, pid))
        if d.get("unexcluded"):
            cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) VALUES (?, ?)",
                        (face, pid))


_UNDO = {"merge": _undo_merge, "move_out": _undo_move_out, "rename": _undo_columns,
         "cover": _undo_columns, "hide": _undo_hide, "unhide": _undo_hide,
         "review": _undo_review}


# -- the review queue ----------------------------------------------------------------------------
@dataclass
class ReviewItem:
    """An unnamed face to confirm: is it ``name`` (person ``person_id``)? ``distance``: to that
    person's nearest face (Euclidean, unit embeddings)."""

    face_id: int
    person_id: int
    name: str
    distance: float
    path: str
    box: tuple[int, int, int, int]

    def to_json(self) -> dict:
        return {"face_id": self.face_id, "person_id": self.person_id, "name": self.name,
                "distance": round(float(self.distance), 4), "image_path": self.path,
                "box": list(self.box)}


def review_queue(library: Library, person_id: int | None = None, limit: int = 50,
                 max_distance: float = REVIEW_DISTANCE,
                 min_face: int = MIN_GROUP_FACE) -> list[ReviewItem]:
    """Unnamed faces nearest a named person (only ``person_id`` when given), nearest first, at
    most ``limit``; each face once, for its nearest named person. Left out: faces of named
    people, faces in a photo of that person (two faces of one photo are two people), faces
    already answered for that person or taken out of it, faces under ``min_face`` px."""
    ensure_tables(library)
    if person_id is None:
        named = [p for (p,) in library.query(
            "SELECT id FROM people WHERE name IS NOT NULL AND size > 0 ORDER BY id")]
    else:
        named = [int(person_id)]
    names = dict(library.query("SELECT id, name FROM people WHERE name IS NOT NULL"))
    best: dict[int, tuple[float, int]] = {}
    for pid in named:
        if pid not in names:
            continue
        faces = [f for (f,) in library.query("SELECT face_id FROM face_person WHERE "
                                             "person_id=?", (pid,))]
        if not faces:
            continue
        _ids, vecs = library.embeddings_of(faces)
        photos = {p for (p,) in rows_in_chunks(
            library, "SELECT DISTINCT photo_id FROM faces WHERE id "
            "IN ({marks})", faces)}
        skip = {f for (f,) in library.query(
            "SELECT face_id FROM face_exclusion WHERE person_id=? UNION "
            "SELECT face_id FROM review_answers WHERE person_id=?", (pid, pid))}
        # Candidates: the nearest faces to the person's centre and to a few of their faces.
        centre = vecs.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        queries = [centre] + list(vecs[:4])
        want = min(library.face_count(), len(faces) + 2 * limit + 20)
        cand: set[int] = set()
        for q in queries:
            cand |= {h.face.face_id for h in library.search(q, want)}
        cand -= set(faces) | skip
        if not cand:
            continue
        cand_list = sorted(cand)
        owner = dict(rows_in_chunks(
            library, "SELECT face_person.face_id, people.name FROM "
            "face_person JOIN people ON people.id = person_id WHERE "
            "face_id IN ({marks})", cand_list))
        rows = library.face_rows(cand_list)
        keep = [f for f in cand_list if f in rows and owner.get(f) is None
                and rows[f].photo_id not in photos and min(rows[f].box[2:]) >= min_face]
        if not keep:
            continue
        ids, cv = library.embeddings_of(keep)
        d = np.sqrt(np.maximum(2.0 - 2.0 * cv @ vecs.T, 0.0)).min(axis=1)
        for f, dist in zip(ids.tolist(), d.tolist()):
            if dist < max_distance and (f not in best or dist < best[f][0]):
                best[f] = (dist, pid)
    order = sorted(best.items(), key=lambda kv: (kv[1][0], kv[0]))[:limit]
    rows = library.face_rows([f for f, _ in order])
    return [ReviewItem(f, pid, names[pid], dist, rows[f].path, tuple(rows[f].box))
            for f, (dist, pid) in order if f in rows]


def answer(library: Library, face_id: int, person_id: int, reply: str) -> None:
    """Keep an answer of the review queue as a correction: ``yes``: the face joins the person
    (the person it was in never gets it back); ``no``: it is never put into that person;
    ``skip``: not asked again for that person."""
    ensure_tables(library)
    if reply not in ANSWERS:
        raise FacefinderError(f"answer yes, no or skip, not {reply!r}")
    with library.transaction() as cur:
        if not cur.execute("SELECT 1 FROM people WHERE id=? AND size > 0",
                           (person_id,)).fetchone():
            raise FacefinderError(f"no person {person_id}")
        if not cur.execute("SELECT 1 FROM faces WHERE id=?", (face_id,)).fetchone():
            raise FacefinderError(f"no face {face_id} in this library")
        data: dict = {"face": face_id, "person": person_id, "answer": reply}
        cur.execute("INSERT OR REPLACE INTO review_answers(face_id, person_id, answer) "
                    "VALUES (?, ?, ?)", (face_id, person_id, reply))
        if reply == "no":
            cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) VALUES (?, ?)",
                        (face_id, person_id))
            data["excluded"] = cur.rowcount > 0
        elif reply == "yes":
            row = cur.execute("SELECT person_id FROM face_person WHERE face_id=?",
                              (face_id,)).fetchone()
            cur.execute("DELETE FROM face_exclusion WHERE face_id=? AND person_id=?",
                        (face_id, person_id))
            data["unexcluded"] = cur.rowcount > 0
            if row is None:
                data["from"] = None
                cur.execute("INSERT INTO face_person(face_id, person_id) VALUES (?, ?)",
                            (face_id, person_id))
            elif row[0] != person_id:
                data["from"], data["from_row"] = row[0], person_row(cur, row[0])
                cur.execute("INSERT OR IGNORE INTO face_exclusion(face_id, person_id) "
                            "VALUES (?, ?)", (face_id, row[0]))
                cur.execute("UPDATE face_person SET person_id=? WHERE face_id=?",
                            (person_id, face_id))
                cur.execute("DELETE FROM people WHERE id=? AND size <= 0", (row[0],))
            else:
                data["from"] = person_id
        log_correction(cur, "review", data)


# -- faces drawn by hand ---------------------------------------------------------------------------
def drawn_rect(path: str | os.PathLike, box: Sequence[float]) -> tuple[int, int, int, int]:
    """``box`` (x, y, w, h) clipped to the photo and rounded to whole pixels; raises
    FacefinderError when less than :data:`~facefinder.core.face_names.MIN_DRAWN_PX` of the
    photo is left on a side."""

    photo = load_photo(path)
    x, y, w, h = (float(v) for v in box)
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(photo.width), x + w), min(float(photo.height), y + h)
    if min(x1 - x0, y1 - y0) < MIN_DRAWN_PX:
        raise FacefinderError(f"{path}: the box {[round(v) for v in box]} holds less than "
                              f"{MIN_DRAWN_PX} px of the photo ({photo.width}x{photo.height}) "
                              "on a side")
    return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))


def embed_box(engine, path: str | os.PathLike, rect: Sequence[int],
              pipeline: str | None = None) -> np.ndarray:
    """The embedding (128,) of the face in ``rect`` (x, y, w, h) of a photo, cropped the way
    ``pipeline`` (a library's own; None: the engine's) cuts faces, without landmarks (a face
    drawn by hand has none)."""

    photo = load_photo(path)
    with engine.using(pipeline or None):
        tensors = engine.face_tensors(photo, [Face(tuple(rect), 0.0, None, None)])
        return engine.embed_faces(tensors)[0]


def add_face(library: Library, engine, path: str | os.PathLike, box: Sequence[float],
             name: str | None = None, embed=None) -> int:
    """Add a face the detector missed: ``box`` (x, y, w, h) in the photo's pixels as shown (the
    way the library stores boxes), cropped and embedded with the library's own pipeline, stored
    with the mark of a face drawn by hand (:data:`facefinder.core.face_names.DRAWN_CONFIDENCE`).
    ``embed(path, rect, pipeline)``: where the embedding comes from instead of ``engine`` (the
    app's model server). With ``name``: it joins the person of that name (a new, confirmed one
    when there is none). Returns the new face id."""

    ensure_tables(library)
    rect = drawn_rect(path, box)
    pipeline = library_pipeline(library) or None
    emb = embed(path, rect, pipeline) if embed is not None else embed_box(engine, path, rect,
                                                                          pipeline)
    face = Face(rect, DRAWN_CONFIDENCE, np.zeros((5, 2), np.float32),
                np.asarray(emb, np.float32))
    face_id = library.add_faces(path, [face])[0]
    if name and name.strip():
        pid = find_named(library, name)
        with library.transaction() as cur:
            if pid is None:
                cur.execute("INSERT INTO people(name, created, confirmed) VALUES (?, ?, 1)",
                            (" ".join(name.split()), time.time()))
                pid = cur.lastrowid
            cur.execute("INSERT INTO face_person(face_id, person_id) VALUES (?, ?)",
                        (face_id, pid))
    return face_id


# -- people together --------------------------------------------------------------------------------
def together(library: Library, person_ids: Sequence[int]) -> list[tuple[str, list[int]]]:
    """Photos in which every one of ``person_ids`` appears: ``(path, [one face id per person, in
    the order given])``, by path."""
    ensure_tables(library)
    ids = [int(p) for p in person_ids]
    if not ids:
        return []
    per: list[dict[int, int]] = []
    for pid in ids:
        per.append(dict(library.query(
            "SELECT faces.photo_id, MIN(faces.id) FROM face_person JOIN faces ON faces.id = "
            "face_person.face_id WHERE person_id=? GROUP BY faces.photo_id", (pid,))))
    common = set(per[0]).intersection(*per[1:])
    if not common:
        return []
    faces = [[p[photo] for p in per] for photo in common]
    rows = library.face_rows([f[0] for f in faces])
    out = [(rows[f[0]].path, f) for f in faces if f[0] in rows]
    return sorted(out)
