"""The worker process: runs one long core job (indexing, refresh, the library upgrade) away from
the app's window, or serves the app's searches with the face model (the ``serve`` job).

The desktop app starts it for every long job (``python -m facefinder.worker``; in the packaged
app, the same executable with ``--worker``) and talks to it over its standard streams:

* **stdin**, one JSON object per line: first the job, ``{"job": "index", "library": "default",
  "params": {...}}``; afterwards control messages, ``{"op": "cancel"}``. End of input (the app
  went away) cancels too, as do SIGTERM and SIGINT.
* **stdout**, one JSON object per line, each with a ``"type"``: ``hello`` (pid, version),
  ``status`` (a sentence: "Loading the face model"), ``progress`` (``kind``: the progress
  object's class, ``data``: its fields), ``notice`` (``message``: one of the core's one-line
  notices, :func:`facefinder.core.errors.notice`: a damaged index rebuilt, a model made again;
  the app shows it in its status bar), ``done`` (``summary`` and the library's ``stats``) or
  ``error`` (``error``: the exception's class name, ``message``: its sentence). Nothing else is
  written there: anything a library prints goes to stderr.
* **stderr**: log lines; the app keeps the last ones to explain a crash.

The ``serve`` job is different: a long-lived model server for the app's searches and compares.
After its job line, each stdin line is a request, ``{"op": "faces", "path": ..., "pipeline":
NAME or null}`` (the crop pipeline to embed with: a library's own, :mod:`facefinder.core.align`;
null: the default), answered by one stdout line: ``{"type": "faces", "width", "height", "faces":
[{"box", "confidence", "landmarks", "embedding"}]}`` (largest face first; the embedding's 128
float32 values survive JSON exactly) or ``{"type": "error", ...}``, possibly after ``notice``
lines. End of input ends it. The app's own process then
never runs MTCNN or FaceNet: their numpy preprocessing holds the GIL for a few hundred ms on a
camera photo, which would freeze the window.

A job stops after the current batch when cancelled: what was processed is committed and the index
saved, then ``done`` comes with ``summary.cancelled`` set. A killed worker loses only the photos in
flight (see :mod:`facefinder.core.scan`): the library stays consistent and the next run resumes.

The job runs at the core's full batch size: this process has no window to keep responsive. It
imports the core only (never Qt), so it starts in well under a second plus the model load.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterator

log = logging.getLogger("facefinder.worker")

PROTOCOL = 1


# -- the jobs ----------------------------------------------------------------------------------
def _index_job(library, engine, should_stop: Callable[[], bool], folder: str,
               recursive: bool = True, extensions: list[str] | None = None, **_ignored
               ) -> Iterator:
    from .core import scan

    kwargs = {"extensions": frozenset(extensions)} if extensions else {}
    return scan.index_folder(library, engine, folder, recursive, should_stop, **kwargs)


def _refresh_job(library, engine, should_stop: Callable[[], bool], **_ignored) -> Iterator:
    from .core import scan

    return scan.refresh_library(library, engine, should_stop)


def _upgrade_job(library, engine, should_stop: Callable[[], bool], commit_every: int = 64,
                 **_ignored) -> Iterator:
    from .core.upgrade import upgrade_library

    return upgrade_library(library, engine, should_stop=should_stop,
                           commit_every=int(commit_every))


JOBS: dict[str, Callable[..., Iterator]] = {
    "index": _index_job,
    "refresh": _refresh_job,
    "upgrade": _upgrade_job,
}
"""Every job the worker runs: ``name -> fn(library, engine, should_stop, **params)`` returning a
core generator of progress objects (the last ones may carry ``summary``). A new long core job
is one more entry here; the app runs it with ``ServiceClient.start_worker_job``."""

NEEDS_ENGINE = {"index", "refresh", "upgrade"}
CREATES_LIBRARY = {"index", "refresh"}
"""Jobs that make the library when it does not exist yet (the others need one)."""


def command() -> list[str]:
    """The command line that starts a worker: the packaged app's own executable with
    ``--worker`` (packaging/entry.py), else this Python with ``-m facefinder.worker``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--worker"]
    return [sys.executable, "-u", "-m", "facefinder.worker"]


