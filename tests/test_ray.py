"""Indexing on Ray (facefinder[ray]): the same faces as the plain run, resume after a cancel.

A private local Ray (2 CPUs, bound to 127.0.0.1, no dashboard) is started once for this module
and shut down after it. Real photos, the real model.
"""

from __future__ import annotations

import os
import shutil

import pytest

# Keep Ray on the loopback interface (read when ray is imported): it never probes the network.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from helpers import (FACES, GROUPS, NONFACES, assert_same_contents,  # noqa: E402
                      library_contents, require_extra)

ray = require_extra("ray", "ray")

from facefinder.core.distributed.ray_engine import RayEngine  # noqa: E402
from facefinder.core.library import Library  # noqa: E402
from facefinder.core.scan import index_folder  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             _node_ip_address="127.0.0.1", object_store_memory=128 << 20,
             log_to_driver=False, logging_level="ERROR")
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """15 photos: 4 group photos, 8 portraits of two people, 2 non-faces, 1 broken file."""
    folder = tmp_path_factory.mktemp("ray-photos")
    for src in sorted(GROUPS.iterdir()):
        shutil.copyfile(src, folder / src.name)
    for person in ("al_gore", "bill_clinton"):
        (folder / person).mkdir()
        for src in sorted((FACES / person).iterdir())[:4]:
            shutil.copyfile(src, folder / person / src.name)
    for src in sorted(NONFACES.iterdir())[:2]:
        shutil.copyfile(src, folder / src.name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


@pytest.fixture(scope="module")
def plain(photos, engine, tmp_path_factory):
    """The same photos indexed by the plain (local) engine."""
    with Library(tmp_path_factory.mktemp("plain") / "lib", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, photos):
            pass
        return library_contents(lib)


def _index(engine, folder, path, **kwargs):
    """``(photos done at each progress step, the summary, the library's contents)``."""
    done, summary = [], None
    with Library(path, engine.fingerprint) as lib:
        for p in index_folder(lib, engine, folder, **kwargs):
            if p.stage == "indexing":
                done.append(p.done)
            summary = p.summary or summary
        return done, summary, library_contents(lib)


def test_two_ray_workers_find_the_same_faces_as_the_plain_run(local_ray, photos, plain, tmp_path):
    with RayEngine(workers=2, chunk=3) as engine:
        done, summary, got = _index(engine, photos, tmp_path / "lib")
        assert engine._modes == ["paths", "paths"]  # auto: both workers see the files here
    assert summary.processed == 15 and not summary.cancelled
    assert done == list(range(16))  # progress after every photo, as in the plain run
    assert len([r for r in plain if r[3] is not None]) >= 25  # the photos hold many faces
    assert any(r[1] == "skipped" for r in plain)  # the broken file is skipped by both
    assert_same_contents(plain, got)


def test_shipped_bytes_give_the_same_faces(local_ray, photos, plain, tmp_path):
    """Workers that cannot see the files get the photos' bytes from the driver."""
    with RayEngine(workers=1, ship="bytes", chunk=4) as engine:
        _, _, got = _index(engine, photos, tmp_path / "lib")
        assert engine._modes == ["bytes"]
    assert_same_contents(plain, got)


def test_a_cancelled_ray_run_resumes_where_it_stopped(local_ray, photos, plain, tmp_path):
    seen = {"n": 0}

    def stop() -> bool:
        return seen["n"] >= 5

    with RayEngine(workers=2, chunk=2) as engine:
        with Library(tmp_path / "lib", engine.fingerprint) as lib:
            for p in index_folder(lib, engine, photos, should_stop=stop, commit_every=1):
                if p.stage == "indexing":
                    seen["n"] = p.done
            assert p.summary.cancelled and 5 <= p.summary.processed < 15
            first = p.summary.processed
            assert len(library_contents(lib)) > 0
        # The next run processes only the rest, and the library ends like the plain one.
        _, summary, got = _index(engine, photos, tmp_path / "lib")
    assert summary.processed == 15 - first
    assert summary.unchanged == first
    assert_same_contents(plain, got)


def test_a_worker_that_sees_another_model_is_refused(local_ray, monkeypatch):
    """Every worker must run the driver's model: a library never mixes embeddings."""
    from facefinder.core import facenet
    from facefinder.core.errors import ModelMismatchError

    monkeypatch.setattr(facenet, "fingerprint", lambda: "another-model")
    engine = RayEngine(workers=1)
    with pytest.raises(ModelMismatchError, match="another face model"):
        engine.load()
    assert not engine.loaded
