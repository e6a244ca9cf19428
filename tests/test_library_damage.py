"""Damage and hostile files around a library: the index is verified, never trusted; the catalog
is the source of truth; nothing committed is lost; foreign files are never touched."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from facefinder.core.errors import (FacefinderError, LibraryDamagedError, LibraryError,
                                    ModelDamagedError, StorageError)
from facefinder.core.library import Library, repair_library
from facefinder.core.library_files import MARKER, remove_library
from helpers import photo_result as result, unit

FP = "test-fingerprint"


def make_library(folder: Path, n_photos: int = 100, seed: int = 0) -> tuple[Library, np.ndarray]:
    rng = np.random.default_rng(seed)
    lib = Library(folder, FP)
    vecs = unit(rng, n_photos * 3)
    lib.store_results([(result(folder.parent / f"p{seed}-{i}.jpg", vecs[i * 3:(i + 1) * 3]),
                        100 + i, 1000 + i) for i in range(n_photos)])
    lib.load_index()
    lib.save_index(force=True)
    return lib, vecs


def exact(lib: Library, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    ids, emb = lib.all_embeddings()
    d = np.linalg.norm(emb - query, axis=1)
    order = np.argsort(d, kind="stable")[:k]
    return [(int(ids[i]), float(d[i])) for i in order]


def check_search(lib: Library, query: np.ndarray, k: int = 10) -> None:
    hits = lib.search(query, k)
    want = exact(lib, query, k)
    assert [h.face.face_id for h in hits] == [i for i, _ in want]
    np.testing.assert_allclose([h.distance for h in hits], [d for _, d in want], atol=1e-5)


# -- the index ------------------------------------------------------------------------------------
def test_random_bytes_inside_the_index_never_reach_hnswlib(tmp_path):
    """hnswlib crashes the process (SIGSEGV) on such a file; run in a child to prove it does
    not, and that the library rebuilds the index with one notice."""
    lib, vecs = make_library(tmp_path / "lib")
    lib.close()
    index = tmp_path / "lib" / "faces.hnsw"
    data = bytearray(index.read_bytes())
    rng = np.random.default_rng(1)
    # Random bytes over the neighbour lists of every third face (hnswlib's level-0 records
    # follow a 96-byte header; the record size is the header's fourth field): the version
    # before this check died with SIGSEGV here.
    record = int.from_bytes(data[24:32], "little")
    for face in range(0, 300, 3):
        at = 96 + face * record + 4
        data[at:at + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    index.write_bytes(bytes(data))
    np.save(tmp_path / "q.npy", vecs[7])
    code = textwrap.dedent(f"""
        import logging, numpy as np
        logging.basicConfig(format="%(message)s")
        from facefinder.core.library import Library
        lib = Library({str(tmp_path / "lib")!r}, {FP!r})
        hits = lib.search(np.load({str(tmp_path / "q.npy")!r}), 5)
        print("FIRST", hits[0].distance)
        lib.close()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "FIRST 0.0" in proc.stdout
    assert proc.stderr.count("\n") == 1 and "rebuilt it from the catalog" in proc.stderr
    # the repaired index is saved and trusted next time, quietly
    again = Library(tmp_path / "lib", FP)
    check_search(again, vecs[7])


def test_an_index_from_another_library_is_not_used(tmp_path, caplog):
    a, va = make_library(tmp_path / "a", seed=1)
    b, vb = make_library(tmp_path / "b", seed=2)
    a.close()
    b.close()
    shutil.copyfile(tmp_path / "a" / "faces.hnsw", tmp_path / "b" / "faces.hnsw")
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        lib = Library(tmp_path / "b", FP)
        for q in vb[::50]:
            check_search(lib, q)
    assert "another library" in caplog.text


def test_an_index_left_over_from_a_deleted_catalog_is_not_used(tmp_path):
    lib, _ = make_library(tmp_path / "lib", seed=3)
    lib.close()
    for name in os.listdir(tmp_path / "lib"):
        if name.startswith("catalog.sqlite"):
            os.unlink(tmp_path / "lib" / name)
    fresh = Library(tmp_path / "lib", FP)
    newv = unit(np.random.default_rng(4), 30)
    fresh.store_results([(result(tmp_path / f"n{i}.jpg", newv[i:i + 1]), 1, 1)
                         for i in range(30)])
    for q in newv[::7]:
        check_search(fresh, q)


