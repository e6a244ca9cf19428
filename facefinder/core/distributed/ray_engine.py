"""Indexing on a Ray cluster: :class:`RayEngine`, an engine whose photos run on Ray actors.

:func:`facefinder.core.scan.index_folder` takes an engine and uses only ``load()``,
``judged_by``, ``fingerprint`` and ``process_paths(paths, should_stop)`` (which yields one
:class:`~facefinder.core.pipeline.PhotoResult` per path, in order). :class:`RayEngine` offers the
same, so the indexing job is unchanged::

    driver (facefinder index --ray)                      Ray actors (one Engine each)
    index_folder -> RayEngine.process_paths ----chunks of paths (or bytes)----> Engine.process_paths
         ^                                   <---PhotoResults, per chunk-------
         +-- one library writer: commits every few photos (resume, kill-safety as embedded)

- **Workers.** ``workers`` actors (default: one per CPU of the cluster), each asking Ray for one
  CPU, spread over the nodes (``SPREAD``). Each loads one Engine (MTCNN + FaceNet on LiteRT, the
  models from that node's cache; ``facefinder model fetch`` there first, or let the first photo
  fetch them). All workers must report the driver's model fingerprint and the same
  ``judged_by`` (same models, same detector settings), or the job is refused before any photo is
  sent: a library never mixes embeddings of different models.
- **Photos: paths or bytes.** With shared storage (NFS, the same disk) a worker opens the files
  itself and only paths travel. When a worker cannot see the files, the driver reads each photo
  and ships its bytes (the worker writes them to a private temporary folder, processes them and
  deletes them). ``ship="auto"`` (the default) asks every worker whether it sees the first photo
  to process, with the size the driver sees: workers that do get paths, the others get bytes.
  ``ship="paths"`` or ``"bytes"`` forces one way for all.
- **Order and flow.** Photos go out in chunks of ``chunk`` (default 16); at most ``depth``
  chunks (default 2) wait at each actor, so memory stays bounded and the last chunk is never far
  behind. Results are yielded in the order of ``paths`` as chunks complete.
- **Stopping and failures.** ``should_stop()`` is checked between results and while waiting;
  chunks still out are cancelled and dropped (their photos are simply not committed, and the next
  run processes them). An actor that dies is restarted by Ray and its chunk retried once; a
  second failure stops the job with one line (what was committed stays). An error raised by the
  engine on a worker (a damaged model, say) comes back as the same one-line error.
- **The Ray runtime.** ``address=None`` or ``"local"`` starts a private Ray on this machine
  (``num_cpus=workers``; bound to 127.0.0.1, no dashboard) and shuts it down in :meth:`close`;
  any other address (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``) connects to a running
  cluster, which :meth:`close` leaves running. facefinder must be installed on every node
  (``pip install "facefinder[ray]"``).
"""

from __future__ import annotations

import os
import socket
import tempfile
from typing import Callable, Iterable, Iterator

from ..align import pipeline as named_pipeline, using_pipeline
from ..detect import DetectOptions
from ..environment import ray_environment
from ..errors import FacefinderError, ModelMismatchError, os_error_sentence
from ..pipeline import Engine, PhotoResult
from .. import facenet

LOCAL = "local"
SHIP_MODES = ("auto", "paths", "bytes")
MAX_CHUNK_BYTES = 64 << 20
"""A chunk of shipped photos holds at most this many bytes (or one photo, if larger)."""
_FORWARDED_ENV = ("FACEFINDER_BACKEND",)


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _import_ray():
    try:
        import ray
    except ImportError:
        raise FacefinderError("Indexing on Ray needs the ray package: pip install "
                              "\"facefinder[ray]\" (on this machine and on every node).") from None
    return ray


