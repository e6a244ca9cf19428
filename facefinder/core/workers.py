"""Indexing's heavy part on several threads: each photo decoded, searched for faces and cropped.

:func:`analyse_in_parallel` gives each of its worker threads a detector of its own (MTCNN on
LiteRT with one thread) and hands them the photos of a list; the results come back in the list's
order. FaceNet, which embeds the crops of several photos at a time, stays with the caller
(:meth:`facefinder.core.pipeline.Engine.process_paths`), and so does everything that writes.

Threads, not processes: LiteRT lets go of the GIL while a model runs, and so do Pillow's decoder
and resizer and numpy's large array operations, so two threads keep two cores busy (the README's
profile has the figures). Worker processes would each need their own FaceNet (150-220 MB
each: XNNPack packs its weights per interpreter, and its working memory grows with the batch),
their own start-up (imports and models, about a second of CPU) and a way to clean up after a
parent that dies; threads die with their process, and share one FaceNet. Measured on 30
camera-size photos: two worker processes used as much CPU as two threads, and 1060 MiB of
memory together where the threads' process used 575.
"""

from __future__ import annotations

import os
import queue
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .detect import DetectedFace, Detector, DetectOptions
from .errors import ImageError
from .faces import PhotoResult, decode_for_detection
from .images import Photo

WORKERS_ENV = "FACEFINDER_WORKERS"
MAX_DEFAULT_WORKERS = 3
"""Each worker holds the photo it is on (about 70 MB for a 12 Mpx one: decoded, its copy and
the pyramid) and its own MTCNN (about 35 MB): indexing 12 Mpx photos took 590 MB with two
workers, 740 with three and 840 with four, over the 800 MB indexing may use."""


def default_workers() -> int:
    """How many photo workers to run: ``FACEFINDER_WORKERS`` if set (1 = the single pipeline,
    one photo at a time, as before), else one per core this process may use, at most
    :data:`MAX_DEFAULT_WORKERS`."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


@dataclass
class Analysed:
    """One photo after the workers: ``result`` (size, or ``error`` when it was skipped), the
    faces found (photo pixels) and their prewhitened crops ``(n, 160, 160, 3)`` float32, not yet
    embedded."""

    result: PhotoResult
    detected: list[DetectedFace] = field(default_factory=list)
    tensors: np.ndarray = field(default_factory=lambda: np.zeros((0, 160, 160, 3), np.float32))


Crop = Callable[[Photo, list], np.ndarray]
"""``crop(photo, detected) -> (n, 160, 160, 3)``: the engine's crops (its pipeline's way)."""


def analyse(path: str, detector: Detector, options: DetectOptions, crop: Crop) -> Analysed:
    """Decode ``path``, find its faces and crop them with ``crop`` (the engine passes its own
    :meth:`~facefinder.core.pipeline.Engine.face_tensors`, so the crops follow the library's
    pipeline). A file that cannot be read gives an :class:`Analysed` whose ``result.error``
    says why, never an exception."""
    item = Analysed(PhotoResult(path=path))
    try:
        photo, pixels, scale = decode_for_detection(path, options)
        item.result.width, item.result.height = photo.width, photo.height
        item.detected = detector.detect_array(pixels, options, scale)
        del pixels
        if item.detected:
            item.tensors = crop(photo, item.detected)
    except ImageError as exc:
        message = str(exc)
        item.result.error = message.split(": ", 1)[-1] if ": " in message else message
        item.detected = []
    except MemoryError:
        item.result.error = "image too large to process in memory"
        item.detected = []
    return item


def analyse_in_parallel(paths: list[str], detectors: list[Detector], options: DetectOptions,
                        crop: Crop, should_stop: Callable[[], bool] = lambda: False,
                        ahead: int = 2) -> Iterator[Analysed | None]:
    """:func:`analyse` every path on ``len(detectors)`` threads; yields the results in the order
    of ``paths``. Before it waits for the next result it yields ``None`` once, so that the
    caller can use the wait (to embed what it has). At most ``len(detectors) + ahead`` photos
    are in flight. Stops, dropping what is in flight, when ``should_stop()`` is true; on any
    exit the threads finish the photo they are on and end (nothing is left running)."""
    free: queue.SimpleQueue[Detector] = queue.SimpleQueue()
    for d in detectors:
        free.put(d)

    def task(path: str) -> Analysed:
        # A detector is used by one thread at a time; LiteRT interpreters may change threads.
        detector = free.get()
        try:
            return analyse(path, detector, options, crop)
        finally:
            free.put(detector)

    pool = ThreadPoolExecutor(max_workers=len(detectors), thread_name_prefix="facefinder-photo")
    futures: deque[Future] = deque()
    todo = iter(paths)
    try:
        while True:
            while len(futures) < len(detectors) + ahead:
                path = next(todo, None)
                if path is None:
                    break
                futures.append(pool.submit(task, path))
            if not futures or should_stop():
                return
            if not futures[0].done():
                yield None
                if should_stop():
                    return
            yield futures.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
