"""Damaged model files are found and made again (or reported in one line), never trusted: no
NaN distances, no photos wrongly judged to hold no face, no tracebacks. Each test damages a copy
of the real model cache (FACEFINDER_CACHE_DIR), never the shared one."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, HOPKINS_1, HOPKINS_2, NONFACES

pytestmark = pytest.mark.slow

ONET = "mtcnn-1.0.0-onet-lite-v1.tflite"


@pytest.fixture(scope="module")
def real_cache() -> Path:
    from facefinder.core import facenet, mtcnn_lite, weights
    from facefinder.core.pipeline import Engine

    Engine().load()  # converted and verified once, in the user's cache
    return weights.cached_weights().parent


@pytest.fixture
def cache(real_cache, tmp_path) -> Path:
    """A private copy of the model cache (what a test damages)."""
    from facefinder.core import facenet, mtcnn_lite, weights

    copy = tmp_path / "cache"
    copy.mkdir()
    names = [weights.WEIGHTS_FILE, weights.WEIGHTS_FILE + ".verified", facenet.lite_path().name,
             *(p.name for p in mtcnn_lite.lite_paths().values())]
    for name in names:
        shutil.copy2(real_cache / name, copy / name)
    return copy


def facenet_file(cache: Path) -> Path:
    return next(cache.glob("facenet-*-lite-*.tflite"))


def scribble(path: Path, spots: int = 64, seed: int = 0) -> None:
    """Random bytes over ``spots`` places in the second half of a file (the weights)."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for at in rng.integers(len(data) // 2, len(data) - 64, spots):
        data[at:at + 32] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def cli(cache: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "FACEFINDER_CACHE_DIR": str(cache), **(env or {})}
    return subprocess.run([sys.executable, "-m", "facefinder.cli", *args], capture_output=True,
                          text=True, env=full, timeout=900)


def test_damaged_facenet_is_made_again(cache):
    scribble(facenet_file(cache))
    proc = cli(cache, "compare", str(HOPKINS_1), str(HOPKINS_2), "--json")
    assert proc.returncode == 0, proc.stderr
    distance = json.loads(proc.stdout)["distance"]
    assert np.isfinite(distance) and abs(distance - 0.65) < 0.08
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "FaceNet" in lines[0] and "Made it again" in lines[0], lines
    again = cli(cache, "compare", str(HOPKINS_1), str(HOPKINS_2), "--json")
    assert again.returncode == 0 and again.stderr == ""
    assert json.loads(again.stdout)["distance"] == distance


def test_truncated_model_is_made_again(cache):
    onet = cache / ONET
    onet.write_bytes(onet.read_bytes()[: onet.stat().st_size // 3])
    proc = cli(cache, "compare", str(HOPKINS_1), str(HOPKINS_2), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "onet" in proc.stderr.lower() and "Made it again" in proc.stderr


def test_damage_in_a_cache_from_before_the_manifest_is_caught(cache):
    """No sha256 was ever recorded for these files (an older facefinder's cache): the
    self-check on a fixed input still finds a damaged ONet."""
    (cache / "models.json").unlink(missing_ok=True)
    scribble(cache / ONET, spots=40, seed=3)
    proc = cli(cache, "compare", str(HOPKINS_1), str(HOPKINS_2), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "self-check" in proc.stderr and "ONET" in proc.stderr


def test_without_tensorflow_a_damaged_model_is_one_clear_line(cache, tmp_path):
    """A packaged app cannot convert models: it must say so, not crash or answer NaN."""
    blocker = tmp_path / "no-tf"
    (blocker / "tensorflow").mkdir(parents=True)
    (blocker / "tensorflow" / "__init__.py").write_text("raise ImportError('not in this build')\n")
    scribble(facenet_file(cache))
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    proc = cli(cache, "compare", str(HOPKINS_1), str(HOPKINS_2), "--json", env=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "Traceback" not in proc.stderr, lines
    assert proc.stdout == ""


def test_no_face_verdicts_of_another_model_are_looked_at_again(tmp_path, engine):
    from facefinder.core.library import Library
    from facefinder.core.scan import index_folder

    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(HOPKINS_1, folder / "face.jpg")
    shutil.copyfile(next(NONFACES.iterdir()), folder / "nothing.jpg")
    lib = Library(tmp_path / "lib", engine.fingerprint)
    first = [p.summary for p in index_folder(lib, engine, folder) if p.summary][0]
    assert first.photos_without_faces == 1
    again = [p.summary for p in index_folder(lib, engine, folder) if p.summary][0]
    assert again.processed == 0 and again.unchanged == 2
    # As if a damaged detector had judged it: the next run looks again, and only at that photo.
    lib.query("SELECT 1")  # (the library is open; write through its own connection)
    with lib.transaction() as cur:
        cur.execute("UPDATE photos SET judged_by = 'detector with a damaged ONet' "
                    "WHERE status = 'noface'")
    third = [p.summary for p in index_folder(lib, engine, folder) if p.summary][0]
    assert third.processed == 1 and third.unchanged == 1 and third.photos_without_faces == 1
    lib.close()
