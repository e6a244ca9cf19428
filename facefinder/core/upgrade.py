"""Upgrading a library in place to the current pipeline (the job both front ends drive).

A library records the pipeline that made its embeddings (:meth:`Library.pipeline_name`; none
recorded: the article's). An older library keeps working: searches embed the query with the
library's own pipeline. :func:`upgrade_library` re-embeds every stored face from its stored box
and landmarks (no detection), and keeps the face ids, so people's names, merges and corrections
survive.

Kill-safe and resumable like indexing: the new embeddings go to a table of their own
(``next_embeddings``), committed in batches, and replace the old ones in one transaction at the
end, with the pipeline's record; a killed upgrade leaves the library as it was (fully usable with
its old pipeline), and the next run continues with the faces not yet done. Faces added meanwhile
(an index run in another process) are picked up before the switch. Faces whose photo can no
longer be read are dropped at the switch (their embedding cannot be remade), and the photo is
marked so that a refresh indexes it again when it is back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .align import ARTICLE, DEFAULT_PIPELINE, PIPELINES
from .errors import FacefinderError, ImageError
from .library import Library, display_path, fs_path
from .images import load_photo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS next_embeddings (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    embedding BLOB                      -- (128,) float32; NULL: the photo could not be read
);
"""
TARGET_KEY = "upgrade_target"
"""Meta key: the pipeline the rows of ``next_embeddings`` were made with."""


def library_pipeline(library: Library) -> str:
    """The pipeline a library's embeddings were made with (see the module docstring)."""
    return library.pipeline_name()


def needs_upgrade(library: Library, target: str = DEFAULT_PIPELINE) -> bool:
    """Whether the library holds faces made with another pipeline than ``target``."""
    return library.face_count() > 0 and library_pipeline(library) != target


def record_new_library(library: Library, pipeline: str) -> None:
    """Record ``pipeline`` in a library that has no faces and no record yet (a new one)."""
    if library.meta("pipeline") is None and library.face_count() == 0:
        library.set_meta("pipeline", pipeline)


@dataclass
class UpgradeSummary:
    source: str
    target: str
    faces: int = 0
    reembedded: int = 0
    resumed: int = 0  # done by an earlier, interrupted run
    dropped: int = 0  # faces of photos that could not be read
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    switched: bool = False
    seconds: float = 0.0


@dataclass
class UpgradeProgress:
    """``stage``: 'embedding', 'switching' or 'done' (then ``summary`` is set)."""

    stage: str
    done: int = 0
    total: int = 0
    rate: float = 0.0  # faces per second
    eta: float | None = None
    summary: UpgradeSummary | None = None


def _pending(library: Library) -> list[tuple]:
    """``(face id, photo path key, x, y, w, h, landmarks)`` of the faces without a new
    embedding, photo by photo."""
    return library.query(
        "SELECT faces.id, photos.path, x, y, w, h, landmarks FROM faces "
        "JOIN photos ON photos.id = faces.photo_id "
        "WHERE faces.id NOT IN (SELECT face_id FROM next_embeddings) "
        "ORDER BY faces.photo_id, faces.id")


def _prepare(library: Library, target: str) -> int:
    """Create the table; forget rows made for another target. Returns the rows kept."""
    with library.transaction() as cur:
        cur.execute(_SCHEMA)
        stored = cur.execute("SELECT value FROM meta WHERE key=?", (TARGET_KEY,)).fetchone()
        if stored is None or stored[0] != target:
            cur.execute("DELETE FROM next_embeddings")
            cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                        (TARGET_KEY, target))
        return cur.execute("SELECT COUNT(*) FROM next_embeddings").fetchone()[0]


def estimate_seconds(faces: int, faces_per_second: float = 25.0) -> float:
    """A rough time for re-embedding ``faces`` (decoding included) on a laptop-class CPU."""
    return faces / max(faces_per_second, 1e-6)


