"""The library's plumbing (SQLite + HNSW), with random unit vectors instead of the model."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from facefinder.core.errors import LibraryError, ModelMismatchError
from facefinder.core.library import Library, list_libraries, path_key, resolve_library_path
from helpers import photo_result as result, unit

FP = "test-fingerprint"


@pytest.fixture
def filled(tmp_path):
    rng = np.random.default_rng(0)
    lib = Library(tmp_path / "lib", FP)
    vecs = unit(rng, 300)
    items = [(result(tmp_path / f"p{i}.jpg", vecs[i * 3:(i + 1) * 3]), 100 + i, 1000 + i)
             for i in range(100)]
    lib.store_results(items)
    return lib, vecs


def exact_neighbours(lib, query, k):
    ids, emb = lib.all_embeddings()
    d = np.linalg.norm(emb - query, axis=1)
    order = np.argsort(d)[:k]
    return ids[order].tolist(), d[order]


def test_search_matches_exact_search(filled):
    lib, vecs = filled
    for q in vecs[::37]:
        hits = lib.search(q, k=10)
        ids, dists = exact_neighbours(lib, q, 10)
        assert [h.face.face_id for h in hits] == ids
        np.testing.assert_allclose([h.distance for h in hits], dists, atol=1e-4)
        assert hits[0].distance == pytest.approx(0.0, abs=1e-3)
        assert [h.rank for h in hits] == list(range(1, 11))


def test_index_is_rebuilt_when_missing_corrupt_or_stale(filled, tmp_path):
    lib, vecs = filled
    lib.search(vecs[0], 5)
    lib.close()
    index_file = tmp_path / "lib" / "faces.hnsw"
    assert index_file.is_file()
    expected = [h.face.face_id for h in Library(tmp_path / "lib", FP).search(vecs[5], 10)]

    index_file.unlink()  # missing
    assert [h.face.face_id for h in Library(tmp_path / "lib", FP).search(vecs[5], 10)] == expected

    index_file.write_bytes(b"garbage" * 100)  # unreadable
    assert [h.face.face_id for h in Library(tmp_path / "lib", FP).search(vecs[5], 10)] == expected

    # stale: faces added and removed behind the index's back (a crash before save_index)
    lib = Library(tmp_path / "lib", FP)
    lib.search(vecs[0], 1)
    lib.close()
    db = sqlite3.connect(tmp_path / "lib" / "catalog.sqlite")
    db.execute("DELETE FROM faces WHERE id IN (SELECT id FROM faces ORDER BY id LIMIT 30)")
    db.commit()
    db.close()
    other = Library(tmp_path / "lib", FP)
    newv = unit(np.random.default_rng(5), 1)
    other.store_results([(result(tmp_path / "new.jpg", newv), 1, 1)])
    hits = other.search(newv[0], 10)
    ids, _ = exact_neighbours(other, newv[0], 10)
    assert [h.face.face_id for h in hits] == ids
    assert all(h.face.face_id > 30 for h in hits)


def test_restoring_a_photo_replaces_its_faces(filled, tmp_path):
    lib, vecs = filled
    before = lib.face_count()
    newv = unit(np.random.default_rng(1), 1)
    lib.store_results([(result(tmp_path / "p0.jpg", newv), 5, 5)])
    assert lib.face_count() == before - 3 + 1
    assert lib.search(newv[0], 1)[0].face.path == str(tmp_path / "p0.jpg")
    assert lib.search(vecs[0], 1)[0].distance > 0.1  # the old face is gone from the index


def test_remove_photos(filled, tmp_path):
    lib, vecs = filled
    removed = lib.remove_photos([path_key(tmp_path / "p1.jpg")])
    assert removed == 3
    assert all(h.face.path != str(tmp_path / "p1.jpg") for h in lib.search(vecs[3], 20))


def test_k_larger_than_library(tmp_path):
    lib = Library(tmp_path / "small", FP)
    v = unit(np.random.default_rng(2), 2)
    lib.store_results([(result(tmp_path / "a.jpg", v), 1, 1)])
    assert len(lib.search(v[0], k=50)) == 2


def test_empty_library_says_so(tmp_path):
    lib = Library(tmp_path / "empty", FP)
    with pytest.raises(LibraryError, match="no faces yet"):
        lib.search(np.ones(128, np.float32) / np.sqrt(128), 5)


def test_other_model_is_refused(filled, tmp_path):
    lib, _ = filled
    lib.close()
    with pytest.raises(ModelMismatchError, match="another face model"):
        Library(tmp_path / "lib", "some-other-weights")


def test_ef_is_restored_after_load(filled, tmp_path):
    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.close()
    again = Library(tmp_path / "lib", FP)
    again.search(vecs[0], 1)
    assert again._index.ef >= 64  # hnswlib would come back with ef = 10


def test_a_failed_save_keeps_the_old_index_and_says_so(filled, tmp_path, caplog):
    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.save_index(force=True)
    good = (tmp_path / "lib" / "faces.hnsw").read_bytes()
    lib.store_results([(result(tmp_path / "x.jpg", unit(np.random.default_rng(3), 1)), 1, 1)])

    class CrashingSave:  # hnswlib's methods are read-only: wrap the index instead
        def __init__(self, index):
            self._index = index

        def __getattr__(self, name):
            return getattr(self._index, name)

        def save_index(self, path):
            with open(path, "wb") as f:
                f.write(b"half")
            raise OSError(28, "No space left on device", path)

    monkeypatch_target = lib._index
    monkeypatch_target._index = CrashingSave(monkeypatch_target._index)
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        assert lib.save_index(force=True) is False  # a notice, not an error: the catalog has all
    assert "could not save the face index" in caplog.text and "disk is full" in caplog.text
    assert (tmp_path / "lib" / "faces.hnsw").read_bytes() == good
    assert not [p for p in os.listdir(tmp_path / "lib") if p.startswith(".faces-")]
    # nothing was lost: a fresh open finds the face added after the last good save
    again = Library(tmp_path / "lib", FP)
    assert again.search(unit(np.random.default_rng(3), 1)[0], 1)[0].face.path == \
        str(tmp_path / "x.jpg")


def test_undecodable_path_round_trips(tmp_path):
    lib = Library(tmp_path / "lib2", FP)
    raw = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    v = unit(np.random.default_rng(4), 1)
    lib.store_results([(result(raw, v), 1, 1)])
    hit = lib.search(v[0], 1)[0]
    assert hit.face.path == raw
    assert os.fsencode(hit.face.path).endswith(b"caf\xe9.jpg")


def test_library_names_and_paths(tmp_path):
    default = resolve_library_path(None)
    assert default.name == "default"
    named = resolve_library_path("holidays")
    assert named.parent == default.parent
    assert resolve_library_path(str(tmp_path / "x")) == tmp_path / "x"
    Library.open("holidays", FP).close()
    assert [p.name for p in list_libraries()] == ["holidays"]
    with pytest.raises(LibraryError):
        Library.open("never-made", FP, create=False)


def test_an_open_library_sees_faces_another_process_added(filled, tmp_path):
    lib, vecs = filled
    lib.search(vecs[0], 1)  # the index is now in memory
    other = Library(tmp_path / "lib", FP)  # another process, in effect
    newv = unit(np.random.default_rng(9), 2)
    other.store_results([(result(tmp_path / "elsewhere.jpg", newv), 1, 1)])
    other.remove_photos([path_key(tmp_path / "p2.jpg")])
    other.close()
    hit = lib.search(newv[1], k=1)[0]
    assert hit.face.path == str(tmp_path / "elsewhere.jpg") and hit.distance < 1e-3
    assert all(h.face.path != str(tmp_path / "p2.jpg") for h in lib.search(vecs[6], k=400))


# -- reading at scale: batches, chunks, the index's own graph ---------------------------------------
def test_knn_answers_a_batch_like_exact_search(filled):
    lib, vecs = filled
    ids, emb = lib.all_embeddings()
    found, dist = lib.knn(vecs[:40], 5)
    assert found.shape == (40, 5) and found.dtype == np.int64
    for q, row, d in zip(vecs[:40], found, dist):
        want, wd = exact_neighbours(lib, q, 5)
        assert row.tolist() == want
        np.testing.assert_allclose(d, wd, atol=1e-4)
    few, _ = lib.knn(vecs[:2], 500)  # more than the library holds: capped
    assert few.shape == (2, 300) and (few >= 0).all()


def test_embeddings_in_chunks_and_by_id(filled):
    lib, vecs = filled
    ids, emb = lib.all_embeddings()
    chunks = list(lib.embedding_chunks(size=70))
    assert [len(c[0]) for c in chunks] == [70, 70, 70, 70, 20]
    np.testing.assert_array_equal(np.concatenate([c[0] for c in chunks]), ids)
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), emb)
    boxes = np.concatenate([c[2] for c in chunks])
    assert boxes.shape == (300, 4) and boxes[:3].tolist() == [[0, 0, 10, 10], [1, 1, 10, 10],
                                                              [2, 2, 10, 10]]
    upto = list(lib.embedding_chunks(upto=int(ids[99])))
    assert sum(len(c[0]) for c in upto) == 100
    got, vectors = lib.embeddings_of([int(ids[5]), int(ids[2]), 10**9, int(ids[5])])
    assert got.tolist() == [int(ids[2]), int(ids[5])]
    np.testing.assert_array_equal(vectors, emb[[2, 5]])


def test_release_index_frees_it_and_searches_load_it_again(filled, tmp_path):
    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.release_index()
    assert (tmp_path / "lib" / "faces.hnsw").is_file()  # saved first (a small library)
    assert lib.search(vecs[7], 1)[0].distance < 1e-3


def test_the_index_graph_is_hnswlibs_own_and_current(filled, tmp_path, monkeypatch):
    import facefinder.core.library as library_mod
    from facefinder.core.hnsw_file import read_graph
    from facefinder.core.hnsw_index import IndexRejected

    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.save_index(force=True)
    graph = lib.index_graph()
    ids, emb = lib.all_embeddings()
    assert sorted(graph.labels.tolist()) == ids.tolist() and not graph.deleted.any()
    # The links are hnswlib's: read back from hnswlib's own serialisation of the same index.
    state = lib._index._index.__getstate__()[0]
    n, m0 = state["cur_element_count"], state["max_M0"]
    records = state["data_level0"].reshape(n, -1)
    counts = records[:, :2].copy().view(np.uint16)[:, 0]
    links = records[:, 4:4 + 4 * m0].copy().view(np.uint32)
    for node in range(n):
        assert sorted(graph.links[node][graph.links[node] >= 0].tolist()) == \
            sorted(links[node, :counts[node]].tolist())
    order = np.argsort(graph.labels)
    np.testing.assert_array_equal(graph.vectors[order], emb)
    # A face's nearest face is nearly always among its links.
    nearest = [exact_neighbours(lib, v, 2)[0][1] for v in emb[:60]]
    node_of = {int(f): i for i, f in enumerate(graph.labels)}
    linked = [graph.labels[graph.links[node_of[int(f)]]].tolist() for f in ids[:60]]
    assert np.mean([a in b for a, b in zip(nearest, linked)]) >= 0.95
    # Faces added since the file was saved: it is brought up to date first.
    monkeypatch.setattr(library_mod, "SAVE_ALWAYS_BELOW", 0)
    newv = unit(np.random.default_rng(11), 2)
    added = lib.store_results([(result(tmp_path / "late.jpg", newv), 1, 1)])
    assert set(added) <= set(lib.index_graph().labels.tolist())
    # A file that does not match what the library recorded is never read.
    with pytest.raises(IndexRejected):
        read_graph(tmp_path / "lib" / "faces.hnsw", [])


def test_new_libraries_get_the_new_parameters_and_old_ones_keep_theirs(filled, tmp_path):
    import json

    from facefinder.core.hnsw_index import NEW_PARAMS

    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.save_index(force=True)
    record = json.loads(lib.meta("index_record"))
    assert (record["M"], record["ef_construction"]) == (NEW_PARAMS.M, NEW_PARAMS.ef_construction)
    record.update(M=16, ef_construction=200)  # as a library built before them recorded
    lib.set_meta("index_record", json.dumps(record))
    lib.close()
    (tmp_path / "lib" / "faces.hnsw").unlink()  # its index must be rebuilt
    again = Library(tmp_path / "lib", FP)
    again.search(vecs[0], 1)
    again.save_index(force=True)
    kept = json.loads(again.meta("index_record"))
    assert (kept["M"], kept["ef_construction"]) == (16, 200)
    again.close()


def test_huge_pages_leave_the_answers_alone(filled, tmp_path, monkeypatch):
    """Moving the index's memory to huge pages (Linux; a no-op elsewhere) changes no answer,
    also when it happens in the background while searches run."""
    import facefinder.core.hnsw_index as hnsw_mod
    import facefinder.core.library as library_mod

    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.close()
    monkeypatch.setattr(hnsw_mod, "REGION_MIN", 0)
    monkeypatch.setattr(library_mod, "HUGE_PAGES_AFTER", 3)
    monkeypatch.setattr(library_mod, "SAVE_ALWAYS_BELOW", 0)
    again = Library(tmp_path / "lib", FP)
    before = [[h.face.face_id for h in again.search(q, 10)] for q in vecs[:10]]
    assert isinstance(again.prefer_huge_pages(), int)
    after = [[h.face.face_id for h in again.search(q, 10)] for q in vecs[:10]]
    assert before == after
    for q in vecs[::29]:
        ids, _ = exact_neighbours(again, q, 10)
        assert [h.face.face_id for h in again.search(q, 10)] == ids


def test_a_file_checked_ahead_and_then_replaced_is_checked_again(filled, tmp_path, caplog):
    """prepare_search checks the index file while the model loads; a file put in its place
    afterwards (same size, other bytes) is never handed to hnswlib unchecked."""
    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.close()
    index = tmp_path / "lib" / "faces.hnsw"
    lib = Library(tmp_path / "lib", FP)
    lib.prepare_search()
    lib._checking[0].join()
    assert lib._checking[1], "the background check should have passed"
    damaged = bytearray(index.read_bytes())
    damaged[200:4000] = np.random.default_rng(3).integers(0, 256, 3800, np.uint8).tobytes()
    (tmp_path / "lib" / "other.tmp").write_bytes(bytes(damaged))
    os.replace(tmp_path / "lib" / "other.tmp", index)
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        hits = lib.search(vecs[3], 10)
    assert "rebuilt it from the catalog" in caplog.text
    ids, _ = exact_neighbours(lib, vecs[3], 10)
    assert [h.face.face_id for h in hits] == ids
    # Checked ahead and unchanged: loaded without reading it twice.
    lib.save_index(force=True)
    lib.close()
    again = Library(tmp_path / "lib", FP)
    again.prepare_search()
    import facefinder.core.hnsw_index as hnsw_mod

    reads = []
    original = hnsw_mod.file_checksum
    again._checking[0].join()
    hnsw_mod.file_checksum = lambda p: reads.append(p) or original(p)
    try:
        assert again.search(vecs[3], 1)[0].face.face_id == ids[0]
    finally:
        hnsw_mod.file_checksum = original
    assert reads == []


def test_search_once_reads_the_file_and_answers_like_search(filled, tmp_path, monkeypatch):
    """A one-shot search walks the saved file (no index loaded) and gives search()'s answers,
    also for faces added and removed since the file was saved."""
    import facefinder.core.library as library_mod

    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.close()
    monkeypatch.setattr(library_mod, "SAVE_ALWAYS_BELOW", 0)  # as a large library: not saved
    changer = Library(tmp_path / "lib", FP)
    newv = unit(np.random.default_rng(21), 4)
    changer.store_results([(result(tmp_path / "added.jpg", newv), 1, 1)])
    changer.remove_photos([path_key(tmp_path / "p4.jpg")])
    changer.close()
    once = Library(tmp_path / "lib", FP)
    for q in list(vecs[::23]) + list(newv):
        hits = once.search_once(q, 10)
        assert once._index is None  # answered from the file
        ids, dists = exact_neighbours(once, q, 10)
        assert [h.face.face_id for h in hits] == ids
        np.testing.assert_allclose([h.distance for h in hits], dists, atol=1e-5)
        assert all(h.face.path != str(tmp_path / "p4.jpg") for h in hits)
    assert once.search_once(newv[2], 1)[0].face.path == str(tmp_path / "added.jpg")
    # A few faces' neighbours (new faces placed into people) come from the file too.
    found, dist = once.knn(np.concatenate([vecs[:3], newv[:2]]), 5)
    assert once._index is None
    for q, row, d in zip(np.concatenate([vecs[:3], newv[:2]]), found, dist):
        ids, dists = exact_neighbours(once, q, 5)
        assert row.tolist() == ids
        np.testing.assert_allclose(d, dists, atol=1e-4)
    once.close()


def test_search_once_falls_back_when_the_file_is_damaged(filled, tmp_path, caplog):
    lib, vecs = filled
    lib.search(vecs[0], 1)
    lib.close()
    index = tmp_path / "lib" / "faces.hnsw"
    data = bytearray(index.read_bytes())
    data[500:900] = bytes(400)
    index.write_bytes(bytes(data))
    once = Library(tmp_path / "lib", FP)
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        hits = once.search_once(vecs[9], 10)
    assert "rebuilt it from the catalog" in caplog.text
    assert [h.face.face_id for h in hits] == exact_neighbours(once, vecs[9], 10)[0]