# -- the wire format ---------------------------------------------------------------------------
def to_wire(value: Any) -> Any:
    """Dataclasses, tuples, paths and numpy scalars as JSON-ready values (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_wire(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def encode(message: dict) -> str:
    """One line of the protocol. Paths that are not valid UTF-8 travel as their surrogate
    escapes (``\\udcxx``, JSON's ensure_ascii) and come back unchanged."""
    return json.dumps(message, ensure_ascii=True, allow_nan=False) + "\n"


def merge_summaries(total, summary):
    """Add up the summaries of several folders (a refresh: each an
    :class:`~facefinder.core.scan.IndexSummary`, see its ``merge``); ``total`` None: the
    first."""
    return summary if total is None else total.merge(summary)


# -- running one job -----------------------------------------------------------------------------
class _Out:
    """The protocol stream: a private copy of stdout (fd 1 itself then points at stderr)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, type_: str, **fields) -> None:
        line = encode({"type": type_, **fields})
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (BrokenPipeError, ValueError):  # the app is gone; the job still commits
                pass


def _load_engine(options: dict, out: _Out):
    from .core import weights
    from .core.detect import DetectOptions
    from .core.errors import ModelUnavailableError
    from .core.pipeline import Engine

    if weights.cached_weights() is None:  # the app asks before downloading; never here
        raise ModelUnavailableError("The face model is not downloaded yet.")
    defaults = DetectOptions()
    detect = DetectOptions(
        min_face=int(options.get("min_face") or defaults.min_face),
        detect_size=int(options.get("detect_size", defaults.detect_size)),
    )
    engine = Engine(detect, progress=lambda message, done, total: out.send("status",
                                                                           message=message))
    engine.load()
    return engine


def run_job(spec: dict, out: _Out, should_stop: Callable[[], bool]) -> int:
    """Run the job ``spec`` describes, reporting on ``out``; returns the exit status."""
    from .core.distributed.locations import open_library
    from .core.facenet import fingerprint

    name = spec.get("job")
    params = dict(spec.get("params") or {})
    if name not in JOBS:
        out.send("error", error="ValueError", message=f"unknown job {name!r}")
        return 2
    try:
        engine = _load_engine(params, out) if name in NEEDS_ENGINE else None
        with open_library(spec.get("library") or None, fingerprint(),
                          create=name in CREATES_LIBRARY) as library:
            summary = None
            for item in JOBS[name](library, engine, should_stop, **params):
                done = getattr(item, "summary", None)
                if done is not None:
                    summary = merge_summaries(summary, done)
                    continue
                out.send("progress", kind=type(item).__name__, data=to_wire(item))
            stats = library.stats()
        out.send("done", kind=type(summary).__name__ if summary is not None else None,
                 summary=to_wire(summary), stats=to_wire(stats))
        return 0
    except Exception as exc:  # a FacefinderError is a sentence for the user; anything else a bug
        from .core.errors import FacefinderError

        if not isinstance(exc, FacefinderError):
            log.exception("the %s job failed", name)
        out.send("error", error=type(exc).__name__, message=str(exc) or type(exc).__name__)
        return 1


def serve(spec: dict, out: _Out) -> int:
    """The model server: answer ``faces`` requests from stdin until it ends (see the module
    docstring)."""
    from .core.errors import FacefinderError

    try:
        engine = _load_engine(dict(spec.get("params") or {}), out)
    except Exception as exc:
        out.send("error", error=type(exc).__name__, message=str(exc) or type(exc).__name__)
        return 1
    if engine.backend == "lite":
        # Plan FaceNet for one face now (a few hundred ms at a new batch shape), not during
        # the first search. (Not on TensorFlow: embedding before the first detection there
        # crashed TF in a later PNet conv2d.)
        import numpy as np

        engine.embed(np.zeros((1, 160, 160, 3), np.float32))
    out.send("ready", backend=engine.backend, fingerprint=engine.fingerprint)
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if request.get("op") == "box":  # a face drawn by hand (people tools, issue 14)
            _serve_box(engine, request, out)
            continue
        if request.get("op") != "faces":
            out.send("error", error="ValueError", message=f"unknown request {line[:80]!r}")
            continue
        try:
            with engine.using(request.get("pipeline") or None):
                photo, faces = engine.faces_in_file(request["path"])
        except Exception as exc:
            if not isinstance(exc, FacefinderError):
                log.exception("faces of %r failed", request.get("path"))
            out.send("error", error=type(exc).__name__, message=str(exc) or type(exc).__name__)
            continue
        out.send("faces", width=photo.width, height=photo.height, faces=[
            {"box": [int(v) for v in f.box], "confidence": float(f.confidence),
             "landmarks": f.landmarks.tolist(), "embedding": f.embedding.tolist()}
            for f in faces])
    return 0


def _serve_box(engine, request: dict, out: _Out) -> None:
    """``{"op": "box", "path", "box": [x, y, w, h], "pipeline"}``: the embedding of a face drawn
    by hand, answered as a ``faces`` line with that one face."""
    from .core.corrections import drawn_rect, embed_box
    from .core.errors import FacefinderError

    try:
        rect = drawn_rect(request["path"], request["box"])
        emb = embed_box(engine, request["path"], rect, request.get("pipeline") or None)
    except Exception as exc:
        if not isinstance(exc, FacefinderError):
            log.exception("box on %r failed", request.get("path"))
        out.send("error", error=type(exc).__name__, message=str(exc) or type(exc).__name__)
        return
    out.send("faces", width=0, height=0, faces=[
        {"box": list(rect), "confidence": 0.0, "landmarks": [[0.0, 0.0]] * 5,
         "embedding": emb.tolist()}])


class _NoticeHandler(logging.Handler):
    """Sends the core's notices (logger ``facefinder.notice``) to the app as ``notice`` lines."""

    def __init__(self, out: _Out) -> None:
        super().__init__(logging.WARNING)
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._out.send("notice", message=record.getMessage())
        except Exception:  # never let a notice break the job
            pass


def _watch_stdin(stop: threading.Event) -> None:
    """Control messages after the job line; end of input means the app is gone: stop too."""
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("op") == "cancel":
            stop.set()
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """Read the job from stdin, run it, report on stdout; see the module docstring."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="worker %(levelname)s %(name)s: %(message)s")
    out = _Out(os.fdopen(os.dup(1), "w", encoding="ascii", buffering=1))
    os.dup2(2, 1)  # stray prints (ours, a library's, C code's) go to stderr, not the protocol
    sys.stdout = sys.stderr
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(sig, lambda *_args: stop.set())
        except (ValueError, OSError):
            pass
    from . import __version__
    from .core.errors import NOTICE_LOGGER

    logging.getLogger(NOTICE_LOGGER).addHandler(_NoticeHandler(out))
    out.send("hello", pid=os.getpid(), version=__version__, protocol=PROTOCOL)
    line = sys.stdin.readline()
    if not line:
        return 2
    try:
        spec = json.loads(line)
    except ValueError:
        out.send("error", error="ValueError", message="the job line is not JSON")
        return 2
    if spec.get("job") == "serve":
        return serve(spec, out)
    threading.Thread(target=_watch_stdin, args=(stop,), name="facefinder-stdin",
                     daemon=True).start()
    return run_job(spec, out, stop.is_set)


if __name__ == "__main__":
    sys.exit(main())