class _Worker:
    """A Ray actor's state: one Engine. Made a Ray actor class by :func:`_actor_class`."""

    def __init__(self, options: DetectOptions, batch_size: int, backend: str | None,
                 env: dict[str, str]) -> None:
        for key, value in env.items():
            os.environ.setdefault(key, value)
        self.engine = Engine(options, batch_size, backend=backend)
        self._tmp = tempfile.TemporaryDirectory(prefix="facefinder-ray-")

    def hello(self, probe: tuple[str, int] | None) -> dict:
        """Load the engine; say who judges photos here and whether this worker sees ``probe``
        (a path and its size in bytes, as the driver sees it)."""
        self.engine.load()
        sees = False
        if probe is not None:
            try:
                sees = os.path.isfile(probe[0]) and os.path.getsize(probe[0]) == probe[1]
            except OSError:
                sees = False
        return {"judged_by": self.engine.judged_by, "fingerprint": self.engine.fingerprint,
                "host": socket.gethostname(), "pid": os.getpid(), "sees": sees}

    def process(self, items: list[tuple[str, bytes | None, str | None]],
                pipeline: str | None = None) -> list[PhotoResult]:
        """Process photos given by path (``bytes`` None) or by content, cropped the way the
        named ``pipeline`` says (the library's own); results in order, with the driver's paths.
        An item with an error (the driver could not read the file) comes back as a skipped photo
        with that reason."""
        paths, shipped, failed = [], [], {}
        for i, (path, data, error) in enumerate(items):
            if error is not None:
                failed[i] = error
                continue
            if data is None:
                paths.append(path)
                continue
            ext = os.path.splitext(path)[1]
            if not ext.isascii() or len(ext) > 10:
                ext = ".img"
            local = os.path.join(self._tmp.name, f"{i}{ext}")
            with open(local, "wb") as f:
                f.write(data)
            paths.append(local)
            shipped.append(local)
        try:
            with self.engine.using(pipeline):
                processed = iter(list(self.engine.process_paths(paths)))
        finally:
            for local in shipped:
                try:
                    os.unlink(local)
                except OSError:
                    pass
        results = []
        for i, (path, _, _) in enumerate(items):
            result = PhotoResult(path, error=failed[i]) if i in failed else next(processed)
            result.path = path
            results.append(result)
        return results


_ACTOR = None


def _actor_class():
    global _ACTOR
    if _ACTOR is None:
        ray = _import_ray()
        _ACTOR = ray.remote(_Worker)
    return _ACTOR


