"""``--self-test``: prove that an installed or packaged facefinder works, without a window.

Loads the face models, indexes a few sample photos (``samples/<person>/<photo>.jpg``, at least
two photos of each of at least two people) into a temporary library, searches the library with
each photo and checks that the best hit other than the photo itself is a photo of the same
person; then indexes them again in a worker process, as the desktop app does (the packaged
app's own executable with ``--worker``), and checks that the same photos and faces come back. Prints what it did and exits 0; exits 1 with a line starting ``SELF-TEST FAILED`` when
anything is wrong. Uses :mod:`facefinder.core` only (no Qt).

In a packaged app the samples and the models come from the bundle, and the cache and data folders
are pointed at the temporary folder, so the test shows that the bundle alone is enough: nothing
from the user's cache is read and nothing is downloaded.

``python -m facefinder.selftest --samples DIR`` runs it from a source install.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1


class SelfTestError(Exception):
    """Something the self-test checks is not right; the message says what."""


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundled_samples() -> Path | None:
    base = getattr(sys, "_MEIPASS", None)
    if base and (Path(base) / "samples").is_dir():
        return Path(base) / "samples"
    return None


def _say(text: str = "") -> None:
    print(text, flush=True)


def _person(path: str | os.PathLike) -> str:
    return Path(path).parent.name


def run(samples: Path, isolate: bool, k: int = 3) -> None:
    """The checks; raises SelfTestError (or anything unexpected) when one fails."""
    from . import __version__

    t_start = time.perf_counter()
    samples = Path(samples)
    photos = sorted(p for p in samples.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    people: dict[str, list[Path]] = {}
    for p in photos:
        people.setdefault(_person(p), []).append(p)
    if len(people) < 2 or any(len(v) < 2 for v in people.values()):
        raise SelfTestError(
            f"the sample folder {samples} needs two or more photos of each of two or more people "
            f"in one sub-folder per person; found {({k: len(v) for k, v in people.items()})}"
        )
    _say(f"facefinder {__version__} self-test ({'packaged' if frozen() else 'source'} build, "
         f"Python {sys.version.split()[0]}, {sys.platform})")
    _say(f"samples: {len(photos)} photos of {len(people)} people in {samples}")

    with tempfile.TemporaryDirectory(prefix="facefinder-selftest-") as tmp:
        if isolate:
            # Only the bundle: an empty cache (no weights, no converted models) and data folder.
            os.environ["FACEFINDER_CACHE_DIR"] = str(Path(tmp) / "cache")
            os.environ["FACEFINDER_DATA_DIR"] = str(Path(tmp) / "data")
        from .core import facenet, mtcnn_lite
        from .core.facenet import fingerprint
        from .core.library import Library
        from .core.pipeline import Engine
        from .core.scan import index_folder
        from .core.search import search_photo

        if frozen():
            _check_bundle()
        t0 = time.perf_counter()
        engine = Engine()
        engine.load()
        t_load = time.perf_counter() - t0
        _say(f"models: {engine.backend} backend, loaded in {t_load:.2f} s")
        if engine.backend == "lite":
            for path in [facenet.lite_path(), *mtcnn_lite.ensure_lite_models().values()]:
                where = "bundled" if frozen() and _inside_bundle(path) else "cache"
                _say(f"  {path.name} ({path.stat().st_size / 1e6:.1f} MB, {where})")
                if frozen() and where != "bundled":
                    raise SelfTestError(f"{path} is not the model shipped in the bundle")

        library = Library(Path(tmp) / "library", fingerprint())
        try:
            t0 = time.perf_counter()
            summary = None
            for progress in index_folder(library, engine, samples, recursive=True):
                if progress.summary is not None:
                    summary = progress.summary
            t_index = time.perf_counter() - t0
            if summary is None:
                raise SelfTestError("indexing ended without a summary")
            _say(f"indexed: {summary.processed} photos, {summary.faces_added} faces in "
                 f"{t_index:.2f} s")
            if summary.skipped:
                raise SelfTestError("photos skipped: " + "; ".join(
                    f"{s.path}: {s.reason}" for s in summary.skipped))
            if summary.processed != len(photos) or summary.photos_without_faces:
                raise SelfTestError(
                    f"expected a face in each of the {len(photos)} photos; "
                    f"{summary.photos_without_faces} of {summary.processed} had none")

            failures = []
            t0 = time.perf_counter()
            for query in photos:
                result = search_photo(library, engine, query, k=k)
                others = [h for h in result.hits if Path(h.face.path).resolve() != query.resolve()]
                if not others:
                    failures.append(f"{query.name}: no other face found")
                    continue
                best = others[0]
                ok = _person(best.face.path) == _person(query)
                self_hit = result.hits[0] if result.hits else None
                self_d = (f"{self_hit.distance:.3f}" if self_hit is not None and
                          Path(self_hit.face.path).resolve() == query.resolve() else "missing")
                other = f"{_person(best.face.path)}/{Path(best.face.path).name}"
                _say(f"  {_person(query) + '/' + query.name:36.36} itself {self_d:>7}   best other "
                     f"{other:36.36} {best.distance:.3f}  {'ok' if ok else 'WRONG'}")
                if not ok:
                    failures.append(f"{_person(query)}/{query.name}: best match is "
                                    f"{_person(best.face.path)}/{Path(best.face.path).name} "
                                    f"at {best.distance:.3f}")
            t_search = time.perf_counter() - t0
        finally:
            library.close()
        _index_in_worker(samples, Path(tmp) / "library-worker", summary)
    if failures:
        raise SelfTestError("wrong person found first: " + "; ".join(failures))
    if frozen() and "tensorflow" in sys.modules:
        raise SelfTestError("the packaged app imported TensorFlow, which it must not ship")
    _say(f"searched: {len(photos)} queries in {t_search:.2f} s; the other photo of the same "
         f"person came first every time")
    _say(f"tensorflow imported: {'yes' if 'tensorflow' in sys.modules else 'no'}")
    _say(f"SELF-TEST PASSED in {time.perf_counter() - t_start:.2f} s")


def _index_in_worker(samples: Path, library: Path, expected) -> None:
    """Index the samples again the way the desktop app does: in a worker process (this same
    executable with ``--worker`` when packaged), talking JSON lines; the same photos and faces
    must come back."""
    import json
    import subprocess

    from .worker import command

    t0 = time.perf_counter()
    job = {"job": "index", "library": str(library), "params": {"folder": str(samples)}}
    proc = subprocess.Popen(command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    last: dict = {}
    try:  # stdin stays open until the answer: its end means "the app went away, stop"
        proc.stdin.write(json.dumps(job) + "\n")
        proc.stdin.flush()
        for line in proc.stdout:
            last = json.loads(line)
            if last.get("type") in ("done", "error"):
                break
    finally:
        proc.stdin.close()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    if proc.returncode != 0 or last.get("type") != "done":
        raise SelfTestError(f"the worker process failed (exit {proc.returncode}): "
                            f"{last or proc.stderr.read().strip()[-500:]}")
    got = last["summary"]
    _say(f"worker process: {got['processed']} photos, {got['faces_added']} faces in "
         f"{time.perf_counter() - t0:.2f} s ({' '.join(command()[1:])})")
    if (got["processed"], got["faces_added"]) != (expected.processed, expected.faces_added):
        raise SelfTestError(f"the worker indexed {got['processed']} photos with "
                            f"{got['faces_added']} faces; in this process "
                            f"{expected.processed} with {expected.faces_added}")


def _check_bundle() -> None:
    """A packaged app must carry the LiteRT runtime and the four converted models."""
    from .core import facenet, mtcnn_lite
    from .core.tflite import bundled_model, lite_available

    if not lite_available():
        raise SelfTestError("the LiteRT runtime (ai_edge_litert) is missing from this build or "
                            "cannot be loaded")
    names = [facenet.lite_path().name, *(p.name for p in mtcnn_lite.lite_paths().values())]
    missing = [n for n in names if bundled_model(n) is None]
    if missing:
        raise SelfTestError(f"models missing from the bundle ({Path(sys._MEIPASS) / 'models'}): "
                            + ", ".join(missing))


def _inside_bundle(path: Path) -> bool:
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return False
    try:
        Path(path).resolve().relative_to(Path(base).resolve())
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="facefinder --self-test",
        description="Load the face models, index sample faces into a temporary library, search "
                    "it and check that each face finds the other photo of the same person first.")
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=Path, default=None,
                        help="folder with one sub-folder of photos per person "
                             "(default: the samples bundled with the packaged app)")
    parser.add_argument("--isolate", action="store_true", default=None,
                        help="use an empty temporary cache and data folder (the default in a "
                             "packaged app)")
    args = parser.parse_args(argv)
    samples = args.samples or bundled_samples()
    isolate = frozen() if args.isolate is None else args.isolate
    if samples is None:
        print("SELF-TEST FAILED: no sample photos (this build has none bundled; pass --samples "
              "DIR)", file=sys.stderr)
        return EXIT_FAILED
    try:
        run(samples, isolate)
    except SelfTestError as exc:
        print(f"SELF-TEST FAILED: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    except Exception as exc:  # a broken bundle: missing module, library, model...
        import traceback

        traceback.print_exc()
        print(f"SELF-TEST FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
