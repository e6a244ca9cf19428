"""One table from an exception's class to what the user reads.

Jobs fail with exception objects (:mod:`facefinder.gui.jobs`); every window turns them into
words here, so that one kind of failure reads the same everywhere. Each row gives a short tag
(``kind``, kept in the service's signals for the windows that branch on it) and a headline; the
exception's own text (a full sentence for a :class:`~facefinder.core.errors.FacefinderError`)
is the detail under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication

from ..core.errors import FacefinderError, ImageError, LibraryDamagedError, LibraryError, \
    ModelDamagedError, ModelMismatchError, ModelUnavailableError, NoFaceError, StorageError


class WorkerCrashed(Exception):
    """The worker process running a long job ended without finishing it (killed, crashed, out
    of memory). ``exit_code``: its exit status, or the signal number as a negative value."""

    def __init__(self, job: str, exit_code: int, log_tail: str = "") -> None:
        self.job = job
        self.exit_code = exit_code
        self.log_tail = log_tail
        how = (f"killed by signal {-exit_code}" if exit_code < 0 else
               f"exit status {exit_code}")
        last = log_tail.strip().splitlines()[-1] if log_tail.strip() else ""
        super().__init__(f"The {job} process ended unexpectedly ({how})."
                         + (f" Its last words: {last}" if last else ""))


class UpgradeCrashed(WorkerCrashed):
    """The worker process running a library upgrade ended without finishing it."""


class ModelServerCrashed(WorkerCrashed):
    """The model server (searches and compares) ended while it was asked for faces."""


MODEL_SERVER = "face model"
"""The job name the model server's crashes carry."""


def worker_crashed(job: str, exit_code: int, log_tail: str = "") -> WorkerCrashed:
    """The exception for a worker process that ended without finishing ``job`` (its name in
    :data:`facefinder.worker.JOBS`, or :data:`MODEL_SERVER`), of the class whose sentence fits
    the job."""
    cls = {"upgrade": UpgradeCrashed, MODEL_SERVER: ModelServerCrashed}.get(job, WorkerCrashed)
    return cls(job, exit_code, log_tail)


class WorkerFailedToStart(Exception):
    """The worker process could not be started at all (a missing or broken installation)."""


@dataclass(frozen=True)
class Problem:
    kind: str
    headline: str
    detail: str


# (exception class, kind, translation context, headline); the first row that matches wins, so
# subclasses come before their bases. "{library}" in a headline is filled in by the caller.
TABLE: list[tuple[type[BaseException], str, str, str]] = [
    (UpgradeCrashed, "upgradecrash", "Messages",
     "The library upgrade stopped unexpectedly. What was re-embedded is kept; upgrade again to "
     "finish."),
    (ModelServerCrashed, "servercrash", "Messages",
     "The face model's process ended unexpectedly; try again."),
    (WorkerCrashed, "crash", "Messages",
     "Indexing stopped unexpectedly. What was indexed before is kept; resume to finish."),
    (WorkerFailedToStart, "crash", "Messages",
     "The indexing process could not be started."),
    (ImageError, "image", "MainWindow", "This file is not a photo that can be read."),
    (NoFaceError, "noface", "MainWindow",
     "No face was found in this photo. Try one where a face is clearly visible."),
    (ModelMismatchError, "mismatch", "Messages",
     "This library was built with another face model; index into a new library instead."),
    (LibraryDamagedError, "damaged", "Messages",
     "The library's catalog is damaged. “facefinder library repair” keeps everything that can "
     "still be read; your photos are not touched."),
    (LibraryError, "library", "MainWindow",
     "The library “{name}” is empty. Index a folder first (File ▸ Index a folder…)."),
    (ModelDamagedError, "modeldamaged", "Messages",
     "A file of the face model is damaged. “facefinder model fetch” checks and repairs it."),
    (ModelUnavailableError, "model", "MainWindow", "The face model is missing."),
    (StorageError, "storage", "Messages",
     "The disk is full, read-only or refuses access. Nothing saved before is lost."),
    (MemoryError, "memory", "Messages", "There was not enough memory for this."),
    (OSError, "io", "Messages", "A file or folder could not be read or written."),
    (BaseException, "error", "MainWindow", "Something went wrong."),
]


def _row(exc_or_kind) -> tuple[type[BaseException], str, str, str]:
    for row in TABLE:
        if isinstance(exc_or_kind, str):
            if row[1] == exc_or_kind:
                return row
        elif isinstance(exc_or_kind, row[0]):
            return row
    return TABLE[-1]


def kind_of(exc: BaseException) -> str:
    """The short tag of an exception: 'image', 'noface', 'library', 'model', 'crash', ..."""
    return _row(exc)[1]


def headline(exc_or_kind: BaseException | str, **names: str) -> str:
    """The sentence the user sees for an exception (or for a ``kind`` tag)."""
    _, _, context, text = _row(exc_or_kind)
    text = QCoreApplication.translate(context, text)
    return text.format(**names) if names else text.replace("{name}", "").replace("“”", "")


def detail(exc: BaseException) -> str:
    """The exception's own words: a sentence for facefinder's errors, ``Type: text`` else."""
    if isinstance(exc, (FacefinderError, WorkerCrashed)):
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def describe(exc: BaseException, **names: str) -> Problem:
    """Kind, headline and detail of an exception, for a message in a window."""
    return Problem(kind_of(exc), headline(exc, **names), detail(exc))


def exception_from_wire(name: str, message: str) -> BaseException:
    """The worker reports a failure by class name; rebuild an exception of that class (or a
    FacefinderError / RuntimeError when the class is not one of ours) so the table applies."""
    from ..core import errors

    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, FacefinderError):
        return cls(message)
    if name == "MemoryError":
        return MemoryError(message)
    return RuntimeError(f"{name}: {message}")


def ask_yes_no(parent, title: str, text: str) -> bool:
    """A Yes/No question (No is the default, so Enter does not stop anything by accident);
    True for Yes. ``title`` and ``text`` come translated from the asking window."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