class RayEngine:
    """An engine whose :meth:`process_paths` runs on a pool of Ray actors (module docstring).

    ``address``: None/"local" (a private Ray on this machine) or a cluster address;
    ``workers``: actors (default: the cluster's CPUs); ``ship``: "auto", "paths" or "bytes";
    ``ray_init``: extra keyword arguments for ``ray.init`` (tests: ``object_store_memory``)."""

    def __init__(self, address: str | None = None, workers: int | None = None,
                 options: DetectOptions = DetectOptions(), batch_size: int = 32,
                 backend: str | None = None, ship: str = "auto", chunk: int = 16,
                 depth: int = 2, ray_init: dict | None = None) -> None:
        if ship not in SHIP_MODES:
            raise FacefinderError(f"ship must be one of {', '.join(SHIP_MODES)}, not {ship!r}")
        if workers is not None and workers < 1:
            raise FacefinderError("--ray-workers must be at least 1")
        self.address = address or LOCAL
        self.workers = workers
        self.options = options
        self.batch_size = batch_size
        self.backend = backend
        self.ship = ship
        self.chunk = max(1, int(chunk))
        self.depth = max(1, int(depth))
        self._ray_init = dict(ray_init or {})
        self._started_ray = False
        self._actors: list = []
        self._info: list[dict] = []
        self._modes: list[str] = []  # per actor: "paths" or "bytes"
        self._judged_by = ""
        self.pipeline = named_pipeline(None)  # the crop the workers use (a library's own)

    # -- the engine interface used by index_folder ---------------------------------------------
    def load(self) -> None:
        """Join (or start) Ray and start the workers, each with its Engine loaded; checks that
        every worker runs this library's model. Idempotent."""
        if self._actors:
            return
        ray = self._connect()
        n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor = _actor_class()
        env = {k: os.environ[k] for k in _FORWARDED_ENV if k in os.environ}
        self._actors = [
            actor.options(num_cpus=1, max_restarts=1, max_task_retries=1,
                          scheduling_strategy="SPREAD").remote(
                self.options, self.batch_size, self.backend, env)
            for _ in range(n)]
        self._info = self._call(ray, [a.hello.remote(None) for a in self._actors],
                                "start the face model on the Ray workers")

        mine = facenet.fingerprint()
        for info in self._info:
            if info["fingerprint"] != mine:
                self.close()
                raise ModelMismatchError(
                    f"The Ray worker on {info['host']} runs another face model "
                    f"({info['fingerprint']}, here {mine}); install the same facefinder on "
                    "every node.")
        judges = {info["judged_by"] for info in self._info}
        if len(judges) > 1:
            self.close()
            raise FacefinderError(
                "The Ray workers run different model files or settings ("
                + "; ".join(sorted(judges)) + "); install the same facefinder on every node "
                "and run `facefinder model fetch` there.")
        self._judged_by = judges.pop()

    @property
    def loaded(self) -> bool:
        return bool(self._actors)

    def using(self, pipeline):
        """Like :meth:`Engine.using`: the workers crop with ``pipeline`` inside the block."""
        return using_pipeline(self, pipeline)

    @property
    def fingerprint(self) -> str:
        return facenet.fingerprint()

    @property
    def judged_by(self) -> str:
        self.load()
        return self._judged_by

    def describe(self) -> str:
        """One line for the user: where the work runs."""
        hosts = sorted({i["host"] for i in self._info})
        modes = sorted(set(self._modes))
        if modes:
            how = f"photos sent as {' and '.join(modes)}"
        elif self.ship == "auto":
            how = "photos sent as paths to workers that see them, as bytes to the others"
        else:
            how = f"photos sent as {self.ship}"
        where = "a local Ray" if self.address == LOCAL else f"Ray at {self.address}"
        return (f"Indexing on {where}: {len(self._actors)} worker"
                f"{'s' if len(self._actors) != 1 else ''} on {len(hosts)} machine"
                f"{'s' if len(hosts) != 1 else ''}, {how}")

    def process_paths(self, paths: Iterable[str], should_stop: Callable[[], bool] = lambda: False
                      ) -> Iterator[PhotoResult]:
        """Yield one :class:`PhotoResult` per path, in order (module docstring)."""
        self.load()
        ray = _import_ray()
        paths = list(paths)
        if not paths:
            return
        self._choose_modes(ray, paths[0])
        chunks = self._chunks(paths)
        in_flight: dict = {}  # ObjectRef -> (chunk number, actor number, attempt)
        load = [0] * len(self._actors)
        done: dict[int, list[PhotoResult]] = {}
        next_submit = next_yield = 0
        try:
            while next_yield < len(chunks):
                while next_submit < len(chunks) and len(in_flight) < self.depth * len(load):
                    self._submit(chunks, next_submit, load, in_flight, 0)
                    next_submit += 1
                if next_yield in done:
                    for result in done.pop(next_yield):
                        yield result
                        if should_stop():
                            return
                    next_yield += 1
                    continue
                if should_stop():
                    return
                ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    number, worker, attempt = in_flight.pop(ref)
                    load[worker] -= 1
                    try:
                        done[number] = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - Ray's errors, translated below
                        if attempt == 0 and _is_worker_death(exc):
                            self._submit(chunks, number, load, in_flight, 1)
                            continue
                        raise _translate(exc, chunks[number]) from None
        finally:
            for ref in in_flight:  # stopped early: what is still out is dropped
                try:
                    ray.cancel(ref)
                except Exception:  # noqa: BLE001 - best effort; results are ignored anyway
                    pass

    # -- internals ------------------------------------------------------------------------------
    def _connect(self):
        # A local Ray stays private, on the loopback interface (read by Ray when it is imported).
        ray_environment(local=self.address == LOCAL)
        ray = _import_ray()
        if ray.is_initialized():
            return ray  # the caller (a test, a notebook) runs Ray already: use it
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                      configure_logging=True)
        kwargs.update(self._ray_init)
        try:
            if self.address == LOCAL:
                kwargs.setdefault("num_cpus", self.workers or os.cpu_count() or 1)
                kwargs.setdefault("_node_ip_address", "127.0.0.1")
                ray.init(address="local", **kwargs)
            else:
                kwargs.pop("include_dashboard", None)
                ray.init(address=self.address, **kwargs)
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError...
            raise FacefinderError(f"Cannot start or join Ray at {self.address} "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})."
                                  ) from None
        self._started_ray = True
        return ray

    def _call(self, ray, refs: list, what: str) -> list:
        try:
            return ray.get(refs)
        except Exception as exc:  # noqa: BLE001
            self.close()
            raise _translate(exc, [], what) from None

    def _choose_modes(self, ray, probe_path: str) -> None:
        if self.ship != "auto":
            self._modes = [self.ship] * len(self._actors)
            return
        try:
            probe = (probe_path, os.path.getsize(probe_path))
        except OSError:
            probe = None
        infos = self._call(ray, [a.hello.remote(probe) for a in self._actors],
                           "ask the Ray workers whether they see the photos")
        self._modes = ["paths" if i["sees"] else "bytes" for i in infos]

    def _chunks(self, paths: list[str]) -> list[list[str]]:
        out, cur, size = [], [], 0
        for p in paths:
            try:
                n = os.path.getsize(p) if "bytes" in self._modes else 0
            except OSError:
                n = 0
            if cur and (len(cur) >= self.chunk or size + n > MAX_CHUNK_BYTES):
                out.append(cur)
                cur, size = [], 0
            cur.append(p)
            size += n
        if cur:
            out.append(cur)
        return out

    def _submit(self, chunks, number: int, load: list[int], in_flight: dict, attempt: int) -> None:
        worker = min(range(len(load)), key=lambda i: (load[i], i))
        items: list[tuple[str, bytes | None, str | None]] = []
        for path in chunks[number]:
            if self._modes[worker] == "paths":
                items.append((path, None, None))
                continue
            try:
                with open(path, "rb") as f:
                    items.append((path, f.read(), None))
            except OSError as exc:
                # Gone or unreadable since the scan: reported like any photo that cannot be read.
                items.append((path, None, os_error_sentence(exc, "cannot be read").split(": ", 1)[-1]))
        ref = self._actors[worker].process.remote(items, self.pipeline.name)
        load[worker] += 1
        in_flight[ref] = (number, worker, attempt)

    def close(self) -> None:
        """Stop the workers; shut down Ray if this engine started it."""
        if not self._actors and not self._started_ray:
            return
        try:
            ray = _import_ray()
            for a in self._actors:
                try:
                    ray.kill(a)
                except Exception:  # noqa: BLE001 - already gone
                    pass
            if self._started_ray and ray.is_initialized():
                ray.shutdown()
        finally:
            self._actors = []
            self._started_ray = False

    def __enter__(self) -> "RayEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_worker_death(exc: BaseException) -> bool:
    from ray import exceptions as rex

    return isinstance(exc, (rex.RayActorError, rex.WorkerCrashedError, rex.ObjectLostError))


def _translate(exc: BaseException, chunk: list[str], what: str = "process photos") -> Exception:
    """One line for an error that came back from Ray."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, FacefinderError):
        return cause  # the engine's own one-line error (a damaged model, ...)
    if isinstance(cause, OSError):
        return FacefinderError(os_error_sentence(cause))
    first = str(cause or exc).strip().splitlines()
    reason = first[-1] if first else type(exc).__name__
    where = f" (photos from {chunk[0]})" if chunk else ""
    return FacefinderError(f"A Ray worker failed to {what}{where}: {reason[:300]}. What was "
                           "committed is kept; run the same command again to continue.")
