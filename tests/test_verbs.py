"""The verbs the CLI and the app share (:mod:`facefinder.core.search`, :func:`facefinder.core.people.owners`),
the refresh summaries' merge and the photo extensions, on synthetic libraries (no model).

End to end with the real model: ``search``/``compare`` in test_cli.py and test_people.py, and the
app's search and compare in tests/gui/."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from facefinder.core import people, search
from facefinder.core.images import PHOTO_EXTENSIONS, PHOTO_SUFFIXES, is_photo_name
from facefinder.core.library import Library
from facefinder.core.pipeline import Face, PhotoResult
from facefinder.core.scan import IndexSummary, Skipped
from facefinder.gui.text import esc, qt_filter
from facefinder.worker import merge_summaries
from helpers import blob_vectors

CENTRES, PER = 5, 6


def face(vector, side: int = 60) -> Face:
    return Face((0, 0, side, side), 0.99, np.zeros((5, 2), np.float32), vector)


@pytest.fixture
def blobs(tmp_path):
    """A library of ``CENTRES`` tight blobs of ``PER`` faces (about 0.4 apart within a blob,
    1.4 between), the blob of each face id, and the blobs' centres."""
    vectors, groups, centres = blob_vectors(CENTRES, PER, seed=1)
    lib = Library(tmp_path / "blobs", "synthetic")
    ids = lib.store_results([(PhotoResult(str(tmp_path / f"{i}.jpg"), [face(v)], None, 100, 100),
                              1, 1) for i, v in enumerate(vectors)])
    yield lib, dict(zip(ids, groups.tolist())), centres
    lib.close()


def test_search_faces_gives_the_library_s_nearest_faces_and_their_judge(blobs):
    lib, blob, centres = blobs
    query = [face(centres[2])]
    result = search.search_faces(lib, "q.jpg", 100, 100, query, 0, k=8)
    want = lib.search(centres[2], 8)
    assert [h.face.face_id for h in result.hits] == [h.face.face_id for h in want]
    assert {blob[h.face.face_id] for h in result.hits[:PER]} == {2}
    assert result.people is None and result.judge.library_size == CENTRES * PER
    verdicts = result.verdicts()
    assert all(v.same for v in verdicts[:PER]) and not any(v.same for v in verdicts[PER:])
    assert all("person" not in r for r in result.to_json()["results"])


def test_nearest_people_are_distinct_people_each_by_its_nearest_face(blobs):
    lib, blob, centres = blobs
    query = [face(centres[3])]
    result = search.search_faces(lib, "q.jpg", 100, 100, query, 0, k=4, people=True)
    assert len(result.hits) == len(result.people) == 4
    assert [h.rank for h in result.hits] == [1, 2, 3, 4]
    assert len({blob[h.face.face_id] for h in result.hits}) == 4  # four different people
    assert blob[result.hits[0].face.face_id] == 3
    nearest_of_3 = min((h for h in lib.search(centres[3], PER)), key=lambda h: h.distance)
    assert result.hits[0].face.face_id == nearest_of_3.face.face_id
    for h, n in zip(result.hits, result.people):
        assert n.face_id == h.face.face_id and n.size == PER and n.person_id is not None
    items = result.to_json()["results"]
    assert [r["person"]["id"] for r in items] == [n.person_id for n in result.people]


def test_owners_of_counts_each_person_s_faces(blobs):
    lib, blob, _ = blobs
    search.place_new_faces(lib)
    ids = sorted(blob)[::4]
    found = people.owners(lib, ids)
    assert set(found) == set(ids)
    assert all(size == PER for _, _, size in found.values())
    same_blob = {}
    for f, (pid, _, _) in found.items():
        same_blob.setdefault(blob[f], set()).add(pid)
    assert all(len(p) == 1 for p in same_blob.values())  # a blob is one person
    assert people.owners(lib, []) == {}


def test_compare_faces_judges_a_pair():
    rng = np.random.default_rng(2)
    a = rng.normal(size=128).astype(np.float32)
    a /= np.linalg.norm(a)
    b = -a
    same = search.compare_faces(face(a), face(a), "")
    assert same.distance == pytest.approx(0.0, abs=1e-6) and same.same_person
    apart = search.compare_faces(face(a), face(b), "")
    assert apart.distance == pytest.approx(2.0, abs=1e-5) and not apart.same_person
    tiny = search.compare_faces(face(a, side=12), face(a), "")
    assert tiny.small and not tiny.same_person  # too small to say "same"
    assert not same.small


def test_refresh_summaries_add_up_every_field():
    a = IndexSummary("a", 1, 2, 3, 4, 5, 6, 7, [Skipped("x", "r")], False, 1.5, 8, 9,
                     [Skipped("y", "s")])
    b = IndexSummary("b", 10, 20, 30, 40, 50, 60, 70, [Skipped("z", "t")], True, 2.5, 80, 90, [])
    numeric = [f.name for f in fields(IndexSummary) if f.type in ("int", "float")]
    assert len(numeric) == 10  # photos_found ... faces_drawn, and seconds
    before = {name: getattr(a, name) for name in numeric}
    total = merge_summaries(merge_summaries(None, a), b)
    assert total is a and total.folder == "a" and total.cancelled
    for name in numeric:
        assert getattr(total, name) == pytest.approx(before[name] + getattr(b, name)), name
    assert [s.path for s in total.skipped] == ["x", "z"]
    assert [s.path for s in total.xmp_problems] == ["y"]


def test_photo_extensions_come_from_one_list():
    assert PHOTO_EXTENSIONS == frozenset(PHOTO_SUFFIXES)
    for name in ("a.JPE", "b.jfif", "c.heif", "d.HEIC", "e.jpg"):
        assert is_photo_name(name), name
    dialog = qt_filter("Photos", "All files")
    assert dialog.endswith(";;All files (*)")
    assert all(f"*{s}" in dialog.split(";;")[0] for s in PHOTO_SUFFIXES)


def test_esc_makes_text_safe_in_rich_text():
    assert esc('<b>Tom & "Jerry"</b>') == '&lt;b&gt;Tom &amp; "Jerry"&lt;/b&gt;'


@pytest.mark.parametrize("combine", ["mean", "any"])
def test_search_with_faces_finds_the_person_s_other_faces_and_leaves_the_query_out(blobs,
                                                                                  combine):
    lib, blob, _ = blobs
    mine = [f for f, b in sorted(blob.items()) if b == 4]
    asked = mine[:3]
    hits, judge = search.search_with_faces(lib, asked, k=6, combine=combine)
    found = [h.face.face_id for h in hits]
    assert not set(found) & set(asked)
    assert set(found[:PER - 3]) == set(mine[3:])  # the person's other faces come first
    assert {blob[f] for f in found[PER - 3:]} <= set(range(CENTRES)) - {4}
    verdicts = [judge.verdict(h.distance, 60) for h in hits]
    assert all(v.same for v in verdicts[:PER - 3]) and not any(v.same for v in verdicts[PER - 3:])
    assert [h.rank for h in hits] == list(range(1, 7))
    with pytest.raises(LookupError):
        search.search_with_faces(lib, [10_000], k=3)
