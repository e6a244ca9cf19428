"""Photo -> faces -> embeddings: the engine every front end drives.

:class:`Engine` owns the detector and FaceNet and creates them lazily, on first use, on the
thread that first uses it. Nothing is loaded at import time.

Embedding is batched across photos: :meth:`Engine.process_paths` decodes the next photos on a
helper thread while the current ones run through MTCNN, and sends faces to FaceNet in batches of
``batch_size`` (FaceNet runs about twice as fast per face in batches of 32 as one at a time).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .align import face_crop
from .detect import DetectedFace, DetectOptions
from .errors import FacefinderError, ImageError, ModelDamagedError, NoFaceError, notice
from .images import Photo, load_photo

Progress = Callable[[str, int, int], None]


@dataclass
class Face:
    """A detected and embedded face. ``box`` is (x, y, w, h) in integer photo pixels;
    ``landmarks`` (5, 2) float32; ``embedding`` (128,) float32, unit norm."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: np.ndarray
    embedding: np.ndarray

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


@dataclass
class PhotoResult:
    """What one photo gave: its faces (largest first), or ``error`` when it was skipped."""

    path: str
    faces: list[Face] = field(default_factory=list)
    error: str | None = None
    width: int = 0
    height: int = 0


class Engine:
    """Detector + FaceNet. Thread-affine: use one Engine from one thread at a time."""

    def __init__(self, options: DetectOptions = DetectOptions(), batch_size: int = 32,
                 progress: Progress | None = None, backend: str | None = None):
        """``backend``: "lite" (LiteRT), "tf" (full TensorFlow) or None/"auto" (see load())."""
        self.backend = backend
        self.options = options
        self.batch_size = batch_size
        self._progress = progress
        self._detector = None
        self._facenet = None
        self._judged_by = ""
        self._lock = threading.Lock()
        self.max_pending_photos = 16
        self.max_pending_seconds = 1.5

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Fetch the weights if needed and build both networks (a fraction of a second on the
        lite backend once its models are cached; a few seconds on TensorFlow).

        The backend is ``self.backend`` if set (``"auto"``, ``"lite"`` or ``"tf"``), else
        ``FACEFINDER_BACKEND``, else auto (LiteRT when installed); afterwards ``self.backend``
        says which one runs. The lite backend imports TensorFlow only to convert missing
        ``.tflite`` files into the cache, once.
        """
        with self._lock:
            if self._facenet is not None:
                return
            from . import facenet, weights
            from .detect import Detector
            from .tflite import resolve_backend

            backend = resolve_backend(self.backend)
            h5 = weights.fetch_weights(self._progress)
            if self._progress:
                first = backend == "lite" and not facenet.lite_path().is_file()
                self._progress("Preparing the face models (once, about a minute)" if first
                               else "Loading the face model", 0, 0)
            repaired: list[ModelDamagedError] = []
            while True:
                try:
                    if backend == "lite":
                        net = facenet.FaceNetLite(facenet.ensure_lite_model(h5))
                    else:
                        net = facenet.FaceNet(facenet.ensure_fast_form(h5))
                    detector = Detector(backend)
                    break
                except ModelDamagedError as exc:
                    # Delete the damaged file (ours, in the cache) and make it again; at most
                    # once per file.
                    if exc.path in {r.path for r in repaired} or not _discard_damaged(exc):
                        raise
                    repaired.append(exc)
            for exc in repaired:
                notice(f"{exc} Made it again from the weights.")
            self._detector = detector
            self.backend = backend
            self._judged_by = _judged_by(backend, net, detector)
            self._facenet = net  # last: `loaded` turns true only when both are ready

    @property
    def loaded(self) -> bool:
        return self._facenet is not None

    def unload(self) -> None:
        """Drop both networks and give their memory back to the system (about 200 MB); the next
        call loads them again. A one-shot search calls this between embedding the query and
        loading a large library's index, so that the two never take memory at the same time."""
        with self._lock:
            self._detector = None
            self._facenet = None
        release_memory()

    @property
    def fingerprint(self) -> str:
        from .facenet import fingerprint

        return fingerprint()

    @property
    def judged_by(self) -> str:
        """Who judges a photo: the models (by their verified bytes) and the detector settings.
        Stored with photos found to hold no face, so that a later run with a repaired or other
        model, or other settings, looks at them again."""
        self.load()
        o = self.options
        return (f"{self._judged_by};min_face={o.min_face};detect_size={o.detect_size};"
                f"thresholds={','.join(map(str, o.thresholds))}")

    # -- single photos ------------------------------------------------------------------------
    def detect(self, photo: Photo) -> list[DetectedFace]:
        self.load()
        return self._detector.detect(photo, self.options)

    def embed(self, tensors: np.ndarray) -> np.ndarray:
        """(N, 160, 160, 3) prewhitened float32 -> (N, 128) unit-norm float32, in batches."""
        self.load()
        out = [self._facenet.embed(tensors[i:i + self.batch_size])
               for i in range(0, len(tensors), self.batch_size)]
        if not out:
            return np.zeros((0, 128), np.float32)
        emb = np.concatenate(out)
        norms = np.linalg.norm(emb, axis=1)
        if not np.isfinite(emb).all() or float(np.max(np.abs(norms - 1.0))) > 1e-3:
            # Never let a damaged model's output reach a library or a verdict.
            raise ModelDamagedError("The face model gave invalid embeddings (not finite unit "
                                    "vectors); its files may be damaged: run `facefinder model "
                                    "fetch` to check and repair them.")
        return emb

    def faces_in_photo(self, photo: Photo) -> list[Face]:
        """Every face of a decoded photo, largest first, embedded."""
        detected = self.detect(photo)
        if not detected:
            return []
        tensors = np.stack([photo.face_tensor(d.box) for d in detected])
        return _faces(detected, self.embed(tensors))

    def faces_in_file(self, path: str | os.PathLike) -> tuple[Photo, list[Face]]:
        """Decode and analyse one file. Raises ImageError for unreadable files."""
        photo = load_photo(path)
        return photo, self.faces_in_photo(photo)

    def query_face(self, path: str | os.PathLike, face_index: int | None = None
                   ) -> tuple[Photo, list[Face], int]:
        """The faces of a query photo and the index of the chosen one (largest by default).
        Raises NoFaceError when there is none, FacefinderError for a bad ``face_index``."""
        photo, faces = self.faces_in_file(path)
        if not faces:
            raise NoFaceError(f"{path}: no face found in this photo")
        index = 0 if face_index is None else face_index
        if not 0 <= index < len(faces):
            raise FacefinderError(
                f"{path}: there is no face {index}; this photo has {len(faces)} "
                f"(numbered 0 to {len(faces) - 1}, largest first)"
            )
        return photo, faces, index

    # -- many photos --------------------------------------------------------------------------
    def process_paths(self, paths: Iterable[str], should_stop: Callable[[], bool] = lambda: False,
                      prefetch: int = 2) -> Iterator[PhotoResult]:
        """Yield one :class:`PhotoResult` per path, in order. Decoding runs ahead on a helper
        thread; faces are embedded in batches across photos. Unreadable files yield a result
        with ``error`` set. Stops early (after the current batch) when ``should_stop()``."""
        self.load()
        paths = list(paths)
        pending: deque[tuple[PhotoResult, list[DetectedFace], np.ndarray]] = deque()
        queued_faces = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="facefinder-decode") as pool:
            futures: deque[tuple[str, Future]] = deque()
            it = iter(paths)

            def refill() -> None:
                while len(futures) < prefetch:
                    nxt = next(it, None)
                    if nxt is None:
                        return
                    futures.append((nxt, pool.submit(_decode_for_detection, nxt, self.options)))

            refill()
            while futures:
                if should_stop():
                    for _, fut in futures:
                        fut.cancel()
                    break
                path, fut = futures.popleft()
                refill()
                result = PhotoResult(path=path)
                try:
                    photo, pixels, scale = fut.result()
                    result.width, result.height = photo.width, photo.height
                    detected = self._detector.detect_array(pixels, self.options, scale)
                    tensors = (np.stack([photo.face_tensor(d.box) for d in detected])
                               if detected else np.zeros((0, 160, 160, 3), np.float32))
                except ImageError as exc:
                    result.error = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
                    detected, tensors = [], np.zeros((0, 160, 160, 3), np.float32)
                except MemoryError:
                    result.error = "image too large to process in memory"
                    detected, tensors = [], np.zeros((0, 160, 160, 3), np.float32)
                if not pending:
                    oldest = time.monotonic()
                pending.append((result, detected, tensors))
                queued_faces += len(detected)
                # Flush a full FaceNet batch, or sooner so that progress (and commits) keep
                # flowing on photos with few faces.
                if (queued_faces >= self.batch_size or len(pending) >= self.max_pending_photos
                        or time.monotonic() - oldest > self.max_pending_seconds or not futures):
                    yield from self._flush(pending)
                    queued_faces = 0
            if pending and not should_stop():
                yield from self._flush(pending)

    def _flush(self, pending: deque) -> Iterator[PhotoResult]:
        tensors = [t for _, _, t in pending if len(t)]
        embeddings = self.embed(np.concatenate(tensors)) if tensors else np.zeros((0, 128))
        offset = 0
        while pending:
            result, detected, t = pending.popleft()
            n = len(detected)
            result.faces = _faces(detected, embeddings[offset:offset + n])
            offset += n
            yield result


