"""Upgrading a library made with the previous (article) pipeline, in place, with the real model.

A library is built with the article's crop and its pipeline record removed (as libraries made
before pipelines were recorded have none); people are grouped, named and merged. It keeps
working as it is (the query is embedded with its own crop); the upgrade re-embeds every face from
the stored boxes, keeps face ids, names, merges and corrections, and searches well after. A
SIGKILL in the middle of an upgrade leaves the old library fully usable, and the next run
continues from what was committed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers import REPO, copy_faces
from facefinder.core import people
from facefinder.core.library import Library
from facefinder.core.pipeline import Engine, distance
from facefinder.core.scan import index_folder
from facefinder.core.search import search_photo
from facefinder.core.upgrade import library_pipeline, upgrade_library, upgrade_state

PEOPLE = ["al_gore", "ana_palacio", "andre_agassi", "ari_fleischer", "amelie_mauresmo"]


def _old_library(path, photos, engine_article):
    """A library as an earlier facefinder left it: article crop, no pipeline record."""
    lib = Library.open(path, engine_article.fingerprint)
    for _ in index_folder(lib, engine_article, photos):
        pass
    with lib.transaction() as cur:
        cur.execute("DELETE FROM meta WHERE key='pipeline'")
    return lib


@pytest.fixture(scope="module")
def engine_article(engine):
    return Engine(pipeline="article")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("upgrade")
    copy_faces(root / "photos", PEOPLE, 4)
    return root / "photos"


def _rows(lib):
    return {fid: (x, y, w, h) for fid, x, y, w, h in
            lib.query("SELECT id, x, y, w, h FROM faces")}


def test_an_old_library_keeps_working_then_upgrades_in_place(tmp_path, photos, engine,
                                                              engine_article):
    lib = _old_library(tmp_path / "lib", photos, engine_article)
    assert library_pipeline(lib) == "article" and lib.meta("pipeline") is None
    assert upgrade_state(lib)["current"] is False
    # Searching it embeds the query with the article crop: an indexed photo finds itself.
    query = photos / "al_gore" / sorted(os.listdir(photos / "al_gore"))[0]
    before = search_photo(lib, engine, query, k=4)
    assert before.pipeline == "article" and before.hits[0].distance < 1e-3
    assert engine.pipeline.name == "rel25"  # the engine's own pipeline is put back

    # People: grouped, one named, two groups merged by hand, one face moved out.
    people.cluster(lib)
    groups = people.people(lib)
    gore = next(g for g in groups if any("al_gore" in lib.face_rows([f])[f].path
                                         for f in g.face_ids))
    people.rename(lib, gore.id, "Al")
    others = [g for g in groups if g.id != gore.id and g.size >= 2]
    merged = people.merge(lib, others[0].id, others[1].id)
    moved = people.people(lib)[0].face_ids[-1]
    people.move_out(lib, moved)
    names_before = {g.id: (g.name, sorted(g.face_ids)) for g in people.people(lib)}
    rows_before = _rows(lib)
    ids_before, emb_before = lib.all_embeddings()

    # The upgrade.
    progress = list(upgrade_library(lib, engine))
    summary = progress[-1].summary
    assert summary.switched and not summary.cancelled and summary.dropped == 0
    assert summary.reembedded == len(rows_before) == summary.faces
    assert [p.done for p in progress if p.stage == "embedding"] == sorted(
        p.done for p in progress if p.stage == "embedding")
    assert lib.meta("pipeline") == "rel25" and upgrade_state(lib)["current"]
    assert lib.query("SELECT COUNT(*) FROM next_embeddings")[0][0] == 0

    # Same faces, same ids, same boxes; every embedding changed to what indexing with the
    # current pipeline gives.
    assert _rows(lib) == rows_before
    ids_after, emb_after = lib.all_embeddings()
    assert ids_after.tolist() == ids_before.tolist()
    assert np.all(np.linalg.norm(emb_after - emb_before, axis=1) > 1e-3)
    fresh = Library.open(tmp_path / "fresh", engine.fingerprint)
    for _ in index_folder(fresh, engine, photos):
        pass
    by_path = {(p, b): e for p, b, _, e in fresh.export_rows()}
    for p, b, _, e in lib.export_rows():
        assert distance(e, by_path[(p, b)]) < 1e-4
    fresh.close()

    # Names, merges and corrections survive.
    assert {g.id: (g.name, sorted(g.face_ids)) for g in people.people(lib)} == names_before
    assert any(g.id == merged for g in people.people(lib))
    assert people.person_of(lib, [moved]).get(moved, (None,))[0] != names_before

    # The index was rebuilt from the new embeddings; searches use the new crop.
    after = search_photo(lib, engine, query, k=4)
    assert after.pipeline == "rel25" and after.hits[0].distance < 1e-3
    assert all("al_gore" in h.face.path for h in after.hits[:4])
    assert after.to_json()["results"][1]["same_person"]
    lib.close()


_KILLABLE = """
import sys, time
from facefinder.core.library import Library
from facefinder.core.pipeline import Engine
from facefinder.core.upgrade import upgrade_library
engine = Engine(); engine.load()
lib = Library.open(sys.argv[1], engine.fingerprint, create=False)
for p in upgrade_library(lib, engine, commit_every=2, commit_seconds=0.0):
    print(p.stage, p.done, p.total, flush=True)
    time.sleep(0.3)  # slow enough to be killed in the middle
