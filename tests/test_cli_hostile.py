"""The command line against hostile input and damage, as an unlucky or malicious user would try
it: one clear line and a documented exit status, nothing committed lost, no answer silently
wrong, nothing outside facefinder's own files ever deleted (issue 9's seven points)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, HOPKINS_1, HOPKINS_2, REPO, copy_faces

pytestmark = pytest.mark.slow

RAW_NAME = b"caf\xe9-\xff.jpg"  # not valid UTF-8


def ff(*args, env=None, input=None, cwd=REPO):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "facefinder.cli", *map(os.fsdecode, args)],
                          cwd=cwd, capture_output=True, env=full, timeout=600, input=input)


def one_line(proc) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("facefinder: "), err
    return lines[0]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    photos = root / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio"], 3)
    copy_faces(photos, ["anthony_hopkins"])
    raw = os.fsencode(photos / "anthony_hopkins") + b"/" + RAW_NAME
    shutil.copyfile(HOPKINS_1, raw)
    lib = root / "lib"
    proc = ff("index", photos, "--library", lib, "-q")
    assert proc.returncode == 0, proc.stderr
    return photos, lib


def fresh_copy(lib: Path, dest: Path) -> Path:
    shutil.copytree(lib, dest)
    return dest


# 1. data loss -------------------------------------------------------------------------------------
def test_remove_keeps_photos_in_a_folder_used_as_its_own_library(tmp_path):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore"], 2)
    own = tmp_path / "own"
    shutil.copytree(photos / "al_gore", own)
    # facefinder refuses to start a library in a folder of photos...
    proc = ff("index", own, "--library", own, "-q")
    assert proc.returncode == 1 and "not empty" in one_line(proc)
    # ...but one made by an older version may be there: make it the way it was made then.
    lib = tmp_path / "lib"
    assert ff("index", photos, "--library", lib, "-q").returncode == 0
    for name in os.listdir(lib):
        shutil.copy2(lib / name, own / name)
    (own / "facefinder-library.json").unlink()  # older libraries had no marker
    before = sorted(p for p in os.listdir(own) if p.endswith(".jpg"))
    proc = ff("library", "remove", own, "--yes")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "catalog.sqlite" in out and "Kept the folder" in out
    assert sorted(os.listdir(own)) == before


def test_remove_refuses_dot_no_name_empty_catalogs_and_silent_scripts(tmp_path, indexed):
    _, lib = indexed
    here = fresh_copy(lib, tmp_path / "lib")
    for args, cwd in ((["library", "remove", "."], here), (["library", "remove"], tmp_path),
                      (["library", "remove", "--library", "."], here)):
        proc = ff(*args, cwd=cwd)
        assert proc.returncode == 1, args
        one_line(proc)
    assert (here / "catalog.sqlite").is_file()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "catalog.sqlite").write_bytes(b"")
    (plain / "keep.txt").write_text("mine")
    proc = ff("library", "remove", plain, "--yes")
    assert proc.returncode == 1 and "did not make" in one_line(proc)
    assert sorted(os.listdir(plain)) == ["catalog.sqlite", "keep.txt"]
    # no terminal and no --yes: nothing happens
    proc = ff("library", "remove", here, input=b"y\n")
    assert proc.returncode == 1 and "--yes" in one_line(proc)
    assert (here / "catalog.sqlite").is_file()
    proc = ff("library", "remove", here, "--yes")
    assert proc.returncode == 0 and not here.exists()


# 2 and 3. the index -------------------------------------------------------------------------------
def test_random_bytes_in_the_index(tmp_path, indexed):
    photos, lib = indexed
    lib = fresh_copy(lib, tmp_path / "lib")
    index = lib / "faces.hnsw"
    data = bytearray(index.read_bytes())
    record = int.from_bytes(data[24:32], "little")
    rng = np.random.default_rng(0)
    for face in range(0, (len(data) - 96) // record):
        at = 96 + face * record + 4
        data[at:at + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    index.write_bytes(bytes(data))
    proc = ff("search", HOPKINS_2, "--library", lib, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "rebuilt it from the catalog" in one_line(proc)
    for args in (["search", HOPKINS_2, "--people"], ["index", photos, "-q"]):
        proc = ff(*args, "--library", lib)
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


def test_an_index_from_another_library_gives_true_distances(tmp_path, indexed):
    photos, lib = indexed
    other_photos = tmp_path / "other"
    copy_faces(other_photos, ["andre_agassi", "ari_fleischer", "al_gore"], 3)
    other = tmp_path / "otherlib"
    assert ff("index", other_photos, "--library", other, "-q").returncode == 0
    mine = fresh_copy(lib, tmp_path / "lib")
    shutil.copyfile(other / "faces.hnsw", mine / "faces.hnsw")
    query = FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0005.jpg"
    proc = ff("search", query, "--library", mine, "--json", "-k", "20")
    assert proc.returncode == 0
    assert "another library" in one_line(proc)
    shown = json.loads(proc.stdout)["results"]
    # the truth: the query's embedding against the catalog's, computed here
    assert ff("extract", query, "-o", tmp_path / "q.npz", "-q").returncode == 0
    q = np.load(tmp_path / "q.npz")[query.name]
    assert ff("export", "--library", mine, "-o", tmp_path / "all.npz").returncode == 0
    data = np.load(tmp_path / "all.npz")
    truth = np.sort(np.linalg.norm(data["embedding"] - q, axis=1))
    np.testing.assert_allclose([r["distance"] for r in shown], truth[:len(shown)], atol=2e-4)


# 5. one line for every failure ------------------------------------------------------------------
def test_a_damaged_catalog(tmp_path, indexed):
    _, lib = indexed
    lib = fresh_copy(lib, tmp_path / "lib")
    with sqlite3.connect(lib / "catalog.sqlite") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray((lib / "catalog.sqlite").read_bytes())
    page = 4096
    for p in range(1, len(data) // page):
        data[p * page + 100:p * page + 400] = os.urandom(300)
    (lib / "catalog.sqlite").write_bytes(bytes(data))
    # SQLite keeps no checksums of row contents, but every embedding must be a unit vector:
    # the damage is caught wherever embeddings are read, never used.
    for args in (["search", HOPKINS_2], ["people"], ["export", "-o", tmp_path / "x.npz"]):
        proc = ff(*args, "--library", lib)
        assert proc.returncode == 1, args
        line = one_line(proc)
        assert "damaged" in line and "library repair" in line, line
    assert not (tmp_path / "x.npz").exists()
    proc = ff("library", "repair", "--library", lib)
    assert proc.returncode == 0, proc.stderr
    proc = ff("search", HOPKINS_2, "--library", lib, "--json")
    assert proc.returncode == 0, proc.stderr


def test_a_full_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        first = tmp_path / "first"
        copy_faces(first, ["al_gore"], 3)
        assert ff("index", first, "--library", disk / "lib", "-q").returncode == 0
        committed = json.loads(ff("library", "info", "--library", disk / "lib",
                                  "--json").stdout)["faces"]
        # Leave a few kilobytes free, then index more than fits.
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 24 * 1024))
        photos = tmp_path / "photos"
        copy_faces(photos, ["ana_palacio", "andre_agassi", "ari_fleischer", "alvaro_uribe",
                            "amelie_mauresmo", "ann_veneman"], 5)
        proc = ff("index", photos, "--library", disk / "lib", "-q")
        assert proc.returncode == 1
        line = one_line(proc)
        assert "full" in line and "rollback" not in line, line
        # what was committed is there, and the library opens and searches
        (disk / "filler").unlink()
        info = ff("library", "info", "--library", disk / "lib", "--json")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["faces"] >= committed > 0
        assert ff("search", HOPKINS_2, "--library", disk / "lib").returncode == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_paths_that_are_the_wrong_kind_of_thing(tmp_path, indexed):
    _, lib = indexed
    (tmp_path / "afile").write_text("x")
    proc = ff("search", HOPKINS_2, "--library", tmp_path / "afile")
    assert proc.returncode == 1 and "is a file" in one_line(proc)
    copy = fresh_copy(lib, tmp_path / "lib")
    (copy / "faces.hnsw").unlink()
    (copy / "faces.hnsw").mkdir()
    proc = ff("search", HOPKINS_2, "--library", copy, "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["results"]
    err = proc.stderr.decode()
    assert "Traceback" not in err and "could not save the face index" in err
    for cmd in (["export", "--library", lib, "-o", tmp_path],
                ["extract", HOPKINS_1, "-o", tmp_path]):
        proc = ff(*cmd)
        assert proc.returncode == 1 and "is a folder" in one_line(proc)
    proc = ff("export", "--library", lib, "-o", tmp_path / "x.txt")
    assert proc.returncode == 0 and (tmp_path / "x.txt").is_file()
    assert not (tmp_path / "x.txt.npz").exists() and "x.txt" in proc.stdout.decode()


def test_a_read_only_cache_folder(tmp_path, indexed):
    from facefinder.core import weights

    _, lib = indexed
    real = weights.cached_weights().parent
    cache = tmp_path / "cache"
    shutil.copytree(real, cache, ignore=shutil.ignore_patterns("*.npz", ".*"))
    os.chmod(cache, 0o555)
    try:
        proc = ff("search", HOPKINS_2, "--library", lib, "--json",
                  env={"FACEFINDER_CACHE_DIR": str(cache)})
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
        empty = tmp_path / "empty-cache"
        empty.mkdir(mode=0o555)
        proc = ff("compare", HOPKINS_1, HOPKINS_2, env={"FACEFINDER_CACHE_DIR": str(empty)})
        if os.geteuid() != 0:  # root may write anywhere: then it simply works
            assert proc.returncode == 1 and "cache" in one_line(proc)
    finally:
        os.chmod(cache, 0o755)


def test_library_list_shows_the_good_libraries_beside_a_damaged_one(tmp_path, indexed):
    _, lib = indexed
    data = tmp_path / "data"
    (data / "libraries").mkdir(parents=True)
    fresh_copy(lib, data / "libraries" / "good")
    bad = data / "libraries" / "bad"
    bad.mkdir()
    (bad / "catalog.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(5000))
    proc = ff("library", "list", env={"FACEFINDER_DATA_DIR": str(data)})
    out = proc.stdout.decode()
    assert proc.returncode == 0 and "Traceback" not in proc.stderr.decode()
    assert "good" in out and "photos" in out and "bad" in out and "cannot be read" in out


def test_info_on_another_programs_catalog_changes_nothing(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    with sqlite3.connect(folder / "catalog.sqlite") as db:
        db.execute("CREATE TABLE songs(title)")
    before = (folder / "catalog.sqlite").read_bytes()
    proc = ff("library", "info", "--library", folder)
    assert proc.returncode == 1 and "did not make" in one_line(proc)
    assert (folder / "catalog.sqlite").read_bytes() == before
    assert os.listdir(folder) == ["catalog.sqlite"]


def test_grouping_while_an_index_run_deletes_faces(tmp_path, engine, monkeypatch):
    """`people --recluster` racing an index run: faces deleted between the grouping's read and
    its write are skipped (this failed with FOREIGN KEY constraint failed)."""
    from facefinder.core import people
    from facefinder.core.library import Library, path_key
    from facefinder.core.scan import index_folder

    photos = tmp_path / "photos"
    made = copy_faces(photos, ["al_gore", "ana_palacio"], 3)
    lib = Library(tmp_path / "lib", engine.fingerprint)
    list(index_folder(lib, engine, photos))
    read = lib.embedding_chunks

    def read_then_lose_a_photo(*args, **kwargs):
        out = list(read(*args, **kwargs))
        other = Library(tmp_path / "lib", engine.fingerprint)  # the index run, in effect
        other.remove_photos([path_key(made[0])])
        other.close()
        return iter(out)

    monkeypatch.setattr(lib, "embedding_chunks", read_then_lose_a_photo)
    summary = people.cluster(lib, full=True)
    monkeypatch.undo()
    assert summary.people >= 2
    grouped = lib.query("SELECT COUNT(*) FROM face_person")[0][0]
    assert grouped == lib.state().faces


# 6. names that are not UTF-8 ------------------------------------------------------------------------
@pytest.mark.parametrize("env", [{"LC_ALL": "C.UTF-8"}, {"PYTHONIOENCODING": "euc_jp"},
                                 {"LC_ALL": "C", "PYTHONUTF8": "0"}])
def test_names_that_are_not_utf8(indexed, env):
    photos, lib = indexed
    text = ff("search", HOPKINS_2, "--library", lib, "-k", "12", env=env)
    assert text.returncode == 0, text.stderr
    assert b"caf\\xe9-\\xff.jpg" in text.stdout
    raw = ff("search", HOPKINS_2, "--library", lib, "-k", "12", "--json", env=env)
    assert raw.returncode == 0, raw.stderr
    out = json.loads(raw.stdout.decode("utf-8"))  # valid UTF-8 under any locale
    paths = [os.fsencode(r["image_path"]) for r in out["results"]]
    assert any(p.endswith(b"/" + RAW_NAME) for p in paths)
    people = ff("people", "--library", lib, env=env)
    assert people.returncode == 0 and b"\\xff" in people.stdout
    pj = ff("people", "--library", lib, "--json", env=env)
    json.loads(pj.stdout.decode("utf-8"))
