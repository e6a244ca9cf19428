"""Libraries whose vectors live in Qdrant (facefinder[qdrant]), in Qdrant's local mode.

The same real photos are indexed into an embedded library and into a Qdrant-backed one; every
search, and every "nearest people" search (Qdrant's grouping), must give the same answers.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import FACES, GROUPS, HOPKINS_1, assert_same_contents, library_contents, \
    require_extra

require_extra("qdrant_client", "qdrant")

from facefinder.core import people  # noqa: E402
from facefinder.core.distributed.locations import (QdrantLibrary, migrate_library,  # noqa: E402
                                                   open_library, parse_location)
from facefinder.core.errors import FacefinderError, LibraryError  # noqa: E402
from facefinder.core.scan import index_folder  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """4 group photos and 5 portraits each of 4 people (about 45 faces)."""
    folder = tmp_path_factory.mktemp("qdrant-photos")
    for src in sorted(GROUPS.iterdir()):
        shutil.copyfile(src, folder / src.name)
    for person in ("al_gore", "bill_clinton", "ben_affleck", "angelina_jolie"):
        for src in sorted((FACES / person).iterdir())[:5]:
            shutil.copyfile(src, folder / src.name)
    return folder


def _url(root, collection="faces") -> str:
    return f"qdrant+path://{root}/qdrant/{collection}?catalog={root}/catalog-{collection}"


def _index(lib, engine, folder) -> None:
    for _ in index_folder(lib, engine, folder):
        pass


@pytest.fixture
def pair(photos, engine, tmp_path):
    """``(embedded, qdrant-backed)`` libraries holding the same photos."""
    emb = open_library(tmp_path / "embedded", engine.fingerprint)
    qd = open_library(_url(tmp_path), engine.fingerprint)
    _index(emb, engine, photos)
    _index(qd, engine, photos)
    yield emb, qd
    emb.close()
    qd.close()


def _queries(emb_lib, engine) -> list[np.ndarray]:
    ids, vectors = emb_lib.all_embeddings()
    other = engine.faces_in_file(HOPKINS_1)[1][0].embedding  # a face not in the library
    return [vectors[i] for i in range(0, len(ids), 3)] + [other]


def _hits(lib, q, k):
    return [(h.rank, h.face.face_id, h.face.path, h.face.box) for h in lib.search(q, k)]


def _distances(lib, q, k):
    return [h.distance for h in lib.search(q, k)]


def test_a_qdrant_library_answers_the_same_searches(pair, engine):
    emb, qd = pair
    assert isinstance(qd, QdrantLibrary) and not isinstance(emb, QdrantLibrary)
    assert_same_contents(library_contents(emb), library_contents(qd), tolerance=0)
    n = emb.face_count()
    assert n >= 40 and qd.vectors.count() == n
    for q in _queries(emb, engine):
        for k in (1, 10, n + 5):
            assert _hits(qd, q, k) == _hits(emb, q, k)
            # float32 arithmetic in two engines: equal to rounding, not bit for bit
            assert np.allclose(_distances(qd, q, k), _distances(emb, q, k), atol=1e-5)


def test_batched_neighbours_are_the_exact_ones(pair):
    """QdrantIndex.knn (the batch query grouping uses on big libraries) against exact search."""
    emb, qd = pair
    ids, vectors = emb.all_embeddings()
    qd.load_index()
    labels, dist = qd._index.knn(vectors[:20], 5, 64)
    for row, v in enumerate(vectors[:20]):
        d = np.linalg.norm(vectors - v, axis=1)
        order = np.argsort(d, kind="stable")[:5]
        assert np.allclose(dist[row], d[order], atol=1e-5)
        assert set(labels[row].tolist()) == set(ids[order].tolist()) or \
            np.isclose(d[order][-1], np.sort(d)[5], atol=1e-6)  # a tie at the fifth place
    few = qd._index.knn(vectors[:2], len(ids) + 3, 64)
    assert (few[0][:, -3:] == -1).all() and np.isinf(few[1][:, -3:]).all()


def test_nearest_people_come_from_qdrant_grouping_and_match(pair, engine, monkeypatch):
    emb, qd = pair
    for lib in (emb, qd):
        people.cluster(lib)
    groups = [(p.id, p.face_ids) for p in people.people(emb)]
    assert groups == [(p.id, p.face_ids) for p in people.people(qd)]
    # Corrections change people after the payloads were written: they must follow.
    big = [p for p in people.people(emb) if p.size >= 2]
    for lib in (emb, qd):
        people.rename(lib, big[0].id, "Someone")
        people.merge(lib, big[0].id, big[1].id)
        people.move_out(lib, big[2].face_ids[-1])
    from facefinder.core.library import Library

    calls = []
    real_search = Library.search

    def counted_search(self, *args, **kwargs):
        calls.append(self)
        return real_search(self, *args, **kwargs)

    monkeypatch.setattr(Library, "search", counted_search)
    for q in _queries(emb, engine):
        for k in (1, 5, 100):
            found = people.nearest_people(qd, q, k)
            expected = people.nearest_people(emb, q, k)
            mine = [(p.person_id, p.name, p.size, p.face_id) for p in found]
            theirs = [(p.person_id, p.name, p.size, p.face_id) for p in expected]
            assert mine == theirs
            # float32 distances from two engines agree to rounding, not bit for bit
            assert np.allclose([p.distance for p in found],
                               [p.distance for p in expected], atol=1e-5)
    assert qd not in calls, "the Qdrant library fell back to searching faces"
    assert emb in calls
    assert any(name == "Someone" for _, name, *_ in mine)


def test_the_collection_follows_the_catalog_across_runs_and_kills(pair, engine, photos):
    """Removed photos leave Qdrant; points written by a run killed before it recorded them are
    dropped; a collection changed behind facefinder's back is rebuilt. Searches stay equal."""
    from qdrant_client import models

    emb, qd = pair
    victim = sorted(photos.glob("*Al_Gore*"))[0]
    victim.unlink()
    for lib in (emb, qd):
        _index(lib, engine, photos)
    q = _queries(emb, engine)[0]
    assert _hits(qd, q, 60) == _hits(emb, q, 60)
    store = qd.vectors
    loc, url = store.location, _url(qd.path.parent)
    client = store.client
    # A run killed after writing a face to Qdrant but before the catalog recorded it.
    ghost = models.PointStruct(id=10_000, vector=(q / np.linalg.norm(q)).tolist(),
                               payload={"face": 10_000, "path": "x", "person": None,
                                        "group": -10_000})
    client.upsert(loc.collection, [ghost], wait=True)
    qd.close()
    qd = open_library(url, engine.fingerprint, create=False)
    assert _hits(qd, q, 60) == _hits(emb, q, 60)
    assert qd.vectors.count() == emb.face_count()
    # Faces deleted in Qdrant by someone else: found by the count, rebuilt with a notice.
    some = [int(i) for i in emb.all_embeddings()[0][:3]]
    qd.vectors.client.delete(loc.collection, models.PointIdsList(points=some), wait=True)
    qd.close()
    qd = open_library(url, engine.fingerprint, create=False)
    assert _hits(qd, q, 60) == _hits(emb, q, 60)
    qd.close()


