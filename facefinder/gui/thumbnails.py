"""Face-crop thumbnails made off the GUI thread, with a bounded cache.

A :class:`ThumbnailLoader` crops faces (the same aligned crop FaceNet sees) as jobs on the job
runner's ``io`` lane (:mod:`facefinder.gui.jobs`), newest request first, gets them back as
:class:`QImage` and keeps the last ``capacity`` as :class:`QPixmap` (made on the GUI thread) in
an LRU cache.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from .jobs import IO, JobRunner

Key = tuple[str, tuple[int, int, int, int], int]
"""(path, box (x, y, w, h), size px)"""


class ThumbnailLoader(QObject):
    """Asynchronous, cached face crops. ``ready(key)`` fires when :meth:`get` would now succeed.

    ``runner``: the app's job runner; without one the loader makes its own (and ends it in
    :meth:`shutdown`)."""

    ready = Signal(object)

    def __init__(self, runner: JobRunner | None = None, capacity: int = 400,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._own_runner = runner is None
        self.runner = runner or JobRunner(self)
        self.capacity = capacity
        self._cache: OrderedDict[Key, QPixmap] = OrderedDict()
        self._pending: set[Key] = set()
        self._failed: set[Key] = set()
        self._ticket = 0

    def get(self, path: str, box, size: int) -> QPixmap | None:
        """The cached thumbnail, or None (and a request is queued) when it is not made yet."""
        key: Key = (path, tuple(int(v) for v in box), int(size))
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
            return pix
        if key not in self._pending and key not in self._failed and not self.runner.closed:
            self._pending.add(key)
            # Newest first: after a fast scroll the rows on screen now come before the ones
            # scrolled past.
            self._ticket = (self._ticket + 1) % 2_000_000_000
            job = self.runner.run(_crop, key, lane=IO, priority=self._ticket, tag=self,
                                  name="thumbnail")
            job.done.connect(lambda image, k=key: self._arrived(k, image))
            job.failed.connect(lambda _exc, k=key: self._pending.discard(k))
        return None

    def failed(self, path: str, box, size: int) -> bool:
        return (path, tuple(int(v) for v in box), int(size)) in self._failed

    def forget_pending(self) -> None:
        """Drop queued requests (a new result list makes them moot)."""
        self.runner.clear(IO, tag=self)
        self._pending.clear()

    def _arrived(self, key: Key, image: QImage) -> None:
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
        """Drop queued work (and end the runner if it is the loader's own)."""
        if not self.runner.closed:
            self.runner.clear(IO, tag=self)
        if self._own_runner:
            self.runner.shutdown()


def _crop(key: Key) -> QImage:
    """Runs on the io lane: crop one face; a null image when the photo cannot be read."""
    from .service import face_thumbnail

    path, box, size = key
    try:
        return face_thumbnail(path, box, size)
    except Exception:
        return QImage()
