"""The photo workers: several photos at once give what one at a time gives, in order, and leave
nothing running behind them (stopped, closed early, or failing)."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from helpers import FACES, GROUPS, HOPKINS_1, NONFACES, SHARED_DATA
from facefinder.core.pipeline import Engine


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("facefinder-photo")]


@pytest.fixture(scope="module")
def camera_photos(tmp_path_factory):
    """Three 4000x3000 photos (decoded reduced, some faces cropped from a full decode)."""
    from facefinder.synthetic import make_camera_corpus

    folder = tmp_path_factory.mktemp("camera")
    make_camera_corpus(SHARED_DATA, folder, 3, seed=7)
    return sorted(str(p) for p in folder.iterdir())


@pytest.fixture(scope="module")
def mixed_paths(tmp_path_factory, camera_photos):
    folder = tmp_path_factory.mktemp("mixed")
    bad = folder / "broken.jpg"
    bad.write_bytes(HOPKINS_1.read_bytes()[:3000])
    faces = sorted((FACES / "al_gore").iterdir())[:3]
    return [*map(str, faces), camera_photos[0], str(bad), str(GROUPS / "insightface_t1.jpg"),
            str(NONFACES / "skimage_coffee.png"), *camera_photos[1:], str(HOPKINS_1)]


def test_several_workers_give_the_single_pipelines_results_in_order(engine, mixed_paths):
    single = Engine(workers=1)
    single.load()
    one = list(single.process_paths(mixed_paths))
    engine.workers = 3
    try:
        many = list(engine.process_paths(mixed_paths))
    finally:
        engine.workers = None
    assert [r.path for r in many] == [r.path for r in one] == mixed_paths
    for a, b in zip(one, many):
        assert a.error == b.error
        assert (a.width, a.height) == (b.width, b.height)
        assert [f.box for f in a.faces] == [f.box for f in b.faces], a.path
        for fa, fb in zip(a.faces, b.faces):
            np.testing.assert_allclose(fa.embedding, fb.embedding, atol=1e-4)
    broken = next(r for r in many if r.path.endswith("broken.jpg"))
    assert "truncated" in broken.error and broken.faces == []
    assert sum(len(r.faces) for r in many) >= 12
    assert _worker_threads() == []


def test_stopping_or_closing_early_ends_the_workers(engine, camera_photos, no_leftover_threads):
    paths = camera_photos * 3
    engine.workers = 2
    try:
        seen = []
        for result in engine.process_paths(paths, should_stop=lambda: len(seen) >= 2):
            seen.append(result)
        assert 2 <= len(seen) < len(paths)  # stopped after the batch it was in
        assert _worker_threads() == []

        gen = engine.process_paths(paths)
        next(gen)
        gen.close()  # what index_folder's caller does when it breaks off
        assert _worker_threads() == []
    finally:
        engine.workers = None


class _FailingDetector:
    """Plumbing only: a detector that breaks on the second photo it sees."""

    def __init__(self):
        self.calls = 0

    def detect_array(self, pixels, options, scale):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("detector broke")
        return []


def test_an_unexpected_error_in_a_worker_reaches_the_caller_and_ends_the_workers(
        engine, tmp_path, no_leftover_threads):
    from facefinder.core.workers import analyse_in_parallel

    for i in range(6):
        shutil.copyfile(HOPKINS_1, tmp_path / f"{i}.jpg")
    paths = sorted(str(p) for p in tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="detector broke"):
        for _ in analyse_in_parallel(paths, [_FailingDetector()], engine.options,
                                     engine.face_tensors):
            pass
    assert _worker_threads() == []


def test_worker_count_comes_from_the_environment(monkeypatch):
    from facefinder.core.workers import MAX_DEFAULT_WORKERS, default_workers

    monkeypatch.setenv("FACEFINDER_WORKERS", "1")
    assert default_workers() == 1
    monkeypatch.setenv("FACEFINDER_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.delenv("FACEFINDER_WORKERS")
    assert 1 <= default_workers() <= MAX_DEFAULT_WORKERS
