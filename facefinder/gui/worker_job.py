"""A long core job (indexing, refresh, the library upgrade) run in the worker process
(:mod:`facefinder.worker`).

:class:`WorkerJob` is a :class:`~facefinder.gui.jobs.Job` whose work happens in another process,
started with :class:`QProcess`. QProcess rather than ``multiprocessing``: its pipes are read by
the GUI thread's event loop (``readyRead``) with no reader thread and no pickling, it tells how
the process ended (``finished(code, status)``, a crash included), and it starts any command: in a
source install ``python -m facefinder.worker``, in the packaged app the app's own executable with
``--worker`` (``multiprocessing`` in spawn mode would need the same entry-point trick plus
``freeze_support`` there). The worker imports the core only, so it starts fast and small.

The worker's JSON lines become the job's signals: ``progress`` (a
:class:`~facefinder.core.scan.IndexProgress` or :class:`~facefinder.core.upgrade.UpgradeProgress`,
rebuilt from the wire), ``done`` (a :class:`WorkerResult`: the summary, rebuilt as
:class:`~facefinder.core.scan.IndexSummary` or :class:`~facefinder.core.upgrade.UpgradeSummary`,
and the library's stats) or ``failed`` (the exception: the core's own class when the worker
sent one of ours, :class:`~facefinder.gui.messages.WorkerCrashed` when the process died). A
crash never reaches the window as anything but that exception. The core's notices the worker
forwards are said again in this process (:func:`facefinder.core.errors.notice`), where the
window's status bar shows them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import deque
from dataclasses import dataclass, field, fields
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QByteArray, QProcess, QProcessEnvironment

from .jobs import Job
from .messages import WorkerFailedToStart, exception_from_wire, worker_crashed

log = logging.getLogger(__name__)

LOG_LINES = 40
"""How many of the worker's last stderr lines are kept (shown when it crashes)."""


@dataclass
class WorkerResult:
    """What a finished worker job gives: its ``summary`` (an
    :class:`~facefinder.core.scan.IndexSummary` for indexing and refresh; None for a job with
    nothing to sum up) and the library's ``stats`` afterwards."""

    summary: Any
    stats: dict = field(default_factory=dict)


def worker_command() -> tuple[str, list[str]]:
    """The program and arguments that start a worker (see :func:`facefinder.worker.command`)."""
    from ..worker import command

    program, *args = command()
    return program, args


def worker_environment(extra: dict[str, str] | None = None) -> QProcessEnvironment:
    """This process's environment (as it is now: tests and tools change it) plus ``extra``. In a
    source install the folder holding this ``facefinder`` package comes first on PYTHONPATH,
    so the worker runs the same code as the app, whatever the current folder."""
    env = QProcessEnvironment()
    for k, v in os.environ.items():
        env.insert(k, v)
    if not getattr(sys, "frozen", False):
        import facefinder

        root = os.path.dirname(os.path.dirname(os.path.abspath(facefinder.__file__)))
        paths = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                          if p and p != root]
        env.insert("PYTHONPATH", os.pathsep.join(paths))
    for k, v in (extra or {}).items():
        env.insert(k, v)
    return env


def _rebuild(kind: str | None, data: Any) -> Any:
    """A progress or summary object from its wire form: the core's dataclass when known."""
    if data is None:
        return None
    from ..core import scan, upgrade

    cls = {"IndexProgress": scan.IndexProgress, "IndexSummary": scan.IndexSummary,
           "UpgradeProgress": upgrade.UpgradeProgress,
           "UpgradeSummary": upgrade.UpgradeSummary}.get(kind)
    if cls is None:
        return SimpleNamespace(**data) if isinstance(data, dict) else data
    names = {f.name for f in fields(cls)}
    obj = cls(**{k: v for k, v in data.items() if k in names})
    if cls is scan.IndexProgress:
        obj.last_faces = [(p, tuple(int(v) for v in box)) for p, box in obj.last_faces]
        obj.summary = _rebuild("IndexSummary", data.get("summary"))
    elif cls is scan.IndexSummary:
        obj.skipped = [scan.Skipped(s["path"], s["reason"]) for s in obj.skipped]
    elif cls is upgrade.UpgradeProgress:
        obj.summary = _rebuild("UpgradeSummary", data.get("summary"))
    elif cls is upgrade.UpgradeSummary:
        obj.unreadable = [(p, r) for p, r in obj.unreadable]
    return obj