def _discard_damaged(exc: ModelDamagedError) -> bool:
    """Delete a damaged model file from facefinder's cache so that it is made again (never a
    file outside the cache, such as one shipped inside a packaged app). Returns whether it did."""
    from .model_files import forget
    from .paths import cache_dir

    path = exc.path
    if path is None:
        return False
    path = Path(path)
    try:
        inside = Path(os.path.realpath(path)).parent == Path(os.path.realpath(cache_dir()))
    except OSError:
        return False
    if not inside or not path.is_file():
        return False
    try:
        path.unlink()
    except OSError:
        return False
    forget(path)
    return True


def _judged_by(backend: str, net, detector) -> str:
    from .detect import DETECTOR_VERSION

    shas = getattr(getattr(detector, "_lite", None), "sha256", None)
    if shas:
        models = "mtcnn-lite:" + "+".join(shas[n][:12] for n in sorted(shas))
    else:
        from importlib.metadata import PackageNotFoundError, version

        try:
            models = f"mtcnn-tf:{version('mtcnn')}"
        except PackageNotFoundError:
            models = "mtcnn-tf"
    return f"detector-v{DETECTOR_VERSION};{models};facenet:{getattr(net, 'sha256', '?')[:12]}"


def _decode_for_detection(path: str, options: DetectOptions) -> tuple[Photo, np.ndarray, float]:
    # Large JPEGs are decoded at a DCT scale still bigger than the detection copy (4x faster
    # for a 12 Mpx photo); faces too small to crop from it are cropped from a full decode.
    photo = load_photo(path, max_side_hint=options.detect_size or None)
    pixels, scale = photo.detection_copy(options.detect_size)
    return photo, pixels, scale


def _faces(detected: list[DetectedFace], embeddings: np.ndarray) -> list[Face]:
    return [
        Face(d.int_box(), d.confidence, d.landmarks.astype(np.float32), e.astype(np.float32))
        for d, e in zip(detected, embeddings)
    ]


def release_memory() -> None:
    """Collect garbage and hand freed heap memory back to the OS (glibc keeps it otherwise, and
    a process's peak memory counts it)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two unit-norm embeddings (0 = identical, 2 = opposite)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def crop_image(path: str | os.PathLike, box, size: int = 160):
    """The aligned crop of a face as a PIL image (thumbnails, comparisons)."""
    photo = load_photo(path)
    return face_crop(photo.image, box, size=size)


def largest_face_embedding(engine: Engine, path: str | os.PathLike) -> np.ndarray:
    """The 128-D embedding of the largest face in a photo; raises NoFaceError if none."""
    _, faces, i = engine.query_face(path)
    return faces[i].embedding

