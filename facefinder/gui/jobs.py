"""The app's one way to run background work: a :class:`JobRunner` with named lanes.

Every piece of work off the GUI thread is a :class:`Job`: a plain function (or a core generator)
run on a lane, or a core job run in the worker process (:mod:`facefinder.gui.worker_job`). A job
reports by signal, always delivered on the GUI thread:

* ``progress(value)``: each value a generator yields (or that the function passes to
  :meth:`Job.report`);
* ``done(result)``: the function's return value (a generator's ``return`` value);
* ``failed(exc)``: the exception object itself; :mod:`facefinder.gui.messages` turns its class
  into the sentence the user sees;
* ``finished()``: after ``done`` or ``failed``, also when a job was cancelled before it started.

Lanes (in the spirit of Anki's TaskManager, which serializes collection work on one thread):

* ``"model"``: one thread that owns the face model (thread-affine); searches and compares embed
  their query photos here. Its stack is large: TensorFlow's kernels need deep stacks.
* ``"library"``: one thread for everything that reads or writes a library in this process
  (searching the index, grouping people, corrections, statistics), so library work is
  serialized and never on the GUI thread.
* ``"io"``: a small pool for reads of photos and folders (thumbnails, counting photos, the crops
  of the latest faces during indexing). Jobs queued here can be dropped (:meth:`JobRunner.clear`)
  and run by priority, higher first.

A generator job is cancelled between two items (:meth:`Job.cancel`); a function job sees it
through ``job.should_stop()`` when it asks for the job (``with_job=True``).

Why not superqt's ``create_worker``: it starts a thread per worker and has no notion of a serial
lane, which the library and the thread-affine model both need, nor of process-backed jobs; the
wiring it uses (a QObject relay whose queued signal crosses back to the GUI thread) is the one
used here.
"""

from __future__ import annotations

import atexit
import heapq
import inspect
import itertools
import logging
import threading
import traceback
import weakref
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

MODEL, LIBRARY, IO = "model", "library", "io"
MODEL_STACK = 64 * 1024 * 1024
"""Bytes of stack for the model lane's thread (Python's threads get 8 MiB; TF needs more)."""


class Cancelled(Exception):
    """Raised inside a job's function by :meth:`Job.check` when the job was cancelled."""