def test_distances_are_the_catalogs_even_if_the_index_lies(tmp_path, caplog):
    """An index whose vectors disagree with the catalog (however it got that way) is caught by
    the exact check on the k results and rebuilt; the distances shown are the catalog's."""
    lib, vecs = make_library(tmp_path / "lib")
    lib.search(vecs[0], 1)
    wrong = unit(np.random.default_rng(8), 1)
    lib._index.add(np.asarray([1]), wrong)  # face 1's vector replaced behind the catalog's back
    ids, emb = lib.all_embeddings()
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        # Before the lie shows up among the results, every distance shown is the catalog's.
        for h in lib.search(vecs[0], 10):
            row = int(np.searchsorted(ids, h.face.face_id))
            assert h.distance == pytest.approx(float(np.linalg.norm(emb[row] - vecs[0])), abs=1e-5)
        assert "disagreed" not in caplog.text
        check_search(lib, wrong[0])  # face 1 comes back at index distance 0: caught, rebuilt
    assert "disagreed with the catalog" in caplog.text
    check_search(lib, vecs[0])


def test_a_crash_between_saving_and_recording_keeps_the_new_index(tmp_path):
    lib, vecs = make_library(tmp_path / "lib")
    newv = unit(np.random.default_rng(5), 1)
    lib.store_results([(result(tmp_path / "late.jpg", newv), 1, 1)])

    original = lib.transaction

    def crash(*a, **k):
        raise KeyboardInterrupt  # the process dies after the rename, before the record

    lib.transaction = crash
    with pytest.raises(KeyboardInterrupt):
        lib.save_index(force=True)
    lib.transaction = original
    saved = os.stat(tmp_path / "lib" / "faces.hnsw").st_mtime_ns
    again = Library(tmp_path / "lib", FP)
    again.load_index()
    assert again._unsaved == 0  # the file matched the pending record: loaded, not rebuilt
    assert os.stat(tmp_path / "lib" / "faces.hnsw").st_mtime_ns == saved
    check_search(again, newv[0])


def test_opening_reads_only_what_changed(tmp_path, monkeypatch):
    """Opening a library with a saved index reads no embeddings but those added or changed
    since (issue 12: no full read of the catalog on every open)."""
    import facefinder.core.library as library_mod

    lib, vecs = make_library(tmp_path / "lib", n_photos=300)
    lib.close()
    other = Library(tmp_path / "lib", FP)
    newv = unit(np.random.default_rng(6), 3)
    monkeypatch.setattr(library_mod, "SAVE_ALWAYS_BELOW", 0)  # as a large library would
    other.store_results([(result(tmp_path / "new.jpg", newv), 1, 1)])
    other.close()  # 3 changes: not worth rewriting the index
    statements: list[str] = []
    again = Library(tmp_path / "lib", FP)
    again._db.set_trace_callback(statements.append)
    again.load_index()
    reads = [s for s in statements if "embedding" in s and "FROM faces" in s]
    assert reads and all("id > 900" in s for s in reads), reads
    check_search(again, newv[1])
    assert not any("COUNT(*)" in s for s in statements)


def test_a_process_holding_an_old_index_catches_up_after_the_journal_is_pruned(tmp_path):
    a, vecs = make_library(tmp_path / "lib")
    a.search(vecs[0], 1)  # a's index is in memory
    b = Library(tmp_path / "lib", FP)
    newv = unit(np.random.default_rng(10), 2)
    b.store_results([(result(tmp_path / "b.jpg", newv), 1, 1)])
    from facefinder.core.library import path_key

    b.remove_photos([path_key(tmp_path / "p0-5.jpg")])
    b.save_index(force=True)  # prunes the journal a would need
    b.close()
    check_search(a, newv[0])
    gone = {h.face.path for h in a.search(vecs[15], 300)}
    assert str(tmp_path / "p0-5.jpg") not in gone


def test_index_that_is_a_folder(tmp_path, caplog):
    lib, vecs = make_library(tmp_path / "lib")
    lib.close()
    (tmp_path / "lib" / "faces.hnsw").unlink()
    (tmp_path / "lib" / "faces.hnsw").mkdir()
    with caplog.at_level("WARNING", logger="facefinder.notice"):
        again = Library(tmp_path / "lib", FP)
        check_search(again, vecs[3])
        again.close()
    assert "is not a file" in caplog.text and "could not save the face index" in caplog.text
    assert (tmp_path / "lib" / "faces.hnsw").is_dir()  # never deleted: not facefinder's file


def test_invalid_embeddings_never_reach_a_library(tmp_path):
    lib, _ = make_library(tmp_path / "lib", n_photos=5)
    before = lib.state()
    bad = np.full((1, 128), np.nan, np.float32)
    with pytest.raises(ModelDamagedError, match="invalid embedding"):
        lib.store_results([(result(tmp_path / "nan.jpg", bad), 1, 1)])
    assert lib.state() == before


# -- the catalog ---------------------------------------------------------------------------------
def test_another_programs_catalog_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "app"
    folder.mkdir()
    db = sqlite3.connect(folder / "catalog.sqlite")
    db.execute("CREATE TABLE notes(text)")
    db.execute("INSERT INTO notes VALUES ('mine')")
    db.commit()
    db.close()
    before = (folder / "catalog.sqlite").read_bytes()
    for create in (False, True):
        with pytest.raises(LibraryError, match="did not make"):
            Library(folder, None, create=create)
    assert (folder / "catalog.sqlite").read_bytes() == before
    assert sorted(os.listdir(folder)) == ["catalog.sqlite"]


