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
