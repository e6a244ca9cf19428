"""Plain helpers and constants for the tests (imported by name; fixtures are in conftest.py).

The test photos are read from ``../shared/data`` (or ``$FACEFINDER_TEST_DATA``).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
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
                         "copy_faces", "index_people_with_groups"})
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


def index_people_with_groups(root: Path, engine, people: list[str], per_person: int = 5,
                             group: bool = False) -> Path:
    """``root/photos``: ``per_person`` photos of each of ``people`` and every group photo,
    indexed with ``engine`` into the library ``root/lib`` (grouped into people when ``group``);
    returns ``root``. What the people tools' tests start from."""
    import shutil

    from facefinder.core import people as people_mod
    from facefinder.core.library import Library
    from facefinder.core.scan import index_folder

    copy_faces(root / "photos", people, per_person=per_person)
    (root / "photos" / "groups").mkdir()
    for src in sorted(GROUPS.iterdir()):
        shutil.copyfile(src, root / "photos" / "groups" / src.name)
    with Library(root / "lib", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, root / "photos"):
            pass
        if group:
            people_mod.cluster(lib)
    return root


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


def ff(*args, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``facefinder ARGS...`` (this checkout's CLI) in a fresh process; ``check``: it must
    exit 0. Returns the finished process (text output)."""
    proc = subprocess.run([sys.executable, "-m", "facefinder.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, env=env or dict(os.environ),
                          timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def committed_photos(catalog: Path, timeout: float = 5.0) -> int:
    """How many photos a library's catalog holds as committed, read by another connection
    (0 while it cannot be read): for watching a job in another process."""
    try:
        con = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=timeout)
        try:
            return con.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def unit(rng, n: int):
    """``n`` random unit vectors (n, 128) float32 from the numpy generator ``rng``."""
    import numpy as np

    v = rng.standard_normal((n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def photo_result(path, vectors):
    """A :class:`~facefinder.core.pipeline.PhotoResult` of a 100 x 100 photo at ``path`` with
    one small face per row of ``vectors`` (no model: for the library's plumbing)."""
    import numpy as np

    from facefinder.core.pipeline import Face, PhotoResult

    faces = [Face((i, i, 10, 10), 0.99, np.zeros((5, 2), np.float32), v)
             for i, v in enumerate(vectors)]
    return PhotoResult(path=str(path), faces=faces, width=100, height=100)


def rss_mib() -> float:
    """This process's resident memory, MiB (Linux; NaN elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