class WorkerJob(Job):
    """Runs ``job`` (a name in :data:`facefinder.worker.JOBS`) on ``library`` with ``params`` in a
    worker process. :meth:`start` launches it; :meth:`cancel` asks it to stop after the current
    batch (it commits and reports ``done`` with ``summary.cancelled``); :meth:`kill` ends it at
    once (what was committed stays)."""

    def __init__(self, job: str, library: str, params: dict | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(job)
        self.spec = {"job": job, "library": library, "params": dict(params or {})}
        self.process = QProcess()
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.setProcessEnvironment(worker_environment(env))
        self.process.readyReadStandardOutput.connect(self._read_out)
        self.process.readyReadStandardError.connect(self._read_err)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self._buffer = b""
        self._log: deque[str] = deque(maxlen=LOG_LINES)
        self._answer: tuple[str, Any] | None = None  # posted once the process has exited
        self.pid: int | None = None
        self.status = ""

    # -- control -----------------------------------------------------------------------------
    def start(self) -> None:
        program, args = worker_command()
        self.process.start(program, args)
        self.process.write(QByteArray(_line(self.spec)))

    def cancel(self) -> None:
        """Stop after the current batch; the worker commits and reports its summary."""
        super().cancel()
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.write(QByteArray(_line({"op": "cancel"})))

    def kill(self) -> None:
        """End the worker now (SIGKILL): photos in flight are lost, nothing committed is."""
        self.process.kill()

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def wait(self, msecs: int) -> bool:
        """Block until the worker has exited (closing the app); True when it did."""
        if not self.running:
            return True
        return self.process.waitForFinished(msecs)

    # -- what the worker says -------------------------------------------------------------------
    def _read_out(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            if raw.strip():
                try:
                    self._message(json.loads(raw))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("worker said something unexpected (%s): %r", exc, raw[:200])

    def _read_err(self) -> None:
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self._log.append(line)
                log.info("%s", line)

    def _message(self, m: dict) -> None:
        t = m.get("type")
        if t == "hello":
            self.pid = m.get("pid")
        elif t == "notice":
            from ..core.errors import notice

            notice(str(m.get("message", "")))
        elif t == "status":
            self.status = m.get("message", "")
            self.report(SimpleNamespace(stage="status", message=self.status))
        elif t == "progress":
            self.report(_rebuild(m.get("kind"), m.get("data")))
        elif t == "done":
            self._answer = ("done", WorkerResult(_rebuild(m.get("kind"), m.get("summary")),
                                                 m.get("stats") or {}))
        elif t == "error":
            self._answer = ("failed", exception_from_wire(m.get("error", ""),
                                                          m.get("message", "")))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        """The process has exited: now the job ends (so nothing deletes a running QProcess),
        with the worker's answer, or as a crash when it gave none."""
        self._read_out()
        self._read_err()
        if self._answer is None:
            crashed = status == QProcess.ExitStatus.CrashExit
            exit_code = -_signal_of(self.process) if crashed else code
            self._answer = ("failed", worker_crashed(self.name, exit_code, "\n".join(self._log)))
        self._post(*self._answer)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            program, args = worker_command()
            self._post("failed", WorkerFailedToStart(
                f"{program} {' '.join(args)}: {self.process.errorString()}"))


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=True) + "\n").encode("ascii")


def _signal_of(process: QProcess) -> int:
    """The signal that ended a crashed process (QProcess reports it as the exit code on Unix);
    9 (a kill) where it cannot be told."""
    code = process.exitCode()
    return code if 0 < code < 64 else 9 if os.name == "posix" else 1
