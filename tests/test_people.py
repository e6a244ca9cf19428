"""People: grouping real faces, corrections that survive, incremental updates, the CLI.

Real photos (copies of ../shared/data/faces folders) through the real model; plumbing tests on
synthetic vectors.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, copy_faces
from facefinder import cli
from facefinder.bench_grouping import largest_faces
from facefinder.core import grouping, people
from facefinder.core.library import Library
from facefinder.core.pipeline import Face, PhotoResult
from facefinder.core.scan import index_folder, refresh_library

PEOPLE = ["al_gore", "bill_clinton", "condoleezza_rice", "david_beckham"]


def _index(library: Library, engine, folder: Path) -> None:
    for _ in index_folder(library, engine, folder):
        pass


def _largest(library: Library) -> dict[str, list[int]]:
    """identity (parent folder) -> face ids of the largest face of each of its photos."""
    ids, labels = largest_faces(library)
    out: dict[str, list[int]] = {}
    for f, lbl in zip(ids.tolist(), labels):
        out.setdefault(lbl, []).append(f)
    return out


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, engine) -> Path:
    """A library of 4 people x 5 photos, indexed once; tests take copies of it."""
    root = tmp_path_factory.mktemp("people")
    copy_faces(root / "photos", PEOPLE, per_person=5)
    with Library(root / "lib", engine.fingerprint) as lib:
        _index(lib, engine, root / "photos")
    return root / "lib"


@pytest.fixture
def library(indexed, tmp_path, engine):
    shutil.copytree(indexed, tmp_path / "lib")
    lib = Library(tmp_path / "lib", engine.fingerprint)
    yield lib
    lib.close()


def test_real_photos_are_grouped_by_person(library):
    summary = people.cluster(library)
    assert summary.placed + summary.too_small == library.face_count() and not summary.cancelled
    owner = {f: pid for f, (pid, _) in people.person_of(
        library, [f for fs in _largest(library).values() for f in fs]).items()}
    groups = {who: {owner[f] for f in faces} for who, faces in _largest(library).items()}
    for who, ids in groups.items():
        assert len(ids) == 1, f"{who}'s photos are split over {ids}"
    assert len({next(iter(g)) for g in groups.values()}) == len(PEOPLE), groups
    listed = people.people(library)
    assert [p.size for p in listed] == sorted((p.size for p in listed), reverse=True)
    biggest = listed[0]
    assert biggest.representative == biggest.face_ids[0] and biggest.size >= 5


def test_names_and_corrections_survive_refresh_and_reclustering(tmp_path, engine):
    photos = tmp_path / "photos"
    copy_faces(photos, PEOPLE, per_person=3)
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        _index(lib, engine, photos)
        people.cluster(lib)
        largest = _largest(lib)
        gore = people.person_of(lib, largest["al_gore"])[largest["al_gore"][0]][0]
        clinton = people.person_of(lib, largest["bill_clinton"])[largest["bill_clinton"][0]][0]
        rice = people.person_of(lib, largest["condoleezza_rice"])[
            largest["condoleezza_rice"][0]][0]
        people.rename(lib, gore, "Al")
        assert people.merge(lib, clinton, rice) == clinton  # the user says: one person
        wrong = largest["al_gore"][2]
        alone = people.move_out(lib, wrong)
        assert alone != gore and people.person_of(lib, [wrong])[wrong][0] == alone

        # New photos of the same people arrive; a refresh indexes them; they join their people.
        for who in PEOPLE:
            for src in sorted((FACES / who).iterdir())[3:5]:
                shutil.copyfile(src, photos / who / src.name)
        for _ in refresh_library(lib, engine):
            pass
        assert people.unplaced(lib) > 0
        summary = people.cluster(lib)
        assert summary.joined >= 6, summary
        largest = _largest(lib)

        def check() -> None:
            owners = people.person_of(lib, [f for fs in largest.values() for f in fs])
            assert {owners[f] for f in largest["al_gore"] if f != wrong} == {(gore, "Al")}
            assert owners[wrong][0] != gore  # never put back
            merged = {owners[f][0] for f in largest["bill_clinton"] + largest["condoleezza_rice"]}
            assert merged == {clinton}
            by_id = {p.id: p for p in people.people(lib)}
            assert by_id[gore].name == "Al" and by_id[gore].confirmed

        check()
        people.cluster(lib, full=True)
        check()


def test_cli_people_json_export_and_search_people(library, tmp_path, capsys):
    path = str(library.path)
    library.close()
    assert cli.main(["people", "--library", path, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"people", "total", "offset"} and out["total"] == len(out["people"])
    groups = out["people"]
    assert sum(g["size"] for g in groups) == sum(len(g["faces"]) for g in groups)
    first = groups[0]
    assert {"id", "name", "size", "faces"} <= set(first)
    assert first["size"] >= 5 and first["name"] is None
    face = first["faces"][0]
    assert os.path.isfile(face["image_path"]) and len(face["box"]) == 4
    assert all(isinstance(v, int) for v in face["box"])

    target = tmp_path / "export"
    assert cli.main(["people", "--library", path, "--export", str(target)]) == 0
    capsys.readouterr()
    folders = sorted(target.iterdir())
    assert len(folders) == len(groups)
    folder = target / f"person-{first['id']}"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted({os.path.basename(f["image_path"]) for f in first["faces"]})
    assert all((folder / n).resolve().is_file() for n in names)

    query = FACES / "al_gore" / sorted(os.listdir(FACES / "al_gore"))[0]
    assert cli.main(["search", "--library", path, "--people", "-k", "3", "--json",
                     str(query)]) == 0
    res = json.loads(capsys.readouterr().out)["results"]
    assert len(res) == 3
    ids = [r["person"]["id"] for r in res]
    assert len(set(ids)) == 3
    assert "al_gore" in res[0]["image_path"] and res[0]["same_person"]
    assert res[0]["person"]["size"] >= 5
    assert [r["distance"] for r in res] == sorted(r["distance"] for r in res)


# -- plumbing on synthetic vectors ----------------------------------------------------------------
def _synthetic(tmp_path, centres: int = 6, per: int = 8, seed: int = 0):
    """A library of ``centres`` tight blobs of ``per`` unit vectors each (distance ~0.4 within,
    ~1.4 between); returns (library, blob index per face id)."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, 128))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    lib = Library(tmp_path / "syn", "synthetic")
    items, blob = [], []
    for i in range(centres * per):
        v = c[i // per] + rng.normal(0, 0.03, 128)
        v = (v / np.linalg.norm(v)).astype(np.float32)
        face = Face((0, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32), v)
        items.append((PhotoResult(str(tmp_path / f"b{i // per}" / f"{i}.jpg"), [face], None,
                                  100, 100), 1, 1))
        blob.append(i // per)
    ids = lib.store_results(items)
    return lib, dict(zip(ids, blob))


def test_cancel_writes_nothing_and_progress_is_reported(tmp_path):
    lib, _ = _synthetic(tmp_path)
    seen = []
    s = people.cluster(lib, progress=lambda *a: seen.append(a), should_stop=lambda: True)
    assert s.cancelled and people.people(lib) == []
    s = people.cluster(lib, progress=lambda *a: seen.append(a))
    assert not s.cancelled and s.people == 6 and s.new_people == 6
    assert {stage for stage, _, _ in seen} >= {"neighbours", "grouping", "saving"}
    lib.close()


def test_full_recluster_keeps_ids_and_exclusions(tmp_path):
    lib, blob = _synthetic(tmp_path)
    people.cluster(lib)
    before = {p.id: set(p.face_ids) for p in people.people(lib)}
    face = next(iter(before[min(before)]))
    home = min(before)
    alone = people.move_out(lib, face)
    people.cluster(lib, full=True)
    after = {p.id: set(p.face_ids) for p in people.people(lib)}
    assert after[home] == before[home] - {face}  # same id, excluded face stays out
    assert {frozenset(v) for k, v in after.items() if k != home and face not in v} == \
        {frozenset(v) for k, v in before.items() if k != home}
    assert people.person_of(lib, [face])[face][0] != home
    assert alone in after or all(face not in v for k, v in after.items() if k == alone)
    lib.close()


def test_nearest_people_are_distinct(tmp_path):
    lib, blob = _synthetic(tmp_path)
    people.cluster(lib)
    ids, emb = lib.all_embeddings()
    near = people.nearest_people(lib, emb[0], k=4)
    assert len(near) == 4 and len({n.person_id for n in near}) == 4
    assert near[0].face_id == ids[0] and near[0].distance < 1e-3 and near[0].size == 8
    assert [n.distance for n in near] == sorted(n.distance for n in near)
    lib.close()


# -- calibrating on labelled vectors (core.verify; the verdicts: tests/test_verdict.py) ------
def test_calibration_of_two_blobs():
    from facefinder.core import verify

    cal = verify.calibrate(*_two_blobs())
    summary = verify.distance_percentiles(cal)
    assert summary["percentiles"] == list(verify.PERCENTILES)
    assert summary["same"] == sorted(summary["same"]) and summary["same"][4] < summary[
        "different"][4]
    assert cal.accuracy == 1.0 and cal.auc == 1.0
    assert summary["same"][-1] < cal.threshold < summary["different"][0]


def _two_blobs():
    rng = np.random.default_rng(1)
    c = rng.normal(size=(4, 128))
    emb = np.repeat(c, 5, axis=0) + rng.normal(0, 0.05, (20, 128))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb.astype(np.float32), [str(i // 5) for i in range(20)]


def test_large_libraries_find_neighbours_through_the_index(tmp_path, monkeypatch):
    """Beyond EXACT_LIMIT faces, a full grouping asks the library's HNSW index for every face's
    neighbours (a chunk at a time) instead of exact numpy: the groups must come out the same."""
    lib, blob = _synthetic(tmp_path, centres=5, per=10)
    people.cluster(lib)
    exact = {f: p for f, (p, _) in people.person_of(lib, list(blob)).items()}
    monkeypatch.setattr(people, "EXACT_LIMIT", 10)
    monkeypatch.setattr(lib, "all_embeddings", None)  # never read the whole library at once
    people.cluster(lib, full=True)
    approx = {f: p for f, (p, _) in people.person_of(lib, list(blob)).items()}
    assert grouping.pairwise_scores([exact[f] for f in blob], [approx[f] for f in blob]) == \
        (1.0, 1.0)
    assert grouping.pairwise_scores(list(blob.values()), [approx[f] for f in blob]) == (1.0, 1.0)
    assert len(set(approx.values())) == 5
    # Without a readable graph (a full disk kept the index from being saved, say), each face's
    # neighbours are searched for instead: the same groups.
    monkeypatch.setattr(lib, "index_graph", lambda: None)
    people.cluster(lib, full=True)
    searched = {f: p for f, (p, _) in people.person_of(lib, list(blob)).items()}
    assert grouping.pairwise_scores(list(blob.values()), [searched[f] for f in blob]) == \
        (1.0, 1.0)
    lib.close()


# -- at scale: pages, sizes, reading only what is new -----------------------------------------------
def _sizes_are_counts(lib) -> None:
    counted = dict(lib.query("SELECT person_id, COUNT(*) FROM face_person GROUP BY person_id"))
    stored = dict(lib.query("SELECT id, size FROM people WHERE size != 0"))
    assert stored == counted


def test_people_are_read_a_page_at_a_time_largest_first(tmp_path):
    lib, blob = _synthetic(tmp_path, centres=6, per=8)
    people.cluster(lib)
    a, b = sorted(p.id for p in people.people(lib))[:2]
    people.merge(lib, a, b)  # one person of 16 faces, five of 8
    assert people.count_people(lib) == 5
    everyone = people.people(lib)
    assert [p.size for p in everyone] == [16, 8, 8, 8, 8]
    page = people.people_page(lib, offset=1, limit=2, faces=3)
    assert [p.id for p in page] == [p.id for p in everyone[1:3]]
    assert all(len(p.face_ids) == 3 and p.size == 8 for p in page)
    assert page[0].face_ids == everyone[1].face_ids[:3]
    assert people.person_faces(lib, a, offset=5, limit=4) == everyone[0].face_ids[5:9]
    assert people.person(lib, a).face_ids == everyone[0].face_ids
    # Nearest the group's centre first.
    ids, emb = lib.embeddings_of(everyone[0].face_ids)
    by_id = dict(zip(ids.tolist(), emb))
    centre = emb.mean(axis=0)
    d = [float(np.linalg.norm(by_id[f] - centre)) for f in everyone[0].face_ids]
    assert d == sorted(d)
    lib.close()


def test_sizes_follow_corrections_and_deleted_photos(tmp_path):
    lib, blob = _synthetic(tmp_path, centres=4, per=6)
    people.cluster(lib)
    _sizes_are_counts(lib)
    first, second = [p.id for p in people.people(lib)][:2]
    people.merge(lib, first, second)
    face = people.person(lib, first).face_ids[0]
    people.move_out(lib, face)
    _sizes_are_counts(lib)
    # A photo deleted from disk: its face goes, and with it the face's row in its person.
    photo = lib.query("SELECT photos.path FROM faces JOIN photos ON photos.id = photo_id "
                      "WHERE faces.id = ?", (face,))[0][0]
    lib.remove_photos([photo])
    _sizes_are_counts(lib)
    assert people.count_people(lib) == len(counted := people.people(lib)) == 3
    assert face not in {f for p in counted for f in p.face_ids}
    people.cluster(lib, full=True)
    _sizes_are_counts(lib)
    lib.close()


def test_new_faces_are_placed_without_reading_the_library(tmp_path, monkeypatch):
    """Placing new faces reads them and their neighbours only: no full read of the embeddings,
    no scan of the faces or people tables."""
    lib, blob = _synthetic(tmp_path, centres=6, per=8)
    people.cluster(lib)
    rng = np.random.default_rng(5)
    ids, emb = lib.all_embeddings()
    near = emb[[0, 9]] + rng.normal(0, 0.03, (2, 128))  # new faces of blobs 0 and 1
    near = (near / np.linalg.norm(near, axis=1, keepdims=True)).astype(np.float32)
    new = lib.store_results([(PhotoResult(str(tmp_path / f"new{i}.jpg"), [
        Face((0, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32), v)], None, 100, 100), 1, 1)
        for i, v in enumerate(near)])
    monkeypatch.setattr(lib, "all_embeddings", None)
    monkeypatch.setattr(lib, "embedding_chunks", None)
    statements: list[str] = []
    lib._db.set_trace_callback(statements.append)
    assert people.unplaced(lib) == 2
    summary = people.cluster(lib)
    lib._db.set_trace_callback(None)
    assert summary.placed == 2 and summary.joined == 2 and summary.new_people == 0
    owners = people.person_of(lib, [int(ids[0]), int(ids[9])] + new)
    assert owners[new[0]] == owners[int(ids[0])] and owners[new[1]] == owners[int(ids[9])]
    scans = [s for s in statements if "FROM faces" in s and "WHERE" not in s.split("FROM faces")[1]
             .split("JOIN")[0][:40]]
    assert not scans, scans
    assert not [s for s in statements if "GROUP BY" in s]
    assert people.unplaced(lib) == 0
    _sizes_are_counts(lib)
    lib.close()


def test_people_tables_from_before_sizes_are_brought_up_to_date(tmp_path):
    lib, blob = _synthetic(tmp_path, centres=3, per=5)
    people.cluster(lib)
    before = {p.id: p.size for p in people.people(lib)}
    path = lib.path
    lib.close()
    import sqlite3

    db = sqlite3.connect(path / "catalog.sqlite")  # as an older facefinder left it
    db.executescript("DROP TRIGGER face_person_added; DROP TRIGGER face_person_removed; "
                     "DROP TRIGGER face_person_moved; DROP INDEX people_by_size; "
                     "ALTER TABLE people DROP COLUMN size; "
                     "DELETE FROM meta WHERE key = 'people_grouped';")
    db.close()
    lib = Library(path, "synthetic")
    assert {p.id: p.size for p in people.people(lib)} == before
    _sizes_are_counts(lib)
    statements: list[str] = []
    again = Library(path, "synthetic")
    again._db.set_trace_callback(statements.append)
    people.count_people(again)  # up to date: nothing written
    assert not [s for s in statements if s.lstrip().upper().startswith(("BEGIN", "CREATE",
                                                                         "UPDATE", "ALTER"))]
    again.close()
    lib.close()


def test_cli_people_pages(library, capsys):
    path = str(library.path)
    library.close()
    assert cli.main(["people", "--library", path, "--json"]) == 0
    everyone = json.loads(capsys.readouterr().out)["people"]
    assert cli.main(["people", "--library", path, "--json", "--offset", "1", "--limit", "2",
                     "--faces", "1"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["offset"] == 1 and page["total"] == len(everyone)
    assert [g["id"] for g in page["people"]] == [g["id"] for g in everyone[1:3]]
    assert all(len(g["faces"]) == 1 for g in page["people"])
    assert cli.main(["people", "--library", path, "--limit", "1"]) == 0
    text = capsys.readouterr().out
    assert f"Showing people 1-1 of {len(everyone)}" in text
    assert text.count(" (id ") == 1
