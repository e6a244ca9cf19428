"""The work behind the app's requests, as plain functions run on the job runner's lanes.

Nothing here touches a widget or emits a signal: :class:`~facefinder.gui.client.ServiceClient`
runs these functions as :class:`~facefinder.gui.jobs.Job` objects and turns their results and
exceptions into its signals. State lives in two holders, each used from one lane only:

* :class:`Models` (the ``model`` lane): the model server process, started there lazily, and the
  last query photo's faces;
* :class:`Libraries` (the ``library`` lane): the open :class:`~facefinder.core.library.Library`
  objects. Long jobs (indexing, refresh) write the library from the worker process; these
  ``Library`` objects notice its commits and bring their index in step before searching.

The face model itself runs in a long-lived model server process (:class:`ModelServer`), which
the model lane talks to over pipes: LiteRT releases the GIL while it computes (a 10 ms timer on
another thread kept ticking within 13 ms during batch-32 FaceNet calls of 1.2 s), but MTCNN's
numpy preprocessing of a camera photo holds it for 200-330 ms, measured, which in this process
would freeze the window.
"""

from __future__ import annotations

import logging
import os
import traceback
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QImage

from ..core.align import face_crop, pipeline
from ..core.errors import ImageError, NoFaceError, notice
from ..core.images import load_photo
from ..worker import command
from .messages import MODEL_SERVER, WorkerCrashed, exception_from_wire, kind_of, worker_crashed
from .worker_job import worker_environment

# The rest of the core (the model's side, search, people, upgrade, Qdrant) is imported where it
# is used: about 0.1 s that the window does not wait for when it starts (measured: 0.09 s on
# top of the window's 0.46 s).

log = logging.getLogger(__name__)

MAX_QUERY_SIDE = 1600
"""The query photo is sent to the GUI scaled down to this longest side (boxes stay in photo px)."""