"""


def test_a_killed_upgrade_leaves_a_usable_library_that_resumes(tmp_path, photos, engine,
                                                                engine_article):
    lib = _old_library(tmp_path / "lib", photos, engine_article)
    people.cluster(lib)
    pid = people.people(lib)[0].id
    people.rename(lib, pid, "Kept")
    faces = lib.face_count()
    lib.close()

    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(tmp_path / "lib")],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    seen = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("embedding"):
            seen = int(line.split()[1])
            if seen >= 6:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 6 <= seen < faces

    # Still the old library, fully usable: record, embeddings and search as before.
    con = sqlite3.connect(tmp_path / "lib" / "catalog.sqlite")
    done = con.execute("SELECT COUNT(*) FROM next_embeddings").fetchone()[0]
    con.close()
    assert done >= 4
    lib = Library.open(tmp_path / "lib", engine.fingerprint, create=False)
    assert library_pipeline(lib) == "article" and lib.face_count() == faces
    query = photos / "ana_palacio" / sorted(os.listdir(photos / "ana_palacio"))[0]
    result = search_photo(lib, engine, query, k=3)
    assert result.pipeline == "article" and result.hits[0].distance < 1e-3
    assert upgrade_state(lib)["done"] == done

    # The next run continues from what was committed (through the CLI, as a user would).
    lib.close()
    out = subprocess.run([sys.executable, "-m", "facefinder.cli", "library", "upgrade",
                          "--library", str(tmp_path / "lib"), "-q"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert f"({done} by an earlier run)" in out.stdout
    lib = Library.open(tmp_path / "lib", engine.fingerprint, create=False)
    assert library_pipeline(lib) == "rel25" and lib.face_count() == faces
    assert next(g for g in people.people(lib) if g.id == pid).name == "Kept"
    result = search_photo(lib, engine, query, k=3)
    assert result.pipeline == "rel25" and result.hits[0].distance < 1e-3
    lib.close()
    info = json.loads(subprocess.run(
        [sys.executable, "-m", "facefinder.cli", "library", "info", "--library",
         str(tmp_path / "lib"), "--json"], cwd=REPO, capture_output=True, text=True).stdout)
    assert info["pipeline"] == "rel25" and info["pipeline_current"] is True
    again = subprocess.run([sys.executable, "-m", "facefinder.cli", "library", "upgrade",
                            "--library", str(tmp_path / "lib")], cwd=REPO,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_faces_of_photos_gone_are_dropped_and_reindexed_later(tmp_path, engine,
                                                               engine_article):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore"], 3)
    lib = _old_library(tmp_path / "lib", photos, engine_article)
    gone = sorted((photos / "al_gore").iterdir())[0]
    faces = lib.face_count()
    in_gone = lib.query("SELECT COUNT(*) FROM faces JOIN photos ON photos.id = faces.photo_id "
                        "WHERE photos.display = ?", (str(gone),))[0][0]
    assert in_gone >= 1
    data = gone.read_bytes()
    gone.unlink()
    summary = list(upgrade_library(lib, engine))[-1].summary
    assert summary.switched and summary.dropped == in_gone and len(summary.unreadable) == 1
    assert lib.face_count() == faces - in_gone and library_pipeline(lib) == "rel25"
    # back on disk: a refresh indexes it again (with the current crop)
    gone.write_bytes(data)
    for _ in index_folder(lib, engine, photos):
        pass
    assert lib.face_count() == faces
    lib.close()