class Job(QObject):
    """One piece of background work. Signals arrive on the GUI thread; see the module docs."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, name: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._stop = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.ended = False
        self._relay: _Relay | None = None

    # -- asked from any thread ---------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop: a queued job will not start; a generator stops before its next
        item; a function sees :meth:`should_stop` turn true."""
        self._stop.set()

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` when the job was cancelled (for use inside the function)."""
        if self._stop.is_set():
            raise Cancelled()

    def report(self, value: Any) -> None:
        """Send ``value`` as ``progress`` (from the job's own thread)."""
        self._post("progress", value)

    # -- delivery --------------------------------------------------------------------------------
    def _post(self, what: str, payload: Any) -> None:
        relay = self._relay
        if relay is None:  # a job that is not run by a runner: deliver directly (tests)
            self._deliver(what, payload)
            return
        try:
            relay.posted.emit(self, what, payload)
        except RuntimeError:  # the runner is gone (the app is closing)
            pass

    def _deliver(self, what: str, payload: Any) -> None:
        """On the GUI thread: emit the public signals."""
        if self.ended:
            return
        if what == "progress":
            self.progress.emit(payload)
            return
        self.ended = True
        if what == "done":
            self.result = payload
            self.done.emit(payload)
        elif what == "failed":
            self.error = payload
            self.failed.emit(payload)
        self.finished.emit()


class _Relay(QObject):
    """Lives on the GUI thread; its queued connection carries a job's reports across."""

    posted = Signal(object, str, object)

    def __init__(self, jobs: set, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self.posted.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, str, object)
    def _deliver(self, job: Job, what: str, payload: Any) -> None:
        job._deliver(what, payload)
        if job.ended:
            self._jobs.discard(job)


class _Lane:
    """A priority queue of work and ``threads`` threads that take from it."""

    def __init__(self, name: str, threads: int = 1, stack_size: int = 0) -> None:
        self.name = name
        self._heap: list[tuple[int, int, Job, Callable[[], None], object]] = []
        self._cv = threading.Condition()
        self._seq = itertools.count()
        self._closed = False
        self._threads = []
        old = threading.stack_size(stack_size) if stack_size else None
        try:
            for i in range(threads):
                # Daemon threads: a runner nobody shut down (a tool, a test) must not keep the
                # interpreter from exiting; :func:`_shutdown_all` still lets its queued work
                # finish at exit.
                t = threading.Thread(target=self._loop, name=f"facefinder-{name}-{i}",
                                     daemon=True)
                t.start()
                self._threads.append(t)
        finally:
            if old is not None:
                threading.stack_size(old)

    def submit(self, job: Job, work: Callable[[], None], priority: int = 0,
               tag: object = None) -> None:
        with self._cv:
            if self._closed:
                raise RuntimeError(f"the {self.name} lane is shut down")
            heapq.heappush(self._heap, (-priority, next(self._seq), job, work, tag))
            self._cv.notify()

    def clear(self, tag: object = None) -> list[Job]:
        """Drop queued (not running) work, all of it or only that with ``tag``."""
        with self._cv:
            keep, dropped = [], []
            for item in self._heap:
                (dropped if tag is None or item[4] == tag else keep).append(item)
            heapq.heapify(keep)
            self._heap = keep
        return [item[2] for item in dropped]

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if not self._heap:  # closed and drained
                    return
                _, _, job, work, _ = heapq.heappop(self._heap)
            work()

    def shutdown(self, wait: bool = True, timeout: float = 60.0) -> bool:
        """Run what is queued, then end the threads; True when they ended."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if not wait:
            return True
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout)
        return not any(t.is_alive() for t in self._threads)


class JobRunner(QObject):
    """Runs :class:`Job` objects on lanes; create it on the GUI thread."""

    def __init__(self, parent: QObject | None = None, io_threads: int = 2) -> None:
        super().__init__(parent)
        self.jobs: set[Job] = set()
        """Jobs started and not yet finished (a worker process's job too)."""
        self._relay = _Relay(self.jobs, self)
        self._lanes = {
            MODEL: _Lane(MODEL, 1, MODEL_STACK),
            LIBRARY: _Lane(LIBRARY, 1),
            IO: _Lane(IO, io_threads),
        }
        self._closed = False
        _RUNNERS.add(self)

    def run(self, fn: Callable, *args, lane: str = IO, priority: int = 0, tag: object = None,
            name: str = "", with_job: bool = False, **kwargs) -> Job:
        """Run ``fn(*args, **kwargs)`` (``with_job``: ``fn(job, *args, **kwargs)``) on ``lane``.

        A generator function is driven item by item: each item becomes ``progress``, its return
        value ``done``. Returns the :class:`Job` at once; connect to its signals right away
        (they are delivered later, by the event loop)."""
        job = Job(name or getattr(fn, "__name__", "job"))
        self.adopt(job)

        def work() -> None:
            if job.should_stop():
                job._post("failed", Cancelled())
                return
            try:
                out = fn(job, *args, **kwargs) if with_job else fn(*args, **kwargs)
                if inspect.isgenerator(out):
                    out = _drive(job, out)
            except Cancelled as exc:
                job._post("failed", exc)
            except Exception as exc:
                log.debug("job %s failed:\n%s", job.name, traceback.format_exc())
                job._post("failed", exc)
            else:
                job._post("done", out)

        try:
            self._lanes[lane].submit(job, work, priority, tag)
        except RuntimeError:  # shut down (the app is closing): the job ends as cancelled
            job.cancel()
            job._post("failed", Cancelled())
        return job

    def adopt(self, job: Job) -> Job:
        """Track a job started elsewhere (a worker process's) until it finishes."""
        job._relay = self._relay
        self.jobs.add(job)  # also keeps the job alive (it has no Qt parent) until it ends
        return job

    def clear(self, lane: str, tag: object = None) -> None:
        """Forget queued jobs of ``lane`` (only those with ``tag``): they end as cancelled."""
        for job in self._lanes[lane].clear(tag):
            job.cancel()
            job._post("failed", Cancelled())

    def shutdown(self, timeout: float = 120.0) -> bool:
        """Let queued work finish and end every lane's threads; True when all ended."""
        if self._closed:
            return True
        self._closed = True
        ok = True
        for lane in self._lanes.values():
            ok = lane.shutdown(True, timeout) and ok
        return ok

    @property
    def closed(self) -> bool:
        return self._closed


_RUNNERS: "weakref.WeakSet[JobRunner]" = weakref.WeakSet()


@atexit.register
def _shutdown_all(timeout: float = 30.0) -> None:
    """At exit, let the queued work of runners that were never shut down finish (a library
    write, say); the app itself shuts its runner down when its window closes."""
    for runner in list(_RUNNERS):
        try:
            if not runner.closed:
                runner.shutdown(timeout)
        except RuntimeError:  # its QObject is already gone
            pass


def _drive(job: Job, gen) -> Any:
    """Iterate a generator on the lane's thread, reporting each item, stopping when cancelled
    (the generator is closed, so its ``finally`` blocks run: a core job commits there)."""
    try:
        while True:
            if job.should_stop():
                raise Cancelled()
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            job.report(item)
    finally:
        gen.close()
