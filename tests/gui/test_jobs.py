"""The job runner (no model): results, progress and failures by signal on the GUI thread, the
library lane in order, cancelling, dropping queued work; and the table of error sentences."""

from __future__ import annotations

import threading
import time

import pytest

from facefinder.core.errors import ImageError, LibraryDamagedError, LibraryError, \
    ModelDamagedError, ModelMismatchError, ModelUnavailableError, NoFaceError, StorageError
from facefinder.gui import messages
from facefinder.gui.jobs import IO, LIBRARY, Cancelled, JobRunner


@pytest.fixture
def runner(qtbot, no_leftover_threads):
    r = JobRunner()
    yield r
    assert r.shutdown(30)


def test_results_progress_and_failures_arrive_on_the_gui_thread(qtbot, runner):
    gui = threading.current_thread()
    seen = []

    def gen(n):
        for i in range(n):
            yield (i, threading.current_thread().name)
        return "finished"

    job = runner.run(gen, 3, lane=LIBRARY)
    job.progress.connect(lambda p: seen.append((p, threading.current_thread())))
    with qtbot.waitSignal(job.done, timeout=10_000) as blocker:
        pass
    assert blocker.args == ["finished"]
    assert [p[0] for p, _ in seen] == [0, 1, 2]
    assert all(t is gui for _, t in seen) and all("library" in p[1] for p, _ in seen)

    def boom():
        raise ImageError("x.jpg: not an image")

    job = runner.run(boom)
    with qtbot.waitSignal(job.failed, timeout=10_000) as blocker:
        pass
    exc = blocker.args[0]
    assert isinstance(exc, ImageError) and job.error is exc and job.ended


def test_the_library_lane_runs_one_job_at_a_time_in_order(qtbot, runner):
    running, order, overlap = [], [], []

    def work(i):
        running.append(i)
        overlap.append(len(running))
        time.sleep(0.02)
        order.append(i)
        running.remove(i)

    jobs = [runner.run(work, i, lane=LIBRARY) for i in range(8)]
    qtbot.waitUntil(lambda: all(j.ended for j in jobs), timeout=10_000)
    assert order == list(range(8)) and max(overlap) == 1


def test_cancel_stops_a_generator_between_items_and_runs_its_finally(qtbot, runner):
    closed = threading.Event()
    started = threading.Event()

    def gen():
        try:
            for i in range(1000):
                started.set()
                time.sleep(0.01)
                yield i
        finally:
            closed.set()

    job = runner.run(gen, lane=IO)
    assert started.wait(10)
    job.cancel()
    with qtbot.waitSignal(job.failed, timeout=10_000) as blocker:
        pass
    assert isinstance(blocker.args[0], Cancelled) and closed.is_set()


def test_queued_io_work_can_be_dropped(qtbot, runner):
    gate = threading.Event()
    blockers = [runner.run(gate.wait, 10, lane=IO) for _ in range(2)]  # both io threads busy
    ran = []
    queued = [runner.run(ran.append, i, lane=IO, tag="thumbs") for i in range(5)]
    runner.clear(IO, tag="thumbs")
    gate.set()
    qtbot.waitUntil(lambda: all(j.ended for j in queued + blockers), timeout=10_000)
    assert ran == [] and all(isinstance(j.error, Cancelled) for j in queued)


def test_one_table_turns_exceptions_into_sentences(qapp):
    crash = messages.WorkerCrashed("index", -9, "worker INFO loading\nworker INFO batch 3")
    cases = {
        crash: ("crash", "Indexing stopped unexpectedly"),
        ImageError("a.jpg: truncated"): ("image", "not a photo"),
        NoFaceError("a.jpg: no face"): ("noface", "No face was found"),
        ModelMismatchError("other weights"): ("mismatch", "another face model"),
        LibraryError("empty"): ("library", "is empty"),
        LibraryDamagedError("malformed"): ("damaged", "library repair"),
        StorageError("full"): ("storage", "disk is full"),
        ModelDamagedError("bad bytes"): ("modeldamaged", "model fetch"),
        ModelUnavailableError("no weights"): ("model", "face model is missing"),
        messages.worker_crashed("upgrade", -9): ("upgradecrash", "upgrade stopped unexpectedly"),
        messages.worker_crashed(messages.MODEL_SERVER, 1): ("servercrash", "try again"),
        ValueError("bad"): ("error", "Something went wrong"),
    }
    for exc, (kind, words) in cases.items():
        problem = messages.describe(exc, name="default")
        assert problem.kind == kind and words in problem.headline, (exc, problem)
    assert "killed by signal 9" in messages.detail(crash) and "batch 3" in messages.detail(crash)
    assert messages.headline("library", name="photos").startswith("The library “photos”")
    # What the worker sends by class name comes back as that class.
    assert isinstance(messages.exception_from_wire("ModelMismatchError", "m"),
                      ModelMismatchError)
    assert isinstance(messages.exception_from_wire("LibraryDamagedError", "d"),
                      LibraryDamagedError)
    assert messages.kind_of(messages.exception_from_wire("KeyError", "k")) == "error"
