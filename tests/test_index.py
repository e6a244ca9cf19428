"""Indexing end to end with the real model: bad input, refresh, cancel, and a killed process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, REPO, committed_photos, copy_faces
from corpus import EXPECTED_SKIPS, build_bad_corpus
from facefinder.core.facenet import fingerprint
from facefinder.core.library import Library
from facefinder.core.scan import index_folder


def run_index(library, engine, folder, **kw):
    items = list(index_folder(library, engine, folder, **kw))
    assert items[-1].stage == "done"
    return items[-1].summary, items


def test_bad_input_is_skipped_with_reasons_and_the_rest_indexed(engine, tmp_path):
    made = build_bad_corpus(tmp_path / "photos")
    lib = Library(tmp_path / "lib", fingerprint())
    summary, _ = run_index(lib, engine, tmp_path / "photos")
    reasons = {Path(s.path).name: s.reason for s in summary.skipped}
    for name, reason in EXPECTED_SKIPS.items():
        assert reason in reasons.get(name, ""), (name, reasons)
    # the good photos (and the odd but valid ones) are in, each with a face
    catalog = {os.path.basename(p.decode("utf-8", "replace")): v
               for p, v in lib.known_photos().items()}
    for name in ["日本語の写真.jpg", "photo café ñ.jpg", "nested.jpg", "gray16.png",
                 "cmyk.jpg", "palette.gif", "panorama.jpg", "lfwdeepfunneled_Al_Gore_0001.jpg"]:
        assert name in catalog, name
    assert "latin1_\ufffdt\ufffd.jpg" in catalog
    stats = lib.stats()
    assert stats["photos_without_faces"] >= 1  # the coffee cup
    assert stats["skipped"] == len(EXPECTED_SKIPS)
    assert summary.photos_with_faces == stats["photos_with_faces"] >= 9
    # the skipped files are in the catalog with their reason too
    assert {Path(p).name for p, _ in lib.skipped()} >= set(EXPECTED_SKIPS)
    # and search finds the Japanese-named copy of Al Gore
    from facefinder.core.search import search_photo

    res = search_photo(lib, engine, made["日本語の写真.jpg"], k=3)
    assert res.hits[0].distance < 0.01


def test_refresh_only_processes_what_changed(engine, tmp_path):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio"], per_person=3)
    lib = Library(tmp_path / "lib", fingerprint())
    first, _ = run_index(lib, engine, photos)
    assert first.processed == 6 and first.unchanged == 0
    faces_before = lib.face_count()

    again, _ = run_index(lib, engine, photos)
    assert again.processed == 0 and again.unchanged == 6
    assert lib.face_count() == faces_before

    victim = sorted((photos / "al_gore").iterdir())[0]
    victim.unlink()
    changed = sorted((photos / "ana_palacio").iterdir())[0]
    shutil.copyfile(FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0002.jpg", changed)
    copy_faces(photos, ["andre_agassi"], per_person=1)
    third, _ = run_index(lib, engine, photos)
    assert third.removed == 1
    assert third.processed == 2  # the changed photo and the new one
    assert third.unchanged == 4
    keys = {os.fsdecode(k) for k in lib.known_photos()}
    assert str(victim) not in keys
    # the changed photo now holds Hopkins' face, not Ana Palacio's
    from facefinder.core.search import search_photo

    res = search_photo(lib, engine, FACES / "anthony_hopkins" /
                       "dsfacenet_Anthony_Hopkins_0002.jpg", k=1)
    assert res.hits[0].face.path == str(changed) and res.hits[0].distance < 0.01


def test_no_recursive_leaves_subfolders_alone(engine, tmp_path):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore"], per_person=1)
    shutil.copyfile(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0002.jpg", photos / "top.jpg")
    lib = Library(tmp_path / "lib", fingerprint())
    summary, _ = run_index(lib, engine, photos, recursive=False)
    assert summary.photos_found == 1


def test_cancel_keeps_what_was_done_and_resumes(engine, tmp_path):
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio", "andre_agassi"], per_person=4)
    lib = Library(tmp_path / "lib", fingerprint())
    seen = {"n": 0}

    def stop_after_three():
        return seen["n"] >= 3

    for p in index_folder(lib, engine, photos, should_stop=stop_after_three, commit_every=1):
        if p.stage == "indexing" and p.done:
            seen["n"] = p.done
        last = p
    assert last.summary.cancelled
    done_first = lib.stats()["photos"]
    assert 3 <= done_first < 12
    summary, _ = run_index(lib, engine, photos)
    assert summary.unchanged == done_first
    assert lib.stats()["photos"] == 12


def _cli(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "facefinder.cli", *args], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_or_interrupted_indexing_resumes_and_loses_nothing(engine, tmp_path, sig):
    psutil = pytest.importorskip("psutil")
    photos = tmp_path / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio", "andre_agassi", "ari_fleischer",
                        "abdullah_gul", "adrien_brody", "alejandro_toledo", "ali_naimi"],
               per_person=5)  # 40 LFW photos
    lib_path = tmp_path / "lib"
    env = dict(os.environ, FACEFINDER_WORKERS="2")  # photos analysed in parallel, on any machine
    proc = _cli("index", str(photos), "--library", str(lib_path), "-q", env=env)
    deadline = time.monotonic() + 240
    db = lib_path / "catalog.sqlite"
    while committed_photos(db) < 8 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    committed = committed_photos(db)
    assert 8 <= committed < 40, "indexing finished before it could be interrupted"
    started = psutil.Process(proc.pid).children(recursive=True)  # any worker processes
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130, err
        assert "Stopped" in out
    # nothing the indexer started outlives it (its workers are threads of its own process)
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []
    assert [p for p in psutil.process_iter(["ppid"]) if p.info["ppid"] == proc.pid] == []

    lib = Library(lib_path, fingerprint())
    assert lib.stats()["photos"] >= committed  # nothing committed was lost
    # every photo in the catalog is complete: faces present with valid embeddings
    ids, emb = lib.all_embeddings()
    assert len(ids) >= committed
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    lib.close()

    # the next run resumes: only the rest is processed
    proc = _cli("index", str(photos), "--library", str(lib_path), env=env)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    lib = Library(lib_path, fingerprint())
    stats = lib.stats()
    assert stats["photos"] == 40 and stats["skipped"] == 0
    # no duplicates: one row per photo, and the same faces as a clean run would give
    per_photo = {}
    for path, box, _, _ in lib.export_rows():
        per_photo.setdefault(path, []).append(box)
    clean = Library(tmp_path / "clean", fingerprint())
    for _ in index_folder(clean, engine, photos):
        pass
    clean_per_photo = {}
    for path, box, _, _ in clean.export_rows():
        clean_per_photo.setdefault(path, []).append(box)
    assert {k: sorted(v) for k, v in per_photo.items()} == \
        {k: sorted(v) for k, v in clean_per_photo.items()}
    # the HNSW index (stale or missing after the kill) agrees with exact search
    q = emb[0]
    hits = lib.search(q, k=10)
    ids, emb = lib.all_embeddings()
    exact = ids[np.argsort(np.linalg.norm(emb - q, axis=1))[:10]]
    assert [h.face.face_id for h in hits] == exact.tolist()
