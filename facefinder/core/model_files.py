"""Model files are verified like the weights, never trusted because they load.

Every converted model (the FaceNet and MTCNN ``.tflite`` files, FaceNet's ``.npz`` fast form) is
checked before use in two ways:

* **its bytes**: the sha256 recorded when facefinder wrote the file (in ``models.json`` in the
  cache folder) must match. A stamp (size, mtime) makes this cost nothing until the file
  changes: it is hashed at most once per change.
* **what it computes**: a *self-check* runs the loaded network on a fixed synthetic input and
  compares the outputs with reference values stored in the package (``model_refs.json``,
  written by ``python -m facefinder.core.models --write-refs`` from models converted and
  cross-checked against TensorFlow). This catches damage the stamp cannot see (a file damaged
  before any sha was recorded, a cache from an older facefinder, a packaged app) and a
  conversion gone wrong. It also runs once per file change.

A file that fails is reported with :class:`~facefinder.core.errors.ModelDamagedError`; the engine
then deletes it (it is facefinder's own cache file, never a user's) and converts it again, or,
where it cannot (a packaged app has no TensorFlow), says so in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import ModelDamagedError
from .paths import cache_dir

MANIFEST = "models.json"
REFS_FILE = Path(__file__).with_name("model_refs.json")
TOLERANCE = 2e-3
"""Largest difference allowed between a self-check output and its reference (outputs are
probabilities, box offsets and unit-vector components; LiteRT and TensorFlow agree to ~1e-6)."""

_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest_path() -> Path:
    return cache_dir() / MANIFEST


def _read_manifest() -> dict:
    try:
        data = json.loads(_manifest_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(data: dict) -> None:
    """Atomic; a read-only cache folder is not an error (the checks then run on every start)."""
    path = _manifest_path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".models-", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # noqa: F821 - only bound when mkstemp succeeded
        except (OSError, NameError):
            pass


def _key(path: Path) -> str:
    return os.fsdecode(os.path.abspath(path))


def record_written(path: Path, data: bytes) -> None:
    """Remember the sha256 of a model file facefinder has just written (trusted bytes)."""
    with _lock:
        manifest = _read_manifest()
        st = os.stat(path)
        manifest[_key(path)] = {"sha256": hashlib.sha256(data).hexdigest(), "size": st.st_size,
                                "mtime_ns": st.st_mtime_ns, "checked": False}
        _write_manifest(manifest)


def forget(path: Path) -> None:
    with _lock:
        manifest = _read_manifest()
        if manifest.pop(_key(path), None) is not None:
            _write_manifest(manifest)


def verify(path: Path, self_check: Callable[[], None], name: str) -> str:
    """Check a model file's bytes and behaviour (module docstring); returns its sha256.

    ``self_check()`` raises ModelDamagedError when the loaded network computes the wrong thing.
    Cheap when the file has not changed since it last passed."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ModelDamagedError(f"The {name} model file {path} cannot be read "
                                f"({exc.strerror}).", path) from None
    with _lock:
        entry = _read_manifest().get(_key(path))
    if entry and entry.get("checked") and entry.get("size") == st.st_size \
            and entry.get("mtime_ns") == st.st_mtime_ns:
        return entry["sha256"]
    digest = sha256_file(path)
    if entry and entry.get("sha256") and entry["sha256"] != digest:
        raise ModelDamagedError(f"The {name} model file {path} is damaged (its sha256 is not the "
                                "one recorded when it was written).", path)
    self_check()
    with _lock:
        manifest = _read_manifest()
        manifest[_key(path)] = {"sha256": digest, "size": st.st_size,
                                "mtime_ns": st.st_mtime_ns, "checked": True}
        _write_manifest(manifest)
    return digest


# -- self-checks ------------------------------------------------------------------------------------
def reference_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A fixed input of ``shape`` (values about -1.5..1.5) that needs no random generator, so it
    is the same on every machine and numpy version."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    x = 1.2 * np.sin(0.0137 * i + seed) + 0.3 * np.cos(0.00091 * i * (seed + 1))
    return x.reshape(shape).astype(np.float32)


REF_SHAPES = {
    "facenet": (2, 160, 160, 3),
    "pnet": (1, 36, 30, 3),
    "rnet": (3, 24, 24, 3),
    "onet": (3, 48, 48, 3),
}


def _refs() -> dict:
    try:
        return json.loads(REFS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def by_last_dim(outputs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs keyed by their last dimension (MTCNN's nets: 2 = face probabilities, 4 = box
    offsets, 10 = landmarks; FaceNet: 128); the order of a converted model's outputs is not
    fixed across converter versions, their shapes are."""
    return {str(o.shape[-1]): np.asarray(o, np.float32) for o in outputs}


def compare(name: str, outputs: dict[str, np.ndarray], path: Path, ref: str | None = None
            ) -> None:
    """Raise ModelDamagedError unless ``outputs`` match the stored references ``ref`` (default:
    ``name``) of the model called ``name`` in messages."""
    want = _refs().get(ref or name)
    if not want:
        raise ModelDamagedError(f"No reference values for the {name} model; reinstall facefinder.")
    for key, ref in want.items():
        got = outputs.get(key)
        ref = np.asarray(ref, np.float32)
        if got is None or got.shape != ref.shape or not np.isfinite(got).all() \
                or float(np.max(np.abs(got - ref))) > TOLERANCE:
            raise ModelDamagedError(
                f"The {name} model file {path} is damaged: it does not compute what it should "
                "(its self-check on a fixed input failed).", path)


def check_lite(model, path: Path, name: str, ref: str) -> str:
    """Verify a LiteRT model just loaded from ``path`` (bytes, then behaviour on the fixed input
    for reference ``ref``: 'facenet', 'pnet', 'rnet' or 'onet'); returns its sha256."""

    def self_check() -> None:
        try:
            outputs = model.run(reference_input(REF_SHAPES[ref]))
        except Exception as exc:  # a damaged graph may fail to run at all
            raise ModelDamagedError(f"The {name} model file {path} is damaged ({exc}).",
                                    path) from None
        compare(name, by_last_dim(outputs), path, ref)

    return verify(path, self_check, name)
