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
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from . import facenet, weights
from .align import Pipeline, face_crop, pipeline as named_pipeline, using_pipeline
from .detect import DETECTOR_VERSION, DetectedFace, Detector, DetectOptions
from .errors import FacefinderError, ImageError, ModelDamagedError, NoFaceError, notice
from .faces import Face, PhotoResult, decode_for_detection
from .images import Photo, load_photo
from .model_files import forget
from .paths import cache_dir
from .progress import Progress
from .tflite import resolve_backend
from .workers import analyse_in_parallel, default_workers
MIN_EARLY_BATCH = 8
"""Faces the parallel pipeline embeds while it waits for the next photo (fewer wait for more)."""
PARALLEL_BATCH = 16
"""Largest FaceNet batch of the parallel pipeline (see :meth:`Engine._process_in_parallel`)."""


class Engine:
    """Detector + FaceNet. Thread-affine: use one Engine from one thread at a time."""

    def __init__(self, options: DetectOptions = DetectOptions(), batch_size: int = 32,
                 progress: Progress | None = None, backend: str | None = None,
                 pipeline: str | Pipeline | None = None, workers: int | None = None):
        """``backend``: "lite" (LiteRT), "tf" (full TensorFlow) or None/"auto" (see load()).
        ``pipeline``: how boxes become embeddings (a name from
        :data:`~facefinder.core.align.PIPELINES`; None: the default). ``workers``: photo
        workers for :meth:`process_paths` (None: one per core, see
        :func:`~facefinder.core.workers.default_workers`; 1: one photo at a time)."""
        self.backend = backend
        self.pipeline: Pipeline = named_pipeline(pipeline)
        self.workers = workers
        self.options = options
        self.batch_size = batch_size
        self._progress = progress
        self._detector = None
        self._facenet = None
        self._judged_by = ""
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
            backend = resolve_backend(self.backend)
            # The .h5, or in a packaged app (no TensorFlow to convert with) FaceNet already
            # converted for LiteRT.
            weights_file = weights.fetch_weights(self._progress)
            if self._progress:
                first = backend == "lite" and not facenet.lite_path().is_file()
                self._progress("Preparing the face models (once, about a minute)" if first
                               else "Loading the face model", 0, 0)
            repaired: list[ModelDamagedError] = []
            while True:
                try:
                    if backend == "lite":
                        net = facenet.FaceNetLite(facenet.ensure_lite_model(weights_file))
                    else:
                        net = facenet.FaceNet(facenet.ensure_fast_form(weights_file))
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
        return facenet.fingerprint()

    @property
    def judged_by(self) -> str:
        """Who judges a photo: the models (by their verified bytes) and the detector settings.
        Stored with photos found to hold no face, so that a later run with a repaired or other
        model, or other settings, looks at them again."""
        self.load()
        o = self.options
        return (f"{self._judged_by};min_face={o.min_face};detect_size={o.detect_size};"
                f"thresholds={','.join(map(str, o.thresholds))}")

    def using(self, pipeline: str | Pipeline | None):
        """Run the ``with`` block with another :attr:`pipeline` (a library's own), then put the
        previous one back."""
        return using_pipeline(self, pipeline)

    # -- single photos ------------------------------------------------------------------------
    def detect(self, photo: Photo) -> list[DetectedFace]:
        self.load()
        return self._detector.detect(photo, self.options)

    def embed(self, tensors: np.ndarray, batch: int | None = None) -> np.ndarray:
        """(N, 160, 160, 3) prewhitened float32 -> (N, 128) unit-norm float32, in batches of
        ``batch`` (default :attr:`batch_size`)."""
        self.load()
        batch = batch or self.batch_size
        out = [self._facenet.embed(tensors[i:i + batch]) for i in range(0, len(tensors), batch)]
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

    def face_tensors(self, photo: Photo, faces: list) -> np.ndarray:
        """(N, 160, 160, 3) prewhitened crops of ``faces`` (anything with ``box`` and
        ``landmarks`` in photo pixels), cut the way :attr:`pipeline` says. Boxes are rounded to
        whole pixels first, as the library stores them, so that re-embedding a stored face
        (:mod:`facefinder.core.upgrade`) gives exactly the embedding indexing gave."""
        if not faces:
            return np.zeros((0, 160, 160, 3), np.float32)
        crop = self.pipeline.crop
        return np.stack([photo.face_tensor(_int_box(f.box), crop, f.landmarks) for f in faces])

    def embed_faces(self, tensors: np.ndarray, batch: int | None = None) -> np.ndarray:
        """Embeddings of face crops from :meth:`face_tensors`: :meth:`embed`, or with a flipping
        pipeline the normalized mean of each crop's and its mirror image's embeddings."""
        if not self.pipeline.flip or not len(tensors):
            return self.embed(tensors, batch)
        e = (self.embed(tensors, batch)
             + self.embed(np.ascontiguousarray(tensors[:, :, ::-1]), batch))
        return (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)

    def faces_in_photo(self, photo: Photo) -> list[Face]:
        """Every face of a decoded photo, largest first, embedded."""
        detected = self.detect(photo)
        if not detected:
            return []
        return _faces(detected, self.embed_faces(self.face_tensors(photo, detected)))

    def faces_in_file(self, path: str | os.PathLike) -> tuple[Photo, list[Face]]:
        """Decode and analyse one file. Raises ImageError for unreadable files."""
        photo = load_photo(path)
        return photo, self.faces_in_photo(photo)

    def query_face(self, path: str | os.PathLike, face_index: int | None = None
                   ) -> tuple[Photo, list[Face], int]:
        """The faces of a query photo (largest first) and the index of the chosen one (by
        default the most prominent: :func:`main_face`). Raises NoFaceError when there is none,
        FacefinderError for a bad ``face_index``."""
        photo, faces = self.faces_in_file(path)
        if not faces:
            raise NoFaceError(f"{path}: no face found in this photo")
        index = main_face(faces, photo.width, photo.height) if face_index is None else face_index
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
                    futures.append((nxt, pool.submit(decode_for_detection, nxt, self.options)))

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
                    tensors = self.face_tensors(photo, detected)
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
                                        self.face_tensors, should_stop, ahead=prefetch):
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
        else:
            embeddings = self.embed_faces(np.concatenate(tensors), chunk)
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


