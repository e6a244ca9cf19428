"""Plain helpers and constants for the tests (imported by name; fixtures are in conftest.py).

The test photos are read from ``../shared/data`` (or ``$FACEFINDER_TEST_DATA``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("FACEFINDER_TEST_DATA", REPO.parent / "shared" / "data"))
FACES = SHARED_DATA / "faces"
HOPKINS_1 = FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0001.jpg"
HOPKINS_2 = FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0002.jpg"
GROUPS = SHARED_DATA / "groups"
NONFACES = SHARED_DATA / "nonfaces"
PHOTO_NAMES = frozenset({"SHARED_DATA", "FACES", "HOPKINS_1", "HOPKINS_2", "GROUPS", "NONFACES",
                         "copy_faces"})
"""The names of this module that reach the test photos: a test module that imports any of them
needs the photos (and, with them, the model), and is marked ``model`` (conftest.py)."""


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


def blob_vectors(centres: int, per: int, spread: float = 0.03, seed: int = 0):
    """``centres`` tight groups of ``per`` unit vectors (about 0.4 apart within a group, 1.4
    between groups): ``(vectors (centres * per, 128) float32, group of each, the centres
    (centres, 128) float32)``; stand-ins for the faces of a few people, without the model."""
    import numpy as np

    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centres, 128))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    v = np.repeat(c, per, axis=0) + rng.normal(0, spread, (centres * per, 128))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float32), np.repeat(np.arange(centres), per), c.astype(np.float32)
