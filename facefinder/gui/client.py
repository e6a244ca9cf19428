"""The GUI-thread side of the app's background work: requests in, signals out.

:class:`ServiceClient` runs every request as a job (:mod:`facefinder.gui.jobs`): searches and
compares embed their photo on the model lane (a search with the library's own pipeline, read on
the library lane first) and search on the library lane; indexing, refresh and the library
upgrade run in a worker process (:mod:`facefinder.gui.worker_job`) that writes the library
while this process keeps searching it. Signals keep the names and arguments they had when all
of this ran in one "model service" thread, so windows and measuring tools drive it the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QImage

from . import messages
from .jobs import IO, LIBRARY, MODEL, Cancelled, Job, JobRunner
from .service import Libraries, Models, WeightsMissing, face_thumbnails
from .worker_job import WorkerJob
from ..worker import NEEDS_ENGINE

log = logging.getLogger(__name__)

STRIP_SIZE = 64
"""Side of the face crops sent with indexing progress, in pixels."""
CROP_INTERVAL = 1.0
"""Seconds between two batches of progress crops: the strip shows the latest faces, not every
face, and each batch decodes a photo again in this process, beside the worker (about 50 ms of
CPU for a camera photo: at 0.3 s and up to four photos a batch this took a sixth of what the
worker could have had, and the app indexed at 0.81x the CLI's rate; measured)."""


@dataclass
class IndexRequest:
    """What :meth:`ServiceClient.index` (or :meth:`ServiceClient.upgrade`: ``upgrade`` set)
    was asked, kept to resume a job that was cut short."""

    library: str
    folder: str
    recursive: bool
    min_face: int
    extensions: frozenset[str] | None
    upgrade: bool = False


class ServiceClient(QObject):
    """Sends requests, hands out request ids and emits the answers on the GUI thread.

    Signals:
      * ``status(str)``: a sentence for the status bar.
      * ``modelReady()`` / ``modelFailed(kind, message)``; ``weightsMissing()`` when the
        weights are not cached (the GUI then offers to fetch or import them).
      * ``weightsProgress(message, done, total)``, ``weightsDone(ok, message)``.
      * ``searchDone(req, SearchOutcome)``, ``searchFailed(req, kind, message)``.
      * ``compareDone(req, distance, QImage, QImage, info)`` (the two face crops; ``info``:
        ``{"pipeline", "small"}``, what :func:`~facefinder.core.verify.pair_verdict` needs),
        ``compareFailed(req, which, kind, message)`` (``which``: 0 or 1, the photo at fault;
        -1 neither).
      * ``indexProgress(req, IndexProgress, [QImage])`` (the crops of faces found since the
        last signal; they are made off the GUI thread and may come with a repeated progress),
        ``indexDone(req, IndexSummary)``, ``indexFailed(req, message)``: ``message`` is a
        sentence; :meth:`can_resume` says whether the job was cut short (a worker crash) and
        :meth:`resume` starts it again.
      * ``upgradeProgress(req, UpgradeProgress)``, ``upgradeDone(req, UpgradeSummary)``,
        ``upgradeFailed(req, message)``: :meth:`upgrade`, a library re-embedded with the current
        pipeline in a worker process, in the same one-job slot as indexing (cancelled the same
        way; started again, it continues).
      * ``libraryStats(name, dict)`` (with ``upgrade``: the library's
        :func:`~facefinder.core.upgrade.upgrade_state`); ``stopped()`` after :meth:`shutdown`.
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

    def __init__(self, parent: QObject | None = None, runner: JobRunner | None = None,
                 worker_env: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or JobRunner(self)
        self.models = Models()
        self.libraries = Libraries()
        self.worker_env = worker_env
        """Extra environment for worker processes (benchmarks, tests)."""
        self.cancel_event = threading.Event()
        """Set while the running indexing job is being cancelled."""
        self._next_id = 0
        self._announced = False
        self.index_job: int | None = None
        self.worker: WorkerJob | None = None
        """The indexing or refresh job's worker while one runs."""
        self._workers: set[WorkerJob] = set()
        self.requests: dict[int, IndexRequest] = {}
        self.errors: dict[int, BaseException] = {}
        self._crops_busy = False
        self._last_crops = 0.0
        self._pending_faces: list = []
        self._last_progress = None
        self._closed = False

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- the model -------------------------------------------------------------------------------
    def _model_job(self, fn, *args, name: str = "") -> Job:
        """Run ``fn(say, *args)`` on the model lane; ``say(text)`` reaches the status bar. A
        first load announces ``modelReady`` (or ``weightsMissing``) whichever job does it."""
        def work(job: Job, *a):
            return fn(lambda text: job.report(text), *a)

        job = self.runner.run(work, *args, lane=MODEL, with_job=True, name=name)
        job.progress.connect(lambda text: isinstance(text, str) and self.status.emit(text))
        job.done.connect(lambda _r: self._maybe_ready())
        job.failed.connect(self._model_problem)
        return job

    def _maybe_ready(self) -> None:
        if self.models.loaded and not self._announced:
            self._announced = True
            self.modelReady.emit()

    def _model_problem(self, exc: BaseException) -> None:
        self._maybe_ready()  # a search of a bad photo may have loaded the model first
        if isinstance(exc, WeightsMissing):
            self.weightsMissing.emit()
        elif not self.models.loaded and not isinstance(exc, Cancelled):
            self.modelFailed.emit(messages.kind_of(exc), messages.detail(exc))

    def load(self) -> None:
        """Load the models (once) and emit ``modelReady`` (again, when already loaded)."""
        again = self._announced
        job = self._model_job(lambda say: self.models.ensure(say), name="load")
        if again:
            job.done.connect(lambda _r: self.modelReady.emit())

    def fetch_weights(self) -> None:
        from ..core import weights

        self._get_weights(lambda progress: weights.fetch_weights(progress, quiet=True))

    def import_weights(self, path: str) -> None:
        from pathlib import Path

        from ..core import weights

        self._get_weights(lambda progress: weights.import_weights(Path(path), progress))

    def _get_weights(self, get) -> None:
        """Fetch or import the weights on the model lane (progress in kB: a QProgressBar holds
        int32), say how it went, then load the model."""
        def work(job: Job):
            get(lambda message, done, total: job.report((message, int(done // 1024),
                                                         int(total // 1024))))
            self.models.weights_ok = True

        job = self.runner.run(work, lane=MODEL, with_job=True, name="weights")
        job.progress.connect(lambda p: self.weightsProgress.emit(*p))
        job.done.connect(lambda _r: (self.weightsDone.emit(True, ""), self.load()))
        job.failed.connect(lambda exc: self.weightsDone.emit(False, str(exc)))

    def search_photos(self, library: str, paths: list[str], k: int = 20) -> int:
        """One search with the main faces of several photos of one person (nearest to their
        mean); answered by ``searchDone`` / ``searchFailed`` with the returned request id."""
        return self._photo_search(
            library, lambda name: [self.models.query(p, name) for p in paths],
            lambda queries: self.libraries.search_photos(queries, library, k))

    def search_faces(self, library: str, face_ids: list[int], k: int = 20) -> int:
        """Search ``library`` with several of its own faces (People: "Search with this person");
        answered by ``searchDone`` or ``searchFailed`` with the returned request id, as
        :meth:`search` is."""
        req = self._new_id()
        job = self.runner.run(self.libraries.search_with_faces, library, list(face_ids), k,
                              lane=LIBRARY, name="search with faces")
        job.done.connect(lambda outcome: self.searchDone.emit(req, outcome))
        job.failed.connect(lambda exc: isinstance(exc, Cancelled) or self.searchFailed.emit(
            req, messages.kind_of(exc), messages.detail(exc)))
        return req

    # -- libraries --------------------------------------------------------------------------------
    def library_info(self, name: str) -> None:
        """Emit ``libraryStats`` for a library (an empty dict when it does not exist yet)."""
        job = self.runner.run(self.libraries.stats, name, lane=LIBRARY, name="stats")
        job.done.connect(lambda stats: self.libraryStats.emit(name, stats))

    # -- searching --------------------------------------------------------------------------------
    def search(self, library: str, path: str, face_index: int = -1, k: int = 20,
               distinct: bool = False) -> int:
        """Search (``distinct``: the ``k`` nearest people, not faces). Returns the request id;
        answered by ``searchDone`` or ``searchFailed`` with it."""
        return self._photo_search(
            library, lambda name: self.models.query(path, name),
            lambda query: self.libraries.search(query, library, face_index, k, bool(distinct)))

    def _photo_search(self, library: str, embed, search) -> int:
        """A search with photos: the library's pipeline (library lane), then ``embed(pipeline)``
        on the model lane (the query is embedded the way the library was: an older library
        keeps working until it is upgraded), then ``search(what embed gave)`` on the library
        lane; answered by ``searchDone`` / ``searchFailed`` with the returned request id."""
        req = self._new_id()

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, Cancelled):
                self.searchFailed.emit(req, messages.kind_of(exc), messages.detail(exc))

        def found(query) -> None:
            job = self.runner.run(search, query, lane=LIBRARY, name="search")
            job.done.connect(lambda outcome: self.searchDone.emit(req, outcome))
            job.failed.connect(failed)

        def embedded(pipeline: str) -> None:
            job = self._model_job(lambda say, name: embed(name), pipeline, name="query")
            job.done.connect(found)
            job.failed.connect(failed)

        job = self.runner.run(self.libraries.pipeline, library, lane=LIBRARY, name="pipeline")
        job.done.connect(embedded)
        job.failed.connect(failed)
        return req

    def compare(self, a: str, b: str) -> int:
        """Compare the main faces of two photos (the default pipeline); answered by
        ``compareDone`` / ``compareFailed`` with the returned request id."""
        req = self._new_id()
        job = self._model_job(lambda say, x, y: self.models.compare(x, y), a, b, name="compare")
        job.done.connect(lambda r: self.compareDone.emit(req, *r))
        job.failed.connect(lambda exc: self.compareFailed.emit(
            req, getattr(exc, "which", -1), messages.kind_of(exc), messages.detail(exc)))
        return req

    # -- indexing ---------------------------------------------------------------------------------
    def index(self, library: str, folder: str, recursive: bool = True, min_face: int = 0,
              extensions: set[str] | None = None) -> int:
        """Start indexing ``folder`` into ``library`` (created if new) in a worker process;
        ``folder`` empty: refresh every folder the library knows. Returns the request id."""
        return self._start(IndexRequest(library, folder, recursive, min_face,
                                        frozenset(extensions) if extensions else None))

    def upgrade(self, library: str) -> int:
        """Re-embed ``library``'s faces with the current pipeline
        (:func:`~facefinder.core.upgrade.upgrade_library`) in a worker process, in the same
        one-job slot as indexing and cancelled the same way (:meth:`cancel_index`); what was
        done is kept and the next upgrade continues. Searches keep working meanwhile (with the
        library's old pipeline until the switch at the end). Answered by ``upgradeProgress``,
        then ``upgradeDone`` or ``upgradeFailed``; returns the request id."""
        return self._start(IndexRequest(library, "", False, 0, None, upgrade=True))

    def can_resume(self, req: int) -> bool:
        """Whether job ``req`` was cut short (its worker died) and can be started again."""
        return req in self.requests and isinstance(self.errors.get(req), (
            messages.WorkerCrashed, messages.WorkerFailedToStart))

    def resume(self, req: int) -> int:
        """Start job ``req`` again: what it committed is kept, the rest is indexed now."""
        return self._start(self.requests[req])

    def _start(self, request: IndexRequest) -> int:
        req = self._new_id()
        self.requests[req] = request
        if self.indexing:
            busy = (QCoreApplication.translate(
                "ModelService", "A folder is being indexed; upgrade the library when it is "
                                "done.") if request.upgrade else QCoreApplication.translate(
                "ModelService", "Another folder is being indexed; wait for it to finish or "
                                "cancel it first."))
            signal = self.upgradeFailed if request.upgrade else self.indexFailed
            QTimer.singleShot(0, lambda: signal.emit(req, busy))
            return req
        self.cancel_event.clear()
        self.index_job = req
        self._pending_faces, self._last_progress = [], None

        def checked(elsewhere: bool) -> None:
            if elsewhere and not request.upgrade:
                from ..core.errors import FacefinderError

                self._index_failed(req, request, FacefinderError(QCoreApplication.translate(
                    "ModelService", "The library “{name}” keeps its faces in Qdrant: the app "
                    "searches it, and indexing it is done from the command line: facefinder "
                    "index FOLDER --library {name}").format(name=request.library)))
                return
            # The weights are checked (and the model loaded, as the window does anyway) here
            # first: the worker never downloads them, and a missing model is asked about once.
            job = self._model_job(lambda say: (self.models.ensure(say), _warm_imports()),
                                  name="load")
            job.done.connect(lambda _r: self._launch(req, request))
            job.failed.connect(lambda exc: self._index_failed(req, request, exc))

        # Qdrant-backed libraries are searched here but indexed from the command line.
        job = self.runner.run(self.libraries.indexed_elsewhere, request.library, lane=LIBRARY,
                              name="where")
        job.done.connect(checked)
        job.failed.connect(lambda exc: self._index_failed(req, request, exc))
        return req

    def _launch(self, req: int, request: IndexRequest) -> None:
        if self.cancel_event.is_set() or self._closed:
            if request.upgrade:
                from ..core.align import DEFAULT_PIPELINE
                from ..core.upgrade import UpgradeSummary

                summary = UpgradeSummary(source="", target=DEFAULT_PIPELINE, cancelled=True)
            else:
                from ..core.scan import IndexSummary

                summary = IndexSummary(folder=request.folder, cancelled=True)
            self._index_done(req, request, SimpleNamespace(summary=summary, stats={}))
            return
        params: dict = {}
        if request.folder:
            params = {"folder": request.folder, "recursive": request.recursive,
                      "min_face": request.min_face,
                      "extensions": sorted(request.extensions) if request.extensions else None}
        kind = "upgrade" if request.upgrade else "index" if request.folder else "refresh"
        worker = self.start_worker_job(kind, request.library, params, start=False)
        self.worker = worker
        worker.progress.connect(lambda p: self._index_progress(req, request, p))
        worker.done.connect(lambda r: self._index_done(req, request, r))
        worker.failed.connect(lambda exc: self._index_failed(req, request, exc))
        worker.start()

    def start_worker_job(self, job: str, library: str, params: dict | None = None,
                         start: bool = True) -> WorkerJob:
        """Run any long core job of :data:`facefinder.worker.JOBS` (a library upgrade, say) in
        a worker process; connect to the returned job's ``progress`` / ``done`` (a
        :class:`~facefinder.gui.worker_job.WorkerResult`) / ``failed`` (an exception; a
        :class:`~facefinder.gui.messages.WorkerCrashed` when the process died). Closing the
        app (:meth:`shutdown`) cancels it and waits for its commit. ``start=False``: connect
        first, then call its ``start()``."""
        worker = WorkerJob(job, library, params, env=self.worker_env)
        self.runner.adopt(worker)
        self._workers.add(worker)
        worker.finished.connect(lambda: self._worker_finished(worker))
        if job in NEEDS_ENGINE:
            # The worker loads its own face model: the model server's (about 240 MiB) is
            # parked meanwhile and comes back after the job, or at the first search before.
            self.runner.run(self.models.park, lane=MODEL, name="park the model server")
        if start:
            worker.start()
        return worker

    def _worker_finished(self, worker: WorkerJob) -> None:
        self._workers.discard(worker)
        if not self._closed and not any(w.name in NEEDS_ENGINE for w in self._workers):
            self.runner.run(self.models.unpark, lane=MODEL, name="model server back")

    def _index_progress(self, req: int, request: IndexRequest, progress) -> None:
        if getattr(progress, "stage", "") == "status":
            self.status.emit(progress.message)
            return
        if request.upgrade:
            self.upgradeProgress.emit(req, progress)
            return
        self._last_progress = progress
        self.indexProgress.emit(req, progress, [])
        if progress.last_faces:
            self._pending_faces = (list(progress.last_faces) + self._pending_faces)[:4]
            self._make_crops(req)

    def _make_crops(self, req: int) -> None:
        """Crop the newest photo's faces on the io lane, one batch at a time and at most one
        batch per :data:`CROP_INTERVAL` (older faces are skipped when photos come faster), and
        send them with the latest progress."""
        if self._crops_busy or not self._pending_faces or self._closed:
            return
        wait = self._last_crops + CROP_INTERVAL - time.monotonic()
        if wait > 0:
            self._crops_busy = True
            QTimer.singleShot(int(wait * 1000) + 1, lambda: self._crops_due(req))
            return
        # the newest photo's faces only: one decode a batch
        newest = self._pending_faces[0][0]
        faces = [f for f in self._pending_faces if f[0] == newest]
        self._pending_faces = []
        self._crops_busy = True
        self._last_crops = time.monotonic()

        def crops() -> list[QImage]:
            by_photo: dict[str, list] = {}
            for path, box in faces:
                by_photo.setdefault(path, []).append(box)
            out = []
            for path, boxes in by_photo.items():
                try:
                    out += face_thumbnails(path, boxes, STRIP_SIZE)
                except Exception:  # moved or unreadable since: no crop, no harm
                    pass
            return out

        def arrived(images) -> None:
            self._crops_busy = False
            if images and self._worker_running(req) and self._last_progress is not None:
                self.indexProgress.emit(req, self._last_progress, images)
            if self._worker_running(req):
                self._make_crops(req)

        job = self.runner.run(crops, lane=IO, priority=1, name="progress crops")
        job.done.connect(arrived)
        job.failed.connect(lambda _e: setattr(self, "_crops_busy", False))

    def _crops_due(self, req: int) -> None:
        self._crops_busy = False
        if self._worker_running(req):
            self._make_crops(req)

    def _worker_running(self, req: int) -> bool:
        """Whether job ``req``'s worker is still at work: crops that come after it ended are
        dropped (no progress after the job's end)."""
        return req == self.index_job and self.worker is not None

    def _index_done(self, req: int, request: IndexRequest, result) -> None:
        """The worker finished: group the new faces and read the stats on the library lane
        (where this process's searches run, so they see the new faces afterwards), then say
        so."""
        self.worker = None
        summary = result.summary
        if summary is None and not request.upgrade:  # a refresh of a library without folders
            from ..core.scan import IndexSummary

            summary = IndexSummary(folder="")

        def finish(stats) -> None:
            self.libraryStats.emit(request.library, stats)
            self._job_ended(req)
            (self.upgradeDone if request.upgrade else self.indexDone).emit(req, summary)

        if self._closed:  # the app is closing: no grouping now (the next job does it)
            finish(result.stats)
            return

        work = self.libraries.stats if request.upgrade else self.libraries.after_indexing
        job = self.runner.run(work, request.library, lane=LIBRARY, name="after the job")
        job.done.connect(finish)
        job.failed.connect(lambda _exc: finish(result.stats))

    def _index_failed(self, req: int, request: IndexRequest, exc: BaseException) -> None:
        self.worker = None
        self.errors[req] = exc
        self._job_ended(req)
        if isinstance(exc, WeightsMissing):
            text = messages.headline("model")
        elif isinstance(exc, (messages.WorkerCrashed, messages.WorkerFailedToStart)):
            text = messages.headline(exc) + " " + messages.detail(exc)
        else:
            text = messages.detail(exc)
        (self.upgradeFailed if request.upgrade else self.indexFailed).emit(req, text)

    def _job_ended(self, req: int) -> None:
        if req == self.index_job:
            self.index_job = None

    @property
    def indexing(self) -> bool:
        return self.index_job is not None

    def cancel_index(self) -> None:
        """Ask the running job (indexing, refresh or an upgrade) to stop; it stops after the
        current batch and commits."""
        self.cancel_event.set()
        if self.worker is not None:
            self.worker.cancel()

    # -- shutting down ----------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 120_000) -> bool:
        """Stop a running job (it commits what it did), close the libraries and end the
        lanes' threads; True when everything ended in time."""
        if self._closed:
            return True
        self._closed = True
        deadline = time.monotonic() + timeout_ms / 1000
        ok = True
        self.cancel_index()
        for worker in list(self._workers):
            worker.cancel()
        for worker in list(self._workers):
            left = int((deadline - time.monotonic()) * 1000) - 5000
            if not worker.wait(max(1000, left)):
                log.error("the %s worker did not stop in time; ending it", worker.name)
                worker.kill()
                worker.wait(5000)
                ok = False
        self.runner.clear(IO)
        self.runner.run(self.libraries.close, lane=LIBRARY, name="close libraries")
        self.runner.run(self.models.close, lane=MODEL, name="end the model server")
        ok = self.runner.shutdown(max(1.0, deadline - time.monotonic())) and ok
        if not ok:
            log.error("background work did not stop in %d ms", timeout_ms)
        self.stopped.emit()
        return ok

    @property
    def finished(self) -> bool:
        """True once :meth:`shutdown` has ended every thread and worker process."""
        return self._closed and self.runner.closed and not any(
            w.running for w in self._workers)


def _warm_imports() -> None:
    """Import what rebuilding the worker's messages needs, here on a lane: done first on the
    GUI thread, the import of the core's scan/pipeline modules held it for ~150 ms."""
    from ..core import scan  # noqa: F401
