"""Face-crop thumbnails made off the GUI thread, with a bounded cache.

A :class:`ThumbnailLoader` crops faces (``core.pipeline.crop_image``: the same aligned crop
FaceNet sees) on its own small :class:`QThreadPool`, sends them back as :class:`QImage` and keeps
the last ``capacity`` as :class:`QPixmap` (made on the GUI thread) in an LRU cache.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

Key = tuple[str, tuple[int, int, int, int], int]
"""(path, box (x, y, w, h), size px)"""


class _Emitter(QObject):
    done = Signal(object, QImage)


class ThumbnailLoader(QObject):
    """Asynchronous, cached face crops. ``ready(key)`` fires when :meth:`get` would now succeed."""

    ready = Signal(object)

    def __init__(self, capacity: int = 400, threads: int = 2, parent: QObject | None = None):
        super().__init__(parent)
        self.capacity = capacity
        self._cache: OrderedDict[Key, QPixmap] = OrderedDict()
        self._pending: set[Key] = set()
        self._failed: set[Key] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._emitter = _Emitter()
        self._emitter.done.connect(self._arrived)
        self._generation = 0
        self._ticket = 0

    def get(self, path: str, box, size: int) -> QPixmap | None:
        """The cached thumbnail, or None (and a request is queued) when it is not made yet."""
        key: Key = (path, tuple(int(v) for v in box), int(size))
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
            return pix
        if key not in self._pending and key not in self._failed:
            self._pending.add(key)
            generation = self._generation
            emitter = self._emitter
            # Newest first: after a fast scroll the rows on screen now come before the ones
            # scrolled past (QThreadPool runs higher priorities first).
            self._ticket = (self._ticket + 1) % 2_000_000_000
            self._pool.start(lambda: _work(emitter, key, generation), self._ticket)
        return None

    def failed(self, path: str, box, size: int) -> bool:
        return (path, tuple(int(v) for v in box), int(size)) in self._failed

    def forget_pending(self) -> None:
        """Drop queued requests (a new result list makes them moot)."""
        self._pool.clear()
        self._pending.clear()
        self._generation += 1

    def _arrived(self, payload, image: QImage) -> None:
        key, generation = payload
        self._pending.discard(key)
        if image.isNull():
            self._failed.add(key)
        else:
            self._cache[key] = QPixmap.fromImage(image)
            self._cache.move_to_end(key)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        self.ready.emit(key)

    def shutdown(self) -> None:
        """Drop queued work and wait for the running crops (call before the app quits)."""
        self._pool.clear()
        self._pool.waitForDone(10_000)


def _work(emitter: _Emitter, key: Key, generation: int) -> None:
    """Runs on a pool thread: crop one face. Never touches widgets or pixmaps."""
    from ..core.pipeline import crop_image
    from .service import pil_to_qimage

    path, box, size = key
    try:
        image = pil_to_qimage(crop_image(path, box, size=size))
    except Exception:
        image = QImage()
    try:
        emitter.done.emit((key, generation), image)
    except RuntimeError:  # the app is going away
        pass