def test_a_collection_that_is_not_ours_is_left_alone(tmp_path, engine, photos):
    from qdrant_client import QdrantClient, models

    client = QdrantClient(path=str(tmp_path / "qdrant"))
    client.create_collection("theirs", vectors_config=models.VectorParams(
        size=128, distance=models.Distance.EUCLID))
    client.upsert("theirs", [models.PointStruct(id=1, vector=[0.1] * 128)], wait=True)
    client.close()
    lib = open_library(_url(tmp_path, "theirs"), engine.fingerprint)
    with pytest.raises(LibraryError, match="belongs to another program"):
        _index(lib, engine, photos)
    lib.close()
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    assert client.count("theirs").count == 1  # untouched
    client.close()


def test_addresses(tmp_path):
    loc, catalog = parse_location("qdrant://db.example:7000/faces")
    assert (loc.host, loc.port, loc.collection, catalog) == ("db.example", 7000, "faces", None)
    assert parse_location("qdrant://h/c")[0].url == "qdrant://h:6333/c"
    loc, catalog = parse_location(f"qdrant+path://{tmp_path}/store/c?catalog={tmp_path}/cat")
    assert (loc.path, loc.collection, catalog) == (str(tmp_path / "store"), "c",
                                                   tmp_path / "cat")
    for bad in ("qdrant://host:port/c", "qdrant://host:6333/", "qdrant+path://host/x/c",
                "qdrant+path://relative/c", "qdrant://h/c?api_key=x", "qdrant://h/a/b"):
        with pytest.raises(FacefinderError):
            parse_location(bad)


def test_migrate_both_ways_keeps_ids_names_and_people(pair, engine, tmp_path, capsys):
    from facefinder.cli import main

    emb, qd = pair
    people.cluster(emb)
    pid = people.people(emb)[0].id
    people.rename(emb, pid, "Named")
    before = library_contents(emb)
    groups = [(p.id, p.name, p.face_ids) for p in people.people(emb)]
    ids = emb.all_embeddings()[0].tolist()
    q = _queries(emb, engine)[1]
    expected = _hits(emb, q, 20)
    emb.close()
    there = _url(tmp_path, "copy")
    assert main(["library", "migrate", str(tmp_path / "embedded"), there, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["faces"] == len(ids) and report["people"] == len(groups)
    back = tmp_path / "back"
    assert main(["library", "migrate", there, str(back)]) == 0
    for spec in (there, back):
        with open_library(spec, engine.fingerprint, create=False) as lib:
            assert isinstance(lib, QdrantLibrary) == (spec == there)
            assert lib.all_embeddings()[0].tolist() == ids
            assert_same_contents(before, library_contents(lib), tolerance=0)
            assert [(p.id, p.name, p.face_ids) for p in people.people(lib)] == groups
            assert _hits(lib, q, 20) == expected
    # Copying onto an existing library or collection is refused; nothing is overwritten.
    assert main(["library", "migrate", str(back), there]) == 1
    assert "already" in capsys.readouterr().err
