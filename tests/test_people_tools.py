"""The people tools of issue 14 in the core: hide, minimum size, undo, cover, the review queue,
faces drawn by hand, photos of people together, searching with several faces. Real photos of
../shared/data through the real model (a small library indexed once per module)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, index_people_with_groups
from facefinder.bench_grouping import largest_faces
from facefinder.core import corrections, people
from facefinder.core.errors import FacefinderError
from facefinder.core.face_names import DRAWN_CONFIDENCE
from facefinder.core.library import Library
from facefinder.core.multi_query import measure_combine, search_many
from facefinder.core.scan import index_folder

PEOPLE = ["al_gore", "bill_clinton", "condoleezza_rice", "david_beckham"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, engine) -> Path:
    return index_people_with_groups(tmp_path_factory.mktemp("tools"), engine, PEOPLE)


@pytest.fixture
def lib(indexed, tmp_path, engine):
    shutil.copytree(indexed / "lib", tmp_path / "lib")
    lib = Library(tmp_path / "lib", engine.fingerprint)
    people.cluster(lib)
    yield lib
    lib.close()


def _by_identity(lib) -> dict[str, list[int]]:
    ids, labels = largest_faces(lib)
    out: dict[str, list[int]] = {}
    for f, who in zip(ids.tolist(), labels):
        out.setdefault(who, []).append(f)
    return out


def _faces_in(lib, name: str, min_side: int = 0) -> list[int]:
    """Face ids of the photo whose file name contains ``name``, largest first."""
    rows = lib.face_rows([f for (f,) in lib.query("SELECT id FROM faces")])
    found = [r for r in rows.values() if name in r.path and min(r.box[2:]) >= min_side]
    return [r.face_id for r in sorted(found, key=lambda r: (-r.box[2] * r.box[3], r.face_id))]


def _pid(lib, face: int) -> int:
    return people.person_of(lib, [face])[face][0]


def _state(lib) -> list[tuple]:
    return sorted(lib.query("SELECT fp.face_id, fp.person_id, p.name, p.hidden, p.cover, "
                            "p.size FROM face_person fp JOIN people p ON p.id = fp.person_id")) \
        + sorted(lib.query("SELECT face_id, person_id FROM face_exclusion"))


def test_hide_min_size_and_unhide(lib):
    everyone = people.count_people(lib)
    singles = lib.query("SELECT COUNT(*) FROM people WHERE size = 1")[0][0]
    assert singles > 0  # the strangers of the group photos
    assert people.count_people(lib, min_size=2) == everyone - singles
    shown = people.people(lib, min_size=2)
    assert shown and min(p.size for p in shown) >= 2
    gore = _pid(lib, _by_identity(lib)["al_gore"][0])
    people.rename(lib, gore, "Al")
    assert corrections.hide(lib, [gore]) == 1
    assert gore not in {p.id for p in people.people(lib, hidden=False)}
    assert gore in {p.id for p in people.people(lib)}  # hidden=True lists everyone
    # Hide every unnamed group under 3 faces (one correction), then show them again.
    hidden = corrections.hide_small(lib, 3)
    assert hidden == lib.query("SELECT COUNT(*) FROM people WHERE hidden=1")[0][0] - 1 > 0
    assert all(p.size >= 3 or p.name for p in people.people(lib, hidden=False))
    people.cluster(lib, full=True)  # a full regrouping keeps the hiding
    assert lib.query("SELECT COUNT(*) FROM people WHERE hidden=1")[0][0] == hidden + 1
    assert corrections.undo(lib) == "hide"
    assert lib.query("SELECT COUNT(*) FROM people WHERE hidden=1")[0][0] == 1
    assert corrections.unhide(lib) == 1
    assert people.count_people(lib, hidden=False) == people.count_people(lib)


def test_undo_merge_and_not_this_person(lib):
    ids = _by_identity(lib)
    gore, clinton = _pid(lib, ids["al_gore"][0]), _pid(lib, ids["bill_clinton"][0])
    people.rename(lib, clinton, "Bill")
    before = _state(lib)
    people.merge(lib, gore, clinton)
    assert _state(lib) != before
    assert corrections.undo(lib) == "merge"
    assert _state(lib) == before
    wrong = ids["al_gore"][1]
    alone = people.move_out(lib, wrong)
    assert _pid(lib, wrong) == alone
    assert corrections.undo(lib) == "move_out"
    assert _state(lib) == before and _pid(lib, wrong) == gore
    assert corrections.undo(lib) == "rename"
    assert people.person(lib, clinton).name is None
    # Nothing left to undo (the grouping itself is not a correction).
    assert corrections.undo(lib) is None


def test_cover_face(lib):
    gore_faces = _by_identity(lib)["al_gore"]
    gore = _pid(lib, gore_faces[0])
    p = people.person(lib, gore)
    last = p.face_ids[-1]
    assert p.representative != last
    corrections.set_cover(lib, gore, last)
    assert people.person(lib, gore).representative == last
    assert people.people_page(lib, 0, None)[[q.id for q in people.people_page(
        lib, 0, None)].index(gore)].face_ids[0] == last
    with pytest.raises(FacefinderError):
        corrections.set_cover(lib, gore, _by_identity(lib)["bill_clinton"][0])
    assert corrections.undo(lib) == "cover"
    assert people.person(lib, gore).representative == p.representative


def test_review_queue_yes_no_skip(lib):
    ids = _by_identity(lib)
    gore = _pid(lib, ids["al_gore"][0])
    # The user has named Gore but two of his photos sit in a group of their own.
    moved = ids["al_gore"][3:]
    for f in moved:
        people.move_out(lib, f, log=False)
        lib.query("SELECT 1")
    with lib.transaction() as cur:  # not excluded: put them in an unnamed group as the
        cur.execute("DELETE FROM face_exclusion")  # grouping would
    people.rename(lib, gore, "Al")
    queue = corrections.review_queue(lib)
    assert queue, "no face offered"
    assert [q.distance for q in queue] == sorted(q.distance for q in queue)
    assert {q.face_id for q in queue[:2]} == set(moved)
    assert all(q.person_id == gore and q.name == "Al" for q in queue[:2])
    named = set(people.person(lib, gore).face_ids)
    assert not named & {q.face_id for q in queue}
    first, second = queue[0].face_id, queue[1].face_id
    corrections.answer(lib, first, gore, "yes")
    assert _pid(lib, first) == gore
    corrections.answer(lib, second, gore, "no")
    assert _pid(lib, second) != gore
    people.cluster(lib, full=True)
    assert _pid(lib, second) != gore  # a "no" is kept by the grouping
    rest = corrections.review_queue(lib, gore)
    assert first not in {q.face_id for q in rest} and second not in {q.face_id for q in rest}
    if rest:
        corrections.answer(lib, rest[0].face_id, gore, "skip")
        assert rest[0].face_id not in {q.face_id for q in corrections.review_queue(lib, gore)}
        assert corrections.undo(lib) == "review"
    assert corrections.undo(lib) == "review"  # the "no"
    assert second in {q.face_id for q in corrections.review_queue(lib, gore)}
    with pytest.raises(FacefinderError):
        corrections.answer(lib, first, gore, "maybe")


def test_faces_of_one_photo_are_not_offered_for_each_other(lib):
    group = _faces_in(lib, "facenetpytorch_multiface", 40)
    assert len(group) >= 2
    pid = _pid(lib, group[0])
    people.rename(lib, pid, "Someone")
    offered = {q.face_id for q in corrections.review_queue(lib, pid, max_distance=2.0)}
    assert offered and not offered & set(group)


def test_add_a_face_drawn_by_hand(lib, engine, indexed):
    ids = _by_identity(lib)
    face = ids["al_gore"][0]
    row = lib.face_rows([face])[face]
    x, y, w, h = row.box
    # The detector's own face, drawn again by hand, embeds close to the detector's embedding.
    new = corrections.add_face(lib, engine, row.path, (x, y, w, h), name="Al Gore")
    assert lib.query("SELECT confidence FROM faces WHERE id=?", (new,))[0][0] == DRAWN_CONFIDENCE
    _i, vecs = lib.embeddings_of([face, new])
    assert float(np.linalg.norm(vecs[0] - vecs[1])) < 0.3
    named = corrections.find_named(lib, "al  gore")
    assert named is not None and _pid(lib, new) == named
    with pytest.raises(FacefinderError):
        corrections.add_face(lib, engine, row.path, (x, y, 3, 3))
    assert lib.search(vecs[1], 1)[0].face.face_id in (face, new)  # in the index too


def test_photos_of_people_together(lib):
    group = _faces_in(lib, "dlib_2008_001322", 40)
    a, b = _pid(lib, group[0]), _pid(lib, group[1])
    found = corrections.together(lib, [a, b])
    assert [p for p, _ in found] == [lib.face_rows([group[0]])[group[0]].path]
    assert found[0][1] == [group[0], group[1]]
    gore = _pid(lib, _by_identity(lib)["al_gore"][0])
    assert corrections.together(lib, [a, gore]) == []


def test_search_with_several_faces(lib):
    ids = _by_identity(lib)
    queries = ids["al_gore"][:2]
    _i, q = lib.embeddings_of(queries)
    for combine in ("any", "mean"):
        hits = search_many(lib, q, 3, combine, exclude=set(queries))
        assert {h.face.face_id for h in hits} == set(ids["al_gore"][2:5]), combine
    with pytest.raises(ValueError):
        search_many(lib, q, 3, "median")
    # The measurement: on these photos both find every other photo of each person first.
    emb_ids, labels = largest_faces(lib)
    keep = [i for i, lbl in enumerate(labels) if lbl in PEOPLE]
    _i, emb = lib.embeddings_of(emb_ids[keep].tolist())
    scores = measure_combine(emb, [labels[i] for i in keep], (1, 2), trials=3)
    assert {(s.combine, s.queries) for s in scores} == {(c, m) for c in ("any", "mean")
                                                        for m in (1, 2)}
    assert all(0.9 <= s.map <= 1.0 for s in scores)


def test_faces_drawn_in_another_program_are_cropped_like_the_librarys(tmp_path, engine):
    """A named XMP region over a face the detector missed is embedded with the library's own
    crop (as `add_face` does), not the article's: the same box gives the same embedding."""
    from PIL import Image

    from facefinder.core.corrections import embed_box
    from facefinder.core.upgrade import library_pipeline
    from test_face_names import region

    photos = tmp_path / "photos"
    photos.mkdir()
    f = photos / "upside-down.jpg"
    canvas = Image.new("RGB", (600, 400), (128, 128, 128))
    beckham = Image.open(sorted((FACES / "david_beckham").iterdir())[0]).convert("RGB")
    canvas.paste(beckham.rotate(180), (300, 80))
    canvas.save(f, "JPEG", quality=95)
    (photos / "upside-down.jpg.xmp").write_text(region(f, (360, 130, 130, 160), "Beckham",
                                                       grow=0.0), "utf-8")
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, photos):
            pass
        (row,) = lib.face_rows([f for (f,) in lib.query("SELECT id FROM faces")]).values()
        assert row.confidence == DRAWN_CONFIDENCE
        _ids, stored = lib.embeddings_of([row.face_id])
        again = embed_box(engine, str(f), row.box, library_pipeline(lib))
        assert float(np.linalg.norm(stored[0] - again)) < 1e-4
