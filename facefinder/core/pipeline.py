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
from typing import Callable, Iterable, Iterator

import numpy as np

from .align import face_crop
from .detect import DetectedFace, DetectOptions, copy_side
from .errors import FacefinderError, ImageError, NoFaceError
from .images import Photo, load_photo

Progress = Callable[[str, int, int], None]
MIN_EARLY_BATCH = 8
"""Faces the parallel pipeline embeds while it waits for the next photo (fewer wait for more)."""
PARALLEL_BATCH = 16
"""Largest FaceNet batch of the parallel pipeline (see :meth:`Engine._process_in_parallel`)."""


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
                 progress: Progress | None = None, backend: str | None = None,
                 workers: int | None = None):
        """``backend``: "lite" (LiteRT), "tf" (full TensorFlow) or None/"auto" (see load()).
        ``workers``: photo workers for :meth:`process_paths` (None: one per core, see
        :func:`~facefinder.core.workers.default_workers`; 1: one photo at a time)."""
        self.backend = backend
        self.workers = workers
        self.options = options
        self.batch_size = batch_size
        self._progress = progress
        self._detector = None
        self._facenet = None
        self._photo_detectors: list = []  # one per photo worker, made on first use
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
            if backend == "lite":
                net = facenet.FaceNetLite(facenet.ensure_lite_model(h5))
            else:
                net = facenet.FaceNet(facenet.ensure_fast_form(h5))
            self._detector = Detector(backend)
            self.backend = backend
            self._facenet = net  # last: `loaded` turns true only when both are ready

    @property
    def loaded(self) -> bool:
        return self._facenet is not None

    @property
    def fingerprint(self) -> str:
        from .facenet import fingerprint

        return fingerprint()

    # -- single photos ------------------------------------------------------------------------
    def detect(self, photo: Photo) -> list[DetectedFace]:
        self.load()
        return self._detector.detect(photo, self.options)

    def embed(self, tensors: np.ndarray) -> np.ndarray:
        """(N, 160, 160, 3) prewhitened float32 -> (N, 128) unit-norm float32, in batches."""
        self.load()
        out = [self._facenet.embed(tensors[i:i + self.batch_size])
               for i in range(0, len(tensors), self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, 128), np.float32)

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
        """Yield one :class:`PhotoResult` per path, in order. Photos are decoded, searched and
        cropped by several worker threads at once (:mod:`~facefinder.core.workers`; with one
        worker, or on the tf backend, decoding runs ahead on a helper thread and the rest one
        photo at a time); faces are embedded in batches across photos. Unreadable files yield a
        result with ``error`` set. Stops early (after the current batch) when ``should_stop()``."""
        self.load()
        paths = list(paths)
        from .workers import default_workers

        workers = self.workers or default_workers()
        if workers > 1 and self.backend == "lite":
            yield from self._process_in_parallel(paths, should_stop, workers, prefetch)
            return
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

    def _process_in_parallel(self, paths: list[str], should_stop: Callable[[], bool],
                             workers: int, prefetch: int) -> Iterator[PhotoResult]:
        from .detect import Detector
        from .workers import analyse_in_parallel

        while len(self._photo_detectors) < workers:
            # One LiteRT thread each: the workers are the parallelism (LiteRT's own threads scale
            # poorly on PNet's small tiles and RNet's small batches).
            self._photo_detectors.append(Detector(self.backend, num_threads=1))
        # FaceNet's working memory grows with its batch (about 100 MB at 32 faces), and past 16
        # faces a batch is no faster per face on one core: with the workers' photos in memory
        # too, the batches here stay at 16.
        chunk = min(self.batch_size, PARALLEL_BATCH)
        pending: deque[tuple[PhotoResult, list[DetectedFace], np.ndarray]] = deque()
        queued_faces = 0
        for item in analyse_in_parallel(paths, self._photo_detectors[:workers], self.options,
                                        should_stop, ahead=prefetch):
            if item is None:
                # The next photo is not ready: embed what is waiting rather than wait too
                # (FaceNet lets go of the GIL, so the workers keep going meanwhile), once there
                # are enough faces for a batch to pay (one at a time costs 15% more per face).
                if queued_faces >= MIN_EARLY_BATCH:
                    yield from self._flush(pending, chunk)
                    queued_faces = 0
                continue
            if not pending:
                oldest = time.monotonic()
            pending.append((item.result, item.detected, item.tensors))
            queued_faces += len(item.detected)
            if (queued_faces >= chunk or len(pending) >= self.max_pending_photos
                    or time.monotonic() - oldest > self.max_pending_seconds):
                yield from self._flush(pending, chunk)
                queued_faces = 0
        if pending and not should_stop():
            yield from self._flush(pending, chunk)

    def _flush(self, pending: deque, chunk: int | None = None) -> Iterator[PhotoResult]:
        """Embed the faces of ``pending`` photos (``chunk`` faces per FaceNet run, default
        ``batch_size``) and yield the photos' results."""
        tensors = [t for _, _, t in pending if len(t)]
        if not tensors:
            embeddings = np.zeros((0, 128), np.float32)
        elif chunk:
            both = np.concatenate(tensors)
            embeddings = np.concatenate([self._facenet.embed(both[i:i + chunk])
                                         for i in range(0, len(both), chunk)])
        else:
            embeddings = self.embed(np.concatenate(tensors))
        offset = 0
        while pending:
            result, detected, t = pending.popleft()
            n = len(detected)
            result.faces = _faces(detected, embeddings[offset:offset + n])
            offset += n
            yield result


def _decode_for_detection(path: str, options: DetectOptions) -> tuple[Photo, np.ndarray, float]:
    # Decoded whole, once, and the detection copy made from that. A DCT-scaled decode (1/2) is
    # only a fifth cheaper for a 12 Mpx JPEG (reading the entropy-coded data costs the same at
    # any scale), and any face under about 280 px then needs a full decode as well for its crop
    # (most photos of people have one): measured on camera-size photos with 1-4 faces, decoding
    # whole at once took 85 ms a photo where reduced-then-full took 140.
    photo = load_photo(path)
    pixels, scale = photo.detection_copy(copy_side(options, photo.width, photo.height))
    return photo, pixels, scale


def _faces(detected: list[DetectedFace], embeddings: np.ndarray) -> list[Face]:
    return [
        Face(d.int_box(), d.confidence, d.landmarks.astype(np.float32), e.astype(np.float32))
        for d, e in zip(detected, embeddings)
    ]


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

