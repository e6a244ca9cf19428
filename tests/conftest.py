"""Shared fixtures: real photos from ../shared/data, the real model, libraries in tmp folders.

The FaceNet weights must be in the cache (``facefinder model fetch``; ``.ci/run`` does it).
Each test gets its own data folder (libraries) through ``FACEFINDER_DATA_DIR``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FACEFINDER_TEST_DATA", REPO.parent / "shared" / "data"))
FACES = SHARED_DATA / "faces"
HOPKINS_1 = FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0001.jpg"
HOPKINS_2 = FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0002.jpg"
GROUPS = SHARED_DATA / "groups"
NONFACES = SHARED_DATA / "nonfaces"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not FACES.is_dir():
        pytest.fail(f"test photos not found at {SHARED_DATA} (set FACEFINDER_TEST_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Libraries made by a test live in its tmp folder, never in the user's data folder."""
    monkeypatch.setenv("FACEFINDER_DATA_DIR", str(tmp_path / "facefinder-data"))


@pytest.fixture(scope="session")
def engine():
    """The real engine (MTCNN + FaceNet), loaded once per test session."""
    from facefinder.core.pipeline import Engine

    eng = Engine()
    eng.load()
    return eng


@pytest.fixture
def no_leftover_threads():
    """Fails the test if it leaves non-daemon threads running."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate()
                if t not in before and t.is_alive() and not t.daemon]
    for t in leftover:
        t.join(timeout=5)
    leftover = [t for t in leftover if t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"


def copy_faces(dest: Path, people: list[str], per_person: int | None = None) -> list[Path]:
    """Copy some labelled photos into ``dest/<person>/``; returns the copies."""
    import shutil

    out = []
    for person in people:
        src = FACES / person
        files = sorted(src.iterdir())[:per_person]
        (dest / person).mkdir(parents=True, exist_ok=True)
        for f in files:
            target = dest / person / f.name
            shutil.copyfile(f, target)
            out.append(target)
    return out


def require_extra(module: str, extra: str):
    """Import an optional extra's package for a test module. Without it the module is skipped
    (a plain install), except in CI or with FACEFINDER_REQUIRE_EXTRAS set, where the extras are
    installed on purpose and a missing one must fail, not skip silently."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI") or os.environ.get("FACEFINDER_REQUIRE_EXTRAS"):
            pytest.fail(f"{module} is not installed but this run requires the extras "
                        f"(pip install -e '.[{extra}]'): {exc}", pytrace=False)
        pytest.skip(f"needs {module} (pip install 'facefinder[{extra}]')",
                    allow_module_level=True)


def library_contents(library) -> list[tuple]:
    """Every photo of a library with its faces, by path: ``(path, status, error, box,
    embedding or None)`` rows (embeddings as float32 arrays)."""
    import numpy as np

    rows = library.query(
        "SELECT photos.display, photos.status, photos.error, faces.x, faces.y, faces.w, faces.h, "
        "faces.embedding FROM photos LEFT JOIN faces ON faces.photo_id = photos.id "
        "ORDER BY photos.display, faces.id")
    return [(p, s, e, (x, y, w, h) if x is not None else None,
             np.frombuffer(emb, np.float32) if emb is not None else None)
            for p, s, e, x, y, w, h, emb in rows]


def assert_same_contents(a: list[tuple], b: list[tuple], tolerance: float = 1e-5) -> None:
    """Two :func:`library_contents` are the same photos, statuses, boxes, and embeddings within
    ``tolerance``."""
    import numpy as np

    assert [r[:4] for r in a] == [r[:4] for r in b]
    for ra, rb in zip(a, b):
        if ra[4] is not None:
            assert float(np.max(np.abs(ra[4] - rb[4]))) <= tolerance, ra[0]