def test_a_library_is_not_created_in_a_folder_holding_other_files(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "me.jpg").write_bytes(b"jpeg")
    with pytest.raises(LibraryError, match="not empty"):
        Library(photos, FP)
    assert os.listdir(photos) == ["me.jpg"]


def test_a_library_path_that_is_a_file(tmp_path):
    (tmp_path / "lib").write_text("hello")
    with pytest.raises(LibraryError, match="is a file"):
        Library(tmp_path / "lib", FP)


def damage_middle(catalog: Path) -> None:
    data = bytearray(catalog.read_bytes())
    page = 4096
    pages = len(data) // page
    for p in range(pages // 3, pages // 3 + 4):  # a few pages in the middle
        data[p * page:(p + 1) * page] = os.urandom(page)
    catalog.write_bytes(bytes(data))


def test_a_damaged_catalog_gives_one_line_and_is_repaired(tmp_path):
    lib, vecs = make_library(tmp_path / "lib", n_photos=400)
    lib.close()
    with sqlite3.connect(tmp_path / "lib" / "catalog.sqlite") as db:  # fold the WAL in
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage_middle(tmp_path / "lib" / "catalog.sqlite")
    with pytest.raises(LibraryDamagedError) as err:
        opened = Library(tmp_path / "lib", FP)
        opened.all_embeddings()
        opened.search(vecs[0], 5)
    assert "\n" not in str(err.value) and "library repair" in str(err.value)
    report = repair_library(tmp_path / "lib")
    kept_faces, lost = report["tables"]["faces"]
    assert 0 < kept_faces <= 1200
    assert Path(report["damaged_copy"]).is_file()  # the damaged catalog is kept, not deleted
    fixed = Library(tmp_path / "lib", FP)
    assert fixed.state().faces == len(fixed.all_embeddings()[0]) > 600
    ids, emb = fixed.all_embeddings()
    check_search(fixed, emb[len(emb) // 2])


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_says_so_and_keeps_what_was_committed(small_disk):
    lib = Library(small_disk / "lib", FP)
    rng = np.random.default_rng(11)
    stored = 0
    with pytest.raises(StorageError) as err:
        for i in range(10_000):
            lib.store_results([(result(small_disk / f"f{i}.jpg", unit(rng, 4)), 1, 1)])
            stored += 4
    message = str(err.value)
    assert "full" in message and "rollback" not in message and "\n" not in message
    assert stored > 0
    lib.close()  # the index cannot be saved either: a notice, not a crash
    for name in os.listdir(small_disk):  # make room to read it back
        if name != "lib":
            os.unlink(small_disk / name)
    again = Library(small_disk / "lib", FP, create=False)
    assert again.state().faces == stored == len(again.all_embeddings()[0])


# -- removing ------------------------------------------------------------------------------------
def test_remove_deletes_only_facefinders_files_in_a_photo_folder(tmp_path):
    folder = tmp_path / "lib"
    lib, _ = make_library(folder, n_photos=3)
    lib.close()
    (folder / "holiday.jpg").write_bytes(b"a photo")
    (folder / "sub").mkdir()
    (folder / "sub" / "x.jpg").write_bytes(b"another")
    out = remove_library(folder)
    assert sorted(os.listdir(folder)) == ["holiday.jpg", "sub"]
    assert "catalog.sqlite" in out.removed and MARKER in out.removed and "faces.hnsw" in out.removed
    assert out.kept == ["holiday.jpg", "sub"] and not out.folder_removed


def test_remove_refuses_what_it_cannot_prove(tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "catalog.sqlite").write_bytes(b"")  # an empty catalog.sqlite is not enough
    (plain / "me.jpg").write_bytes(b"x")
    with pytest.raises(FacefinderError, match="did not make"):
        remove_library(plain)
    assert sorted(os.listdir(plain)) == ["catalog.sqlite", "me.jpg"]

    lib, _ = make_library(tmp_path / "lib", n_photos=2)
    lib.close()
    monkeypatch.chdir(tmp_path / "lib")
    with pytest.raises(FacefinderError, match="not '.'"):
        remove_library(Path("."))
    with pytest.raises(FacefinderError, match="current folder"):
        remove_library(tmp_path / "lib")
    monkeypatch.chdir(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "lib")
    with pytest.raises(FacefinderError, match="symbolic link"):
        remove_library(link)
    marker = json.loads((tmp_path / "lib" / MARKER).read_text())
    marker["id"] = "someone-else"
    (tmp_path / "lib" / MARKER).write_text(json.dumps(marker))
    with pytest.raises(FacefinderError, match="does not match"):
        remove_library(tmp_path / "lib")
    assert (tmp_path / "lib" / "catalog.sqlite").is_file()
