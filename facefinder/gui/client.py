"""The GUI-thread side of the model service: starts its thread, sends requests by signal and
relays the answers on the GUI thread."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from .service import ModelService

log = logging.getLogger(__name__)

_RELAYED = ("status", "modelReady", "modelFailed", "weightsMissing", "weightsProgress",
            "weightsDone", "searchDone", "searchFailed", "compareDone", "compareFailed",
            "indexProgress", "indexDone", "indexFailed", "libraryStats", "stopped",
            "upgradeProgress", "upgradeDone", "upgradeFailed")


class ServiceClient(QObject):
    """The GUI-thread side: starts the thread, sends requests by signal, hands out request ids.

    The service's signals are relayed by signals of the same names on this object, which lives
    on the GUI thread: connect to those (a lambda connected straight to a service signal would
    run on the worker thread).
    """

    status = Signal(str)
    modelReady = Signal()
    modelFailed = Signal(str, str)
    weightsMissing = Signal()
    weightsProgress = Signal(str, int, int)
    weightsDone = Signal(bool, str)
    searchDone = Signal(int, object)
    searchFailed = Signal(int, str, str)
    compareDone = Signal(int, float, QImage, QImage, object)
    compareFailed = Signal(int, int, str, str)
    indexProgress = Signal(int, object, object)
    indexDone = Signal(int, object)
    indexFailed = Signal(int, str)
    libraryStats = Signal(str, object)
    stopped = Signal()
    upgradeProgress = Signal(int, object)
    upgradeDone = Signal(int, object)
    upgradeFailed = Signal(int, str)

    _load = Signal()
    _fetch = Signal()
    _import = Signal(str)
    _search = Signal(int, str, str, int, int, bool)
    _compare = Signal(int, str, str)
    _index = Signal(int, str, str, bool, int, object)
    _info = Signal(str)
    _upgrade = Signal(int, str)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self.thread = QThread()
        self.thread.setObjectName("facefinder-model")
        # TensorFlow's kernels need deep stacks; the platform default for a new thread can be
        # too small (a segfault in conv2d). Python's own threads get 8 MiB; give more.
        self.thread.setStackSize(64 * 1024 * 1024)
        self.service = ModelService(self.cancel_event)
        self.service.moveToThread(self.thread)
        self._load.connect(self.service.load)
        self._fetch.connect(self.service.fetchWeights)
        self._import.connect(self.service.importWeights)
        self._search.connect(self.service.search)
        self._compare.connect(self.service.compare)
        self._index.connect(self.service.index)
        self._info.connect(self.service.libraryInfo)
        self._upgrade.connect(self.service.upgrade)
        self._shutdown.connect(self.service.shutdown)
        for name in _RELAYED:  # queued: the receiver (self) lives on the GUI thread
            getattr(self.service, name).connect(getattr(self, name))
        self.indexDone.connect(self._job_ended)
        self.indexFailed.connect(self._job_ended)
        self.upgradeDone.connect(self._job_ended)
        self.upgradeFailed.connect(self._job_ended)
        self._next_id = 0
        self.index_job: int | None = None
        self.thread.start()

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def load(self) -> None:
        self._load.emit()

    def fetch_weights(self) -> None:
        self._fetch.emit()

    def import_weights(self, path: str) -> None:
        self._import.emit(path)

    def library_info(self, name: str) -> None:
        self._info.emit(name)

    def search(self, library: str, path: str, face_index: int = -1, k: int = 20,
               distinct: bool = False) -> int:
        """Search (``distinct``: the ``k`` nearest people, not faces). Returns the request id."""
        req = self._new_id()
        self._search.emit(req, library, path, face_index, k, bool(distinct))
        return req

    def compare(self, a: str, b: str) -> int:
        """Compare the largest faces of two photos; answered by ``compareDone`` /
        ``compareFailed`` with the returned request id."""
        req = self._new_id()
        self._compare.emit(req, a, b)
        return req

    def index(self, library: str, folder: str, recursive: bool = True, min_face: int = 0,
              extensions: set[str] | None = None) -> int:
        """Start indexing (``folder`` empty: refresh the library). Returns the request id."""
        req = self._new_id()
        self.cancel_event.clear()
        self.index_job = req
        self._index.emit(req, library, folder, recursive, min_face, extensions)
        return req

    def upgrade(self, library: str) -> int:
        """Re-embed a library with the current pipeline (see
        :mod:`facefinder.core.upgrade`); the same one-job slot as indexing, cancelled the same
        way. Returns the request id."""
        req = self._new_id()
        self.cancel_event.clear()
        self.index_job = req
        self._upgrade.emit(req, library)
        return req

    @property
    def indexing(self) -> bool:
        return self.index_job is not None

    def cancel_index(self) -> None:
        """Ask the running job to stop; it stops after the current photo or batch."""
        self.cancel_event.set()

    def _job_ended(self, req: int, *_args) -> None:
        if req == self.index_job:
            self.index_job = None

    def shutdown(self, timeout_ms: int = 120_000) -> bool:
        """Stop a running job, close the libraries and end the thread; True when it ended."""
        if not self.thread.isRunning():
            return True
        self.cancel_event.set()
        self._shutdown.emit()
        ok = self.thread.wait(timeout_ms)
        if not ok:
            log.error("the model thread did not stop in %d ms", timeout_ms)
        return ok