def prominence(box, confidence: float, width: int, height: int) -> float:
    """How much a face is the photo's subject: its size (the square root of the box's area as a
    share of the photo's shorter side) times the detector's confidence times how central it is
    (1 at the centre, 0.5 in a corner). ``facefinder evaluate`` measured it against "the largest
    box" as the query's face (README, "Quality")."""
    x, y, w, h = (float(v) for v in box)
    size = np.sqrt(max(w, 1.0) * max(h, 1.0)) / max(1.0, min(width, height))
    cx, cy = (x + w / 2) / max(width, 1), (y + h / 2) / max(height, 1)
    off_centre = min(1.0, float(np.hypot(cx - 0.5, cy - 0.5) / np.hypot(0.5, 0.5)))
    return float(size * confidence * (1.0 - 0.5 * off_centre))


def main_face(faces: list, width: int, height: int) -> int:
    """Index of the most prominent of ``faces`` (anything with ``box`` and ``confidence``); the
    face a query uses unless told otherwise. 0 for an empty list."""
    if not faces:
        return 0
    scores = [prominence(f.box, f.confidence, width, height) for f in faces]
    return int(np.argmax(scores))


def _int_box(box) -> tuple[int, int, int, int]:
    return tuple(int(round(float(v))) for v in box)


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


def crop_image(path: str | os.PathLike, box, size: int = 160, landmarks=None,
               pipeline: str | Pipeline | None = None):
    """The crop of a face as a PIL image (thumbnails, comparisons), framed as ``pipeline``
    (default: the default pipeline) frames it for FaceNet."""
    photo = load_photo(path)
    p = named_pipeline(pipeline)
    return face_crop(photo.image, box, size=size, spec=p.crop, landmarks=landmarks)


def largest_face_embedding(engine: Engine, path: str | os.PathLike) -> np.ndarray:
    """The 128-D embedding of the largest face in a photo; raises NoFaceError if none."""
    _, faces, i = engine.query_face(path)
    return faces[i].embedding