def upgrade_library(library: Library, engine, target: str = DEFAULT_PIPELINE,
                    should_stop: Callable[[], bool] = lambda: False,
                    commit_every: int = 64, commit_seconds: float = 2.0
                    ) -> Iterator[UpgradeProgress]:
    """Re-embed every face of ``library`` with pipeline ``target``; yields progress, the last
    item carrying the summary. Stops between photos when ``should_stop()`` (what was done is
    kept for the next run). See the module docstring."""
    if target not in PIPELINES:
        raise FacefinderError(f"unknown pipeline {target!r}")
    t0 = time.monotonic()
    source = library_pipeline(library)
    summary = UpgradeSummary(source=source, target=target, faces=library.face_count())
    if source == target:
        library.set_meta("pipeline", target)  # an empty library: record it
        summary.switched = True
        summary.seconds = time.monotonic() - t0
        yield UpgradeProgress("done", summary=summary)
        return
    summary.resumed = _prepare(library, target)
    done = summary.resumed
    t_start = time.monotonic()
    with engine.using(target):
        while True:  # faces added while we worked are picked up by the next round
            todo = _pending(library)
            if not todo:
                break
            total = done + len(todo)
            batch: list[tuple[int, bytes | None]] = []
            last_commit = time.monotonic()

            def commit() -> None:
                nonlocal last_commit
                if batch:
                    with library.transaction() as cur:
                        cur.executemany("INSERT OR REPLACE INTO next_embeddings(face_id, "
                                        "embedding) VALUES (?, ?)", batch)
                    batch.clear()
                last_commit = time.monotonic()

            try:
                for key, rows in _by_photo(todo):
                    if should_stop():
                        break
                    path = fs_path(key)
                    try:
                        photo = load_photo(path, max_side_hint=engine.options.detect_size or None)
                        faces = [_Stored(r) for r in rows]
                        vectors = engine.embed_faces(engine.face_tensors(photo, faces))
                        batch += [(r[0], np.asarray(v, np.float32).tobytes())
                                  for r, v in zip(rows, vectors)]
                        summary.reembedded += len(rows)
                    except (ImageError, OSError, MemoryError) as exc:
                        reason = str(exc).split(": ", 1)[-1]
                        summary.unreadable.append((display_path(key), reason))
                        batch += [(r[0], None) for r in rows]
                    done += len(rows)
                    if len(batch) >= commit_every or \
                            time.monotonic() - last_commit > commit_seconds:
                        commit()
                    elapsed = time.monotonic() - t_start
                    rate = (done - summary.resumed) / elapsed if elapsed > 0 else 0.0
                    yield UpgradeProgress("embedding", done, total, rate,
                                          (total - done) / rate if rate else None)
            finally:
                commit()  # on normal end, on cancel, on Ctrl+C and when the caller closes us
            if should_stop():
                summary.cancelled = True
                summary.seconds = time.monotonic() - t0
                yield UpgradeProgress("done", done, total, summary=summary)
                return
    yield UpgradeProgress("switching", done, done)
    if not _switch(library, target, summary):
        # Faces arrived between the last round and the switch: go round again.
        yield from upgrade_library(library, engine, target, should_stop, commit_every,
                                   commit_seconds)
        return
    summary.switched = True
    summary.seconds = time.monotonic() - t0
    yield UpgradeProgress("done", done, done, summary=summary)


class _Stored:
    """A stored face as :meth:`Engine.face_tensors` wants it."""

    def __init__(self, row: tuple) -> None:
        _, _, x, y, w, h, landmarks = row
        self.box = (x, y, w, h)
        self.landmarks = (np.frombuffer(landmarks, np.float32).reshape(5, 2)
                          if landmarks else None)


def _by_photo(rows: list[tuple]) -> Iterator[tuple[bytes, list[tuple]]]:
    current, group = None, []
    for row in rows:
        if row[1] != current and group:
            yield current, group
            group = []
        current = row[1]
        group.append(row)
    if group:
        yield current, group


def _switch(library: Library, target: str, summary: UpgradeSummary) -> bool:
    """In one transaction: new embeddings in, faces of unreadable photos out, the pipeline
    recorded, the work table emptied. False (nothing changed) when faces are still missing."""
    with library.transaction() as cur:
        missing = cur.execute("SELECT COUNT(*) FROM faces WHERE id NOT IN "
                              "(SELECT face_id FROM next_embeddings)").fetchone()[0]
        if missing:
            return False
        lost = cur.execute("SELECT DISTINCT photo_id FROM faces WHERE id IN (SELECT face_id "
                           "FROM next_embeddings WHERE embedding IS NULL)").fetchall()
        summary.dropped = cur.execute("SELECT COUNT(*) FROM next_embeddings WHERE embedding "
                                      "IS NULL").fetchone()[0]
        cur.execute("DELETE FROM faces WHERE id IN (SELECT face_id FROM next_embeddings "
                    "WHERE embedding IS NULL)")
        # A photo that could not be read: mtime -1 makes the next refresh index it again.
        cur.executemany("UPDATE photos SET status='skipped', mtime_ns=-1, error=? WHERE id=?",
                        [("could not be read during a library upgrade", pid)
                         for (pid,) in lost])
        cur.execute("UPDATE faces SET embedding = (SELECT embedding FROM next_embeddings "
                    "WHERE next_embeddings.face_id = faces.id)")
        cur.execute("DELETE FROM next_embeddings")
        cur.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('pipeline', ?)", (target,))
        cur.execute("DELETE FROM meta WHERE key=?", (TARGET_KEY,))
    library.drop_index()  # every vector changed: rebuilt from SQLite on next use
    return True


def upgrade_state(library: Library) -> dict:
    """What the app's prompt and ``library info`` show: ``{"pipeline", "current", "faces",
    "done" (faces re-embedded by an unfinished upgrade), "seconds" (a rough estimate)}``."""
    name = library_pipeline(library)
    faces = library.face_count()
    done = 0
    if library.meta(TARGET_KEY) == DEFAULT_PIPELINE:
        try:
            done = library.query("SELECT COUNT(*) FROM next_embeddings")[0][0]
        except Exception:  # no table yet
            done = 0
    return {"pipeline": name, "current": name == DEFAULT_PIPELINE or faces == 0,
            "faces": faces, "done": done,
            "seconds": estimate_seconds(max(0, faces - done))}


__all__ = ["ARTICLE", "UpgradeProgress", "UpgradeSummary", "library_pipeline", "needs_upgrade",
           "record_new_library", "upgrade_library", "upgrade_state"]