def pil_to_qimage(image) -> QImage:
    """A PIL RGB image as a QImage that owns its pixels (safe to send across threads)."""
    image = image.convert("RGB")
    data = image.tobytes()
    qimg = QImage(data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from the Python buffer


def error_kind(exc: BaseException) -> str:
    """A short tag the GUI turns into a headline (see :mod:`facefinder.gui.messages`)."""
    return kind_of(exc)


def face_thumbnails(path: str, boxes: list, size: int) -> list[QImage]:
    """The crops of faces of one photo as ``size`` px QImages, framed as the default pipeline
    frames them for FaceNet (off the GUI thread). The photo is decoded once, and a large JPEG
    at the smallest DCT scale (1/2, 1/4, 1/8) at which its smallest face's crop still spans
    ``size`` px: for a camera photo that is 4-16x less work than a full decode. Raises
    ImageError when the photo cannot be read."""
    from PIL import Image

    spec = pipeline(None).crop
    try:
        with Image.open(path) as im:  # the header only: the photo's size
            longest = max(im.size)
    except Exception:
        longest = 0
    side = min(spec.side(b) for b in boxes)
    hint = min(longest, int(longest * size / max(side, 1) * 1.1) + 1) if longest else None
    photo = load_photo(path, max_side_hint=hint)
    if photo.reduced < 1.0 and side * photo.reduced < size:
        photo = load_photo(path)
    f = photo.reduced
    scaled = spec.scaled(f)
    return [pil_to_qimage(face_crop(photo.image, tuple(v * f for v in box), size=size,
                                    spec=scaled)) for box in boxes]


def face_thumbnail(path: str, box, size: int) -> QImage:
    """One face's aligned crop as a ``size`` px QImage (see :func:`face_thumbnails`)."""
    return face_thumbnails(path, [box], size)[0]


@dataclass
class SearchOutcome:
    """What a search gives the GUI. ``boxes`` (x, y, w, h) in photo pixels, largest first;
    ``hits`` are :class:`~facefinder.core.library.Hit`; ``image`` is the photo, possibly scaled
    down (``scale`` = image px / photo px)."""

    path: str
    image: QImage
    width: int
    height: int
    scale: float
    boxes: list[tuple[int, int, int, int]]
    chosen: int
    hits: list = field(default_factory=list)
    library: str = ""
    people: dict = field(default_factory=dict)
    """``{face id: (person id, name or None, group size)}`` for the hits whose face is in a
    group (see :mod:`facefinder.core.people`)."""
    distinct: bool = False
    """True: ``hits`` are the nearest distinct people, each by its face nearest the query."""
    judge: object = None
    """The :class:`~facefinder.core.verify.Judge` of the hits' verdicts (the one function the
    CLI's ``same_person`` comes from too)."""
    pipeline: str = ""
    """The library's pipeline, which the query was embedded with."""


@dataclass
class Query:
    """A query photo's faces (largest first, embedded with ``pipeline``) and the picture shown
    for it."""

    key: tuple
    path: str
    width: int
    height: int
    faces: list
    image: QImage
    scale: float
    pipeline: str = ""


class WeightsMissing(Exception):
    """The FaceNet weights are not cached (the app then offers to fetch or import them)."""


# -- the model lane --------------------------------------------------------------------------------
class ModelServer:
    """The model server process (``facefinder.worker``'s ``serve`` job), driven from the model
    lane's thread with plain pipes: one request out, one answer back. MTCNN and FaceNet run
    there, never in the app's process (their numpy preprocessing holds the GIL for a few hundred
    ms on a camera photo, which would freeze the window). A server that died is started again
    by the next request. The core's notices the server sends (a model file made again, say)
    are said again here, through :func:`facefinder.core.errors.notice`, so the window shows
    them like its own."""

    def __init__(self) -> None:
        self.proc = None
        self.backend = ""

    def start(self, say: Callable[[str], None]) -> None:
        import json
        import subprocess

        env = worker_environment()
        self.proc = subprocess.Popen(
            command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True,
            encoding="ascii", env={k: env.value(k) for k in env.keys()})
        self.proc.stdin.write(json.dumps({"job": "serve"}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise self._crashed()
            m = json.loads(line)
            if m.get("type") == "notice":
                _notice(m)
            elif m.get("type") == "status":
                say(m["message"] + ("…" if not m["message"].endswith(("…", ".")) else ""))
            elif m.get("type") == "ready":
                self.backend = m.get("backend", "")
                return
            elif m.get("type") == "error":
                self.stop()
                raise exception_from_wire(m.get("error", ""), m.get("message", ""))

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def box(self, path: str, box, pipeline: str = "") -> tuple[tuple[int, ...], object]:
        """A face drawn by hand: ``(rect clipped to the photo, embedding (128,))`` of ``box``
        (x, y, w, h) on a photo, cropped with ``pipeline``."""
        _w, _h, faces = self._request({"op": "box", "path": path,
                                       "box": [float(v) for v in box],
                                       "pipeline": pipeline or None})
        return tuple(faces[0].box), faces[0].embedding

    def _crashed(self) -> Exception:
        """The server's output ended: it died. Its exit status, as the error to raise."""
        code = self.proc.wait()
        self.proc = None
        return worker_crashed(MODEL_SERVER, code)

    def faces(self, path: str, pipeline: str = "") -> tuple[int, int, list]:
        """``(width, height, faces)`` of a photo, largest face first, each a
        :class:`~facefinder.core.pipeline.Face` embedded with ``pipeline`` (a name of
        :data:`~facefinder.core.align.PIPELINES`; empty: the default). Raises what the engine
        raised (ImageError...), or :class:`~facefinder.gui.messages.WorkerCrashed` when the
        server died."""
        return self._request({"op": "faces", "path": path, "pipeline": pipeline or None})

    def _request(self, request: dict) -> tuple[int, int, list]:
        """One request to the server and its ``faces`` answer."""
        import json

        import numpy as np

        from ..core.pipeline import Face

        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            while True:
                line = self.proc.stdout.readline()
                if not line or json.loads(line).get("type") != "notice":
                    break
                _notice(json.loads(line))
        except (OSError, ValueError):
            line = ""
        if not line:
            raise self._crashed()
        m = json.loads(line)
        if m.get("type") == "error":
            raise exception_from_wire(m.get("error", ""), m.get("message", ""))
        faces = [Face(tuple(f["box"]), f["confidence"], np.asarray(f["landmarks"], np.float32),
                      np.asarray(f["embedding"], np.float32)) for f in m["faces"]]
        return m["width"], m["height"], faces

    def stop(self, timeout: float = 10.0) -> None:
        """End the server: end of input, then a kill if it does not go."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout)
        except Exception:
            proc.kill()
            proc.wait()


class Models:
    """The face model (in its server process) and the last query, used from the model lane."""

    def __init__(self) -> None:
        self.server = ModelServer()
        self.weights_ok = False
        self._query: Query | None = None
        self.parked = False
        """The server was ended for a worker job (:meth:`park`) and is to come back."""

    @property
    def loaded(self) -> bool:
        return self.server.running

    def ensure(self, say: Callable[[str], None] = lambda _s: None) -> ModelServer:
        """The running model server, starting it (and so loading the model) on first use;
        raises :class:`WeightsMissing` when the weights are not cached (never downloads without
        asking)."""
        if self.server.running:
            return self.server
        if not self.weights_ok:
            from ..core import weights

            say(QCoreApplication.translate("ModelService", "Checking the face model…"))
            if weights.cached_weights() is None:
                raise WeightsMissing(QCoreApplication.translate(
                    "ModelService", "The face model is not downloaded yet."))
            self.weights_ok = True
        say(QCoreApplication.translate("ModelService", "Loading face model…"))
        self.server.start(say)
        say(QCoreApplication.translate("ModelService", "Face model ready."))
        return self.server

    def _faces(self, path: str, pipeline: str = "") -> tuple[int, int, list]:
        server = self.ensure()
        try:
            return server.faces(path, pipeline)
        except Exception as exc:
            if not isinstance(exc, WorkerCrashed):
                raise
        return self.ensure().faces(path, pipeline)  # the server died: once more, a new one

    def query(self, path: str, pipeline: str = "") -> Query:
        """The faces of a query photo, embedded with ``pipeline`` (the library's own; empty: the
        default), remembered (picking another face, or another ``k``, does not run the detector
        again), and the photo, decoded here for showing."""
        try:
            st = os.stat(path)
            key = (path, st.st_size, st.st_mtime_ns, pipeline)
        except OSError:
            key = (path, None, None, pipeline)
        if self._query is not None and self._query.key == key:
            return self._query
        width, height, faces = self._faces(path, pipeline)
        photo = load_photo(path, max_side_hint=MAX_QUERY_SIDE)
        longest = max(width, height)
        scale = min(1.0, MAX_QUERY_SIDE / longest) if longest else 1.0
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        shown = photo.image if photo.image.size == size else photo.image.resize(size)
        self._query = Query(key, path, width, height, faces, pil_to_qimage(shown), scale,
                            pipeline)
        return self._query

    def compare(self, a: str, b: str) -> tuple[float, QImage, QImage, dict]:
        """The distance between the main faces (:func:`~facefinder.core.pipeline.main_face`) of
        two photos, embedded with the default pipeline, both crops as that pipeline frames them,
        and ``info``: ``{"pipeline", "small"}``, what
        :func:`~facefinder.core.verify.pair_verdict` needs. An exception carries ``which``: 0
        or 1, the photo at fault (-1: neither)."""
        from ..core.pipeline import main_face
        from ..core.search import compare_faces

        default = pipeline(None)
        found = []
        for which, path in enumerate((a, b)):
            try:
                width, height, faces = self._faces(path, default.name)
                if not faces:
                    raise NoFaceError(f"{path}: no face found in this photo")
                found.append((load_photo(path), faces[main_face(faces, width, height)]))
            except Exception as exc:
                exc.which = which
                raise
        c = compare_faces(found[0][1], found[1][1], default.name)
        crops = [pil_to_qimage(face_crop(photo.image, face.box, size=160, spec=default.crop))
                 for photo, face in found]
        return c.distance, crops[0], crops[1], {"pipeline": c.pipeline, "small": c.small}

    def park(self) -> None:
        """End the model server while a worker process indexes with a model of its own (peak
        memory of indexing: the app and the worker, not a third process holding the same model).
        The next search starts it again (:meth:`ensure`), as does :meth:`unpark`."""
        if self.server.running:
            self.server.stop()
            self.parked = True

    def unpark(self) -> None:
        """Start the model server again if :meth:`park` ended it (the job is over), so the next
        search does not wait for the model."""
        if self.parked:
            self.parked = False
            self.ensure()

    def forget(self) -> None:
        self._query = None

    def close(self) -> None:
        """Forget the query and end the model server (the app is closing)."""
        self._query = None
        self.server.stop()


# -- the library lane ------------------------------------------------------------------------------
class Libraries:
    """Open libraries by name, used from the library lane only (one writer in this process)."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[object, bool]] = {}

    def get(self, name: str, create: bool = False, check_model: bool = True):
        """The open library ``name`` (a name or a folder). ``check_model``: refuse (with
        ModelMismatchError) a library built with other weights than this app's."""
        lib, checked = self._open.get(name, (None, False))
        if lib is not None and (checked or not check_model):
            return lib
        from ..core.facenet import fingerprint

        if lib is not None:  # opened unchecked (by the People view): open again, checked
            self._open.pop(name)
            lib.close()
        from ..core.distributed.locations import open_library

        # A Qdrant-backed library opens with its vector store (the app searches it; indexing
        # it is the command line's).
        lib = open_library(name, fingerprint() if check_model else None, create=create)
        self._open[name] = (lib, check_model)
        return lib

    def opened(self, name: str):
        """The library ``name`` if this process has it open, else None."""
        return self._open.get(name, (None, False))[0]

    def exists(self, name: str) -> bool:
        from ..core.distributed.locations import library_exists

        return name in self._open or library_exists(name)

    def stats(self, name: str) -> dict:
        """A library's counts and ``upgrade`` (:func:`~facefinder.core.upgrade.upgrade_state`:
        whether it is on the current pipeline); an empty dict when it does not exist yet or
        cannot be read."""
        try:
            if not self.exists(name):
                return {}
            from ..core.upgrade import upgrade_state

            lib = self.get(name, check_model=False)
            return {**lib.stats(), "upgrade": upgrade_state(lib)}
        except Exception as exc:
            log.warning("library stats failed: %s", exc)
            return {}

    def pipeline(self, name: str) -> str:
        """The pipeline ``name``'s faces were made with (a query is embedded the same way)."""
        from ..core.upgrade import library_pipeline

        return library_pipeline(self.get(name))

    def indexed_elsewhere(self, name: str) -> bool:
        """Whether ``name`` keeps its vectors in Qdrant: the app searches such a library, and
        indexing it is done from the command line (where ``--ray`` can spread the work too)."""
        from ..core.distributed.locations import catalog_folder, is_store_url, peek_store

        if is_store_url(name):
            return True
        try:
            return peek_store(catalog_folder(name)) is not None
        except Exception:
            return False

    def close(self, name: str | None = None) -> None:
        """Close one library (or all), saving its index."""
        names = [name] if name is not None else list(self._open)
        for n in names:
            lib, _ = self._open.pop(n, (None, False))
            if lib is None:
                continue
            try:
                lib.close()
            except Exception:
                log.exception("closing a library failed")

    def search(self, query: Query, library: str, face_index: int, k: int,
               distinct: bool = False) -> SearchOutcome:
        """Search ``library`` with face ``face_index`` (-1: the most prominent, as the CLI's
        default) of ``query``; each hit's verdict comes from the outcome's ``judge``.
        ``distinct``: the ``k`` nearest people instead of the ``k`` nearest faces."""
        from ..core.pipeline import main_face
        from ..core.search import search_faces

        if not query.faces:
            raise NoFaceError(f"{query.path}: no face found in this photo")
        chosen = (main_face(query.faces, query.width, query.height)
                  if face_index < 0 or face_index >= len(query.faces) else face_index)
        lib = self.get(library)
        if distinct:
            group_new_faces(lib)  # here a failure is logged, and the search goes on
        result = search_faces(lib, query.path, query.width, query.height, query.faces, chosen,
                              k, people=distinct, place_new=False,
                              pipeline=query.pipeline or None)
        if distinct:
            owners = {n.face_id: (n.person_id, n.name, int(n.size)) for n in result.people
                      if n.person_id is not None}
        else:
            owners = owners_of(lib, [h.face.face_id for h in result.hits])
        return SearchOutcome(query.path, query.image, query.width, query.height, query.scale,
                             [tuple(f.box) for f in query.faces], chosen, result.hits, library,
                             owners, distinct, result.judge, query.pipeline)

    def search_with_faces(self, library: str, face_ids: list[int], k: int) -> SearchOutcome:
        """Search ``library`` with several of its own faces (a person's: "Search with this
        person" in People), nearest to their mean, those faces left out
        (:func:`facefinder.core.search.search_with_faces`: the faces no longer in the library
        are passed over). The query shown is the photo of the first face still in the library
        whose photo can be read, with that face boxed."""
        from ..core.search import search_with_faces

        lib = self.get(library)
        hits, judge = search_with_faces(lib, face_ids, k)
        rows = lib.face_rows([int(i) for i in face_ids])
        present = [rows[int(i)] for i in face_ids if int(i) in rows]
        first = None
        for row in present:
            try:
                photo = load_photo(row.path, max_side_hint=MAX_QUERY_SIDE)
            except ImageError:  # moved or damaged since it was indexed: show another face's
                continue
            first = row
            break
        if first is None:
            if not present:
                raise LookupError("none of these faces is in the library any more")
            load_photo(present[0].path)  # none can be read: ImageError says why the first cannot
            raise LookupError("none of these faces' photos can be read")
        width, height = photo.width, photo.height
        scale = min(1.0, MAX_QUERY_SIDE / max(width, height, 1))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        shown = photo.image if photo.image.size == size else photo.image.resize(size)
        return SearchOutcome(first.path, pil_to_qimage(shown), width, height, scale,
                             [tuple(first.box)], 0, hits, library,
                             owners_of(lib, [h.face.face_id for h in hits]), False, judge,
                             self.pipeline(library))

    def search_photos(self, queries: list[Query], library: str, k: int) -> SearchOutcome:
        """Search ``library`` with the main face of each of several photos of one person,
        nearest to their mean (:func:`facefinder.core.search.search_combined`); photos without
        a face are passed over (NoFaceError when none has one); the first photo with a face is
        the query shown."""
        from ..core.pipeline import main_face
        from ..core.search import search_combined

        with_faces = [q for q in queries if q.faces]  # a photo without a face is passed over
        if not with_faces:
            raise NoFaceError(f"{queries[0].path}: no face found in these photos")
        queries = with_faces
        chosen = [main_face(q.faces, q.width, q.height) for q in queries]
        first = queries[0]
        lib = self.get(library)
        hits, judge = search_combined(lib, [q.faces[c].embedding for q, c in zip(queries, chosen)],
                                      first.faces[chosen[0]].box, k)
        return SearchOutcome(first.path, first.image, first.width, first.height, first.scale,
                             [tuple(f.box) for f in first.faces], chosen[0], hits, library,
                             owners_of(lib, [h.face.face_id for h in hits]), False, judge,
                             first.pipeline)

    def after_indexing(self, name: str) -> dict:
        """New faces join their people; returns the library's stats (as :meth:`stats`)."""
        from ..core.upgrade import upgrade_state

        lib = self.get(name, check_model=False)
        group_new_faces(lib)
        return {**lib.stats(), "upgrade": upgrade_state(lib)}


def embed_drawn_box(path: str, box, pipeline: str | None = None):
    """The rect and embedding of a face drawn by hand in the app, from a model server of its own
    (started for this one face and ended after: the app's model lane is not reachable from the
    library lane, and MTCNN/FaceNet never run in the app's process)."""
    server = ModelServer()
    server.start(lambda _s: None)
    try:
        return server.box(path, box, pipeline or "")
    finally:
        server.stop()


def owners_of(lib, face_ids: list[int]) -> dict[int, tuple[int, str | None, int]]:
    """``{face id: (person id, name, group size)}`` for the faces that are in a group
    (:func:`facefinder.core.people.owners`: the size the people table keeps); none when the
    people tables cannot be read."""
    from ..core import people

    try:
        return people.owners(lib, face_ids)
    except Exception:  # a library the people tables cannot be added to (read-only, say)
        log.warning("people of the hits: %s", traceback.format_exc())
        return {}


def group_new_faces(lib) -> None:
    """New faces join the people they look like (incremental: about 0.1 s for 500 new faces),
    so search results show names at once, without opening the People window first."""
    from ..core.search import place_new_faces

    try:
        place_new_faces(lib)
    except Exception:  # grouping is a nicety here; indexing itself has succeeded
        log.warning("grouping new faces: %s", traceback.format_exc())


def _notice(message: dict) -> None:
    """A notice another process's core gave: said again here (the status bar shows it)."""
    text = message.get("message")
    if text:
        notice(str(text))
