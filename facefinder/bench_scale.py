"""``facefinder bench scale --faces N [--keep DIR] [--json]``: a library of N synthetic faces.

There are not a million labelled real faces at hand, so the library holds synthetic embeddings
whose statistics are measured on the real ones: the largest face of each labelled photo in
``../shared/data/faces`` is embedded with the real model, and the spread of the people's mean
faces (between people) and of each person's faces around their mean (within a person) are
taken as two covariance matrices. Each synthetic person is a centre drawn from the first, each
face that centre plus a draw from the second, normalised to unit length; the two are scaled so
that two faces of one person are 0.62-0.87 apart (5th-95th percentile) and two people 1.20 at
the 5th percentile, 1.39 at the median (the real faces: 1.22 and 1.34). The generated faces
spread over as many directions as the real ones (participation ratio of the covariance 42 vs
39), which is what makes nearest-neighbour search hard or easy. N/5 people, five faces each,
three faces per photo, inserted in a random order, all seeded.

The library is built through the real code (``Library.store_results`` in transactions of a few
thousand faces, then ``Library.load_index``), then measured:

- ``cold_search_s``, ``cold_rss_mb``: ``facefinder search PHOTO`` in a fresh process (start-up,
  model load, detection and the index load included) with a real photo, median of 3 after one
  run that warms the OS file cache; peak RSS is the process's ``VmHWM``;
- ``p50_ms``, ``p99_ms`` (wall) and ``cpu_p50_ms``, ``cpu_p99_ms`` (the thread's CPU time, which
  other programs on a busy machine do not inflate) of ``Library.search`` (k = 10) for held-out
  faces of the library's people, in a process that opened the library;
- ``recall_at_10``: the share of the exact 10 nearest faces (numpy over every embedding) found;
  ``same_person_recall``: the share of the query person's five faces in the top 10, and
  ``same_person_recall_exact`` the same for exact search (look-alikes closer than a person's own
  faces limit it at large N);
- ``people_first_s``, ``people_first_rss_mb``: ``facefinder people`` in a fresh process on a
  library never grouped; ``people_precision``/``people_recall``: its pairwise scores against the
  synthetic people; ``people_new10_s``: ``facefinder people`` after 10 new faces were stored
  (``people_new10_joined``: how many joined the person holding their person's faces).

``--keep DIR`` builds the library in ``DIR/library`` (with what the measures need beside it) and
reuses it on later runs with the same N and seed; the people tables are reset before each
measurement of the first grouping.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .bench import _cpu_name, _default_data, _vm_hwm_mib
from .core.facenet import fingerprint
from .core.grouping import pairwise_scores
from .core import library as library_mod
from .core.library import Library, ef_for, path_key
from .core.library_files import CATALOG, INDEX
from .core.pipeline import Face, PhotoResult

PER_PERSON = 5
FACES_PER_PHOTO = 3
SAME_SCALE = 1.25  # within-person spread, times the real one (module docstring)
CENTRE_SCALE = 0.85  # between-people spread, times the real one
_BATCH = 6000  # faces per transaction while building
_NEW = "/bench-scale/new"  # where the "10 new faces" photos claim to be


# -- what real faces look like -------------------------------------------------------------------
def real_statistics(data: Path, cache: Path | None) -> dict[str, np.ndarray]:
    """``{"mean" (128,), "between" (128, 128), "within" (128, 128)}``: square roots of the
    covariances of the real people's mean faces and of faces around their person's mean,
    measured on the largest face of every labelled photo (cached in ``cache`` when given)."""
    fp = fingerprint()
    if cache is not None and cache.is_file():
        saved = np.load(cache)
        if str(saved["fingerprint"]) == fp:
            return {k: saved[k] for k in ("mean", "between", "within")}
    from .core.evaluate import embed_labelled
    from .core.pipeline import Engine

    engine = Engine()
    labelled = embed_labelled(engine, data / "faces")
    emb = labelled.embeddings[labelled.found]
    who = np.asarray(labelled.labels)[labelled.found]
    means, spread = [], []
    for person in sorted(set(who.tolist())):
        mine = emb[who == person]
        if len(mine) >= 2:
            means.append(mine.mean(axis=0))
            spread.append(mine - mine.mean(axis=0))
    stats = {"mean": emb.mean(axis=0), "between": _root(np.cov(np.asarray(means).T)),
             "within": _root(np.cov(np.concatenate(spread).T))}
    if cache is not None:
        np.savez(cache, fingerprint=fp, **stats)
    return stats


def _root(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.maximum(w, 0.0))).astype(np.float64)


class Synthetic:
    """People and faces drawn from :func:`real_statistics` (module docstring), seeded."""

    def __init__(self, stats: dict[str, np.ndarray], people: int, seed: int) -> None:
        self.stats = stats
        rng = np.random.default_rng([seed, 1])
        c = stats["mean"] + CENTRE_SCALE * rng.standard_normal((people, 128)) @ stats["between"].T
        self.centres = (c / np.linalg.norm(c, axis=1, keepdims=True)).astype(np.float32)

    def faces(self, people: np.ndarray, seed: int) -> np.ndarray:
        """One new face (unit float32) of each of ``people`` (indices of centres)."""
        rng = np.random.default_rng([seed, 2])
        v = self.centres[people] + SAME_SCALE * (
            rng.standard_normal((len(people), 128)) @ self.stats["within"].T)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


# -- building ---------------------------------------------------------------------------------
def _results(vectors: np.ndarray, first_photo: int, rng: np.random.Generator,
             folder: str = "/bench-scale/photos") -> list[tuple[PhotoResult, int, int]]:
    """Photos of FACES_PER_PHOTO faces each (boxes 60-300 px), as an index run stores them."""
    items = []
    for start in range(0, len(vectors), FACES_PER_PHOTO):
        n = first_photo + start // FACES_PER_PHOTO
        faces = []
        for v in vectors[start:start + FACES_PER_PHOTO]:
            side = int(rng.integers(60, 300))
            box = (int(rng.integers(0, 3000)), int(rng.integers(0, 2000)), side, side)
            faces.append(Face(box, 0.99, np.zeros((5, 2), np.float32), v))
        items.append((PhotoResult(f"{folder}/{n // 1000:04d}/{n:07d}.jpg", faces,
                                  None, 4000, 3000), 1_000_000 + n, n))
    return items


def build(folder: Path, synth: Synthetic, faces: int, seed: int, log) -> dict:
    """The library of ``faces`` faces in ``folder``; returns the build figures and the truth
    (the person of each face id)."""
    people = faces // PER_PERSON
    rng = np.random.default_rng([seed, 3])
    who = rng.permutation(np.repeat(np.arange(people), PER_PERSON))
    lib = Library(folder, fingerprint())
    t0 = time.perf_counter()
    ids = []
    for start in range(0, faces, _BATCH):
        part = who[start:start + _BATCH]
        vectors = synth.faces(part, seed * 1_000_003 + start)
        ids += lib.store_results(_results(vectors, start // FACES_PER_PHOTO, rng))
        if start // _BATCH % 20 == 0:
            log(f"stored {start + len(part)} of {faces} faces")
    catalog_s = time.perf_counter() - t0
    log("building the HNSW index")
    t1 = time.perf_counter()
    lib.load_index()
    lib.save_index(force=True)
    index_s = time.perf_counter() - t1
    lib.close()
    truth = np.full(max(ids) + 1, -1, np.int64)
    truth[np.asarray(ids)] = who
    return {"catalog_s": round(catalog_s, 1), "index_s": round(index_s, 1),
            "build_faces_per_s": round(faces / (catalog_s + index_s)), "truth": truth}


# -- measuring ----------------------------------------------------------------------------------
def _cli(*args: str) -> tuple[float, float, float]:
    """Run ``facefinder ARGS`` in a fresh process: ``(wall s, CPU s (user + system), peak RSS
    MiB)``. The CPU time is what the command cost, whatever else the machine was doing."""
    import subprocess

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "facefinder.cli", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while True:
        peak = max(peak, _vm_hwm_mib(proc.pid))
        done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"facefinder {' '.join(args)} failed: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak


def _disk_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6


def _exact_top(folder: Path, queries: np.ndarray, k: int = 10) -> np.ndarray:
    """Face ids (Q, k) of the exact k nearest faces of each query (every embedding, numpy)."""
    best_d = np.full((len(queries), k), np.inf, np.float32)
    best_i = np.zeros((len(queries), k), np.int64)
    with Library(folder, None, create=False) as lib:
        for ids, vectors, _ in lib.embedding_chunks(size=20_000):
            d = 2.0 - 2.0 * (queries @ vectors.T)
            d_all = np.concatenate([best_d, d], axis=1)
            i_all = np.concatenate([best_i, np.broadcast_to(ids, d.shape)], axis=1)
            pick = np.argpartition(d_all, k, axis=1)[:, :k]
            best_d = np.take_along_axis(d_all, pick, axis=1)
            best_i = np.take_along_axis(i_all, pick, axis=1)
    return best_i


def measure_search(folder: Path, synth: Synthetic, truth: np.ndarray, n_queries: int,
                   seed: int) -> dict:
    people = len(synth.centres)
    rng = np.random.default_rng([seed, 4])
    who = rng.choice(people, min(n_queries, people), replace=False)
    queries = synth.faces(who, seed * 7 + 5)
    lib = Library(folder, None, create=False)
    lib.remove_photos(lib.known_photos(_NEW))  # left by an interrupted run
    t0 = time.perf_counter()
    lib.load_index()
    load_s = time.perf_counter() - t0
    lib.search(queries[0], 10)  # first search after loading

    def timed() -> tuple[list[float], list[float], list[list[int]]]:
        wall, cpu, found = [], [], []
        for q in queries:
            c0, t0 = time.thread_time(), time.perf_counter()
            hits = lib.search(q, 10)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            found.append([h.face.face_id for h in hits])
        return wall, cpu, found

    # As a one-shot process sees it (4 KB pages), then as the app does after its first searches
    # (the index moved to huge pages; Library does it by itself after HUGE_PAGES_AFTER).
    library_mod.HUGE_PAGES_AFTER, before = 1 << 62, library_mod.HUGE_PAGES_AFTER
    try:
        small_wall, small_cpu, _ = timed()
    finally:
        library_mod.HUGE_PAGES_AFTER = before
    t0 = time.perf_counter()
    moved = lib.prefer_huge_pages()
    huge_s = time.perf_counter() - t0
    wall, cpu, found = timed()
    ef = lib.ef or ef_for(lib.state().faces, lib.index_params().M)
    lib.close()
    # The one-shot path (a command's search): the same walk, straight from the file.
    once = Library(folder, None, create=False)
    file_found, file_ms = [], []
    for q in queries[:200]:
        t0 = time.perf_counter()
        file_found.append([h.face.face_id for h in once.search_once(q, 10)])
        file_ms.append((time.perf_counter() - t0) * 1000)
    file_loaded = once._index is not None  # True would mean it fell back to loading
    once.close()
    exact = _exact_top(folder, queries)
    recall = np.mean([len(set(f) & set(e.tolist())) / 10 for f, e in zip(found, exact)])
    mine = [np.sum(_person(truth, f) == p) / PER_PERSON for f, p in zip(found, who)]
    mine_exact = [np.sum(_person(truth, e) == p) / PER_PERSON for e, p in zip(exact, who)]
    return {"queries": len(queries), "ef": ef, "index_load_in_process_s": round(load_s, 2),
            "p50_ms": round(statistics.median(wall), 3),
            "p99_ms": round(float(np.percentile(wall, 99)), 3),
            "cpu_p50_ms": round(statistics.median(cpu), 3),
            "cpu_p99_ms": round(float(np.percentile(cpu, 99)), 3),
            "huge_pages_mb": moved >> 20, "huge_pages_s": round(huge_s, 2),
            "p50_ms_small_pages": round(statistics.median(small_wall), 3),
            "p99_ms_small_pages": round(float(np.percentile(small_wall, 99)), 3),
            "cpu_p50_ms_small_pages": round(statistics.median(small_cpu), 3),
            "cpu_p99_ms_small_pages": round(float(np.percentile(small_cpu, 99)), 3),
            "recall_at_10": round(float(recall), 4),
            "file_search_ms": round(statistics.median(file_ms), 1),
            "file_recall_at_10": round(float(np.mean(
                [len(set(f) & set(e.tolist())) / 10 for f, e in zip(file_found, exact)])), 4),
            "file_same_as_index": round(float(np.mean(
                [len(set(f) & set(g)) / 10 for f, g in zip(file_found, found)])), 4),
            "file_search_fell_back": file_loaded,
            "same_person_recall": round(float(np.mean(mine)), 4),
            "same_person_recall_exact": round(float(np.mean(mine_exact)), 4)}


def _person(truth: np.ndarray, face_ids) -> np.ndarray:
    """The synthetic person of each face id (-1: a face the build did not make)."""
    ids = np.asarray(face_ids, np.int64)
    return np.where(ids < len(truth), truth[np.minimum(ids, len(truth) - 1)], -1)


def measure_cold_search(folder: Path, photo: Path, runs: int = 3, name: str = "cold") -> dict:
    args = ("search", str(photo), "--library", str(folder), "--json", "-k", "10")
    _cli(*args)  # warms the OS file cache (catalog, index, models)
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        wall, cpu, peak = _cli(*args)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
    return {f"{name}_search_s": round(statistics.median(walls), 2),
            f"{name}_search_cpu_s": round(statistics.median(cpus), 2),
            f"{name}_search_s_all": [round(w, 2) for w in walls],
            f"{name}_rss_mb": round(max(peaks))}


def measure_after_small_runs(folder: Path, synth: Synthetic, photo: Path, seed: int,
                             faces: int = 200) -> dict:
    """A cold search after index runs that added ``faces`` faces in all, too few to rewrite a
    large library's index (see ``SAVE_AFTER_CHANGES``): the search patches them in at open."""
    rng = np.random.default_rng([seed, 8])
    who = rng.integers(0, len(synth.centres), faces)  # people may get several
    with Library(folder, None, create=False) as lib:
        lib.remove_photos(lib.known_photos(_NEW))
        for part in np.array_split(who, 4):  # four small index runs
            items = _results(synth.faces(part, seed * 13 + len(part)), lib.state().max_face,
                             rng, _NEW)
            lib.store_results(items)
    out = measure_cold_search(folder, photo, runs=3, name=f"cold_after_{faces}_new")
    with Library(folder, None, create=False) as lib:
        lib.remove_photos(lib.known_photos(_NEW))
    return out


def measure_index_open(folder: Path) -> dict:
    """A fresh process that only opens the library and loads its index (no model): time and
    peak memory, to show what the index itself costs."""
    code = ("import time, sys; t0 = time.perf_counter(); "
            "from facefinder.core.library import Library; "
            "from facefinder.bench import _vm_hwm_mib; "
            f"lib = Library({str(folder)!r}, None, create=False); t1 = time.perf_counter(); "
            "lib.load_index(); t2 = time.perf_counter(); "
            "print(t1 - t0, t2 - t1, _vm_hwm_mib())")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return {"open_s": round(float(out[0]), 2), "index_load_s": round(float(out[1]), 2),
            "index_open_rss_mb": round(float(out[2]))}


def _reset_people(folder: Path) -> None:
    with Library(folder, None, create=False) as lib:
        have = {r[0] for r in lib.query("SELECT name FROM sqlite_master WHERE type='table'")}
        with lib.transaction() as cur:
            if "face_person" in have:
                cur.execute("DELETE FROM face_person")
                cur.execute("DELETE FROM people")
                cur.execute("DELETE FROM face_exclusion")
            cur.execute("DELETE FROM meta WHERE key = 'people_grouped'")


def measure_people(folder: Path, synth: Synthetic, truth: np.ndarray, seed: int) -> dict:
    _reset_people(folder)
    wall, cpu, peak = _cli("people", "--library", str(folder))
    out: dict = {"people_first_s": round(wall, 1), "people_first_cpu_s": round(cpu, 1),
                 "people_first_rss_mb": round(peak)}
    with Library(folder, None, create=False) as lib:
        pairs = lib.query("SELECT face_id, person_id FROM face_person")
    arr = np.asarray(pairs, np.int64).reshape(-1, 2)
    arr = arr[_person(truth, arr[:, 0]) >= 0]
    p, r = pairwise_scores(truth[arr[:, 0]], arr[:, 1])
    out.update(people_grouped_faces=len(arr), people_precision=round(p, 4),
               people_recall=round(r, 4))
    # Ten new faces of people already in the library, stored as an index run stores them.
    rng = np.random.default_rng([seed, 6])
    who = rng.choice(len(synth.centres), 10, replace=False)
    vectors = synth.faces(who, seed * 11 + 7)
    with Library(folder, None, create=False) as lib:
        lib.remove_photos(lib.known_photos(_NEW))  # left by an interrupted run
        items = _results(vectors, lib.state().max_face, rng, _NEW)
        new_ids = lib.store_results(items)
    wall, cpu, peak = _cli("people", "--library", str(folder))
    out.update(people_new10_s=round(wall, 2), people_new10_cpu_s=round(cpu, 2),
               people_new10_rss_mb=round(peak))
    with Library(folder, None, create=False) as lib:
        got = dict(lib.query(f"SELECT face_id, person_id FROM face_person WHERE face_id IN "
                             f"({','.join('?' * len(new_ids))})", new_ids))
        joined = 0
        for face, person in zip(new_ids, who.tolist()):
            own = np.flatnonzero(truth == person)
            owners = [pid for (pid,) in lib.query(
                "SELECT person_id FROM face_person WHERE face_id IN "
                f"({','.join('?' * len(own))})", own.tolist())]
            if owners and got.get(face) == max(set(owners), key=owners.count):
                joined += 1
        out["people_new10_joined"] = joined
        lib.remove_photos([path_key(item[0].path) for item in items])
    return out


# -- driver -------------------------------------------------------------------------------------
def main(args) -> int:
    data = Path(args.data) if args.data else _default_data()
    if not (data / "faces").is_dir():
        print(f"facefinder: no labelled faces at {data / 'faces'} (give --data or set "
              "FACEFINDER_TEST_DATA)", file=sys.stderr)
        return 1
    faces = int(args.faces)
    if faces < PER_PERSON * 10:
        print(f"facefinder: --faces must be at least {PER_PERSON * 10}", file=sys.stderr)
        return 2
    log = (lambda msg: print(f"[scale] {msg}", file=sys.stderr, flush=True))
    tmp = None
    if args.keep:
        work = Path(args.keep).expanduser().absolute()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="facefinder-scale-")
        work = Path(tmp)
    try:
        folder = work / "library"
        report: dict = {
            "faces": faces, "people": faces // PER_PERSON, "seed": args.seed,
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_cpu_name()}",
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "command": f"facefinder bench scale --faces {faces}",
        }
        log("measuring the real faces' statistics")
        stats = real_statistics(data, work / "real-stats.npz")
        synth = Synthetic(stats, faces // PER_PERSON, args.seed)
        info = work / "scale.json"
        truth_file = work / "truth.npy"
        known = json.loads(info.read_text()) if info.is_file() else None
        if known and (known.get("faces"), known.get("seed")) == (faces, args.seed) and \
                (folder / CATALOG).is_file() and truth_file.is_file():
            log(f"reusing the library in {folder}")
            report.update({k: known[k] for k in ("build_faces_per_s", "catalog_s", "index_s")})
            truth = np.load(truth_file)
        else:
            if folder.exists():
                from .core.library_files import remove_library

                remove_library(folder)
            built = build(folder, synth, faces, args.seed, log)
            truth = built.pop("truth")
            np.save(truth_file, truth)
            info.write_text(json.dumps({"faces": faces, "seed": args.seed, **built}))
            report.update(built)
        report["disk_mb"] = round(_disk_mb(folder))
        report["index_mb"] = round((folder / INDEX).stat().st_size / 1e6)
        log("opening the index in a fresh process")
        report.update(measure_index_open(folder))
        log("cold searches")
        photo = data / "faces" / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0001.jpg"
        report.update(measure_cold_search(folder, photo))
        log("warm searches and recall")
        report.update(measure_search(folder, synth, truth, args.queries, args.seed))
        log("people")
        report.update(measure_people(folder, synth, truth, args.seed))
        log("a cold search after small index runs")
        report.update(measure_after_small_runs(folder, synth, photo, args.seed))
        with Library(folder, None, create=False) as lib:  # leave the kept library saved
            lib.load_index()
            lib.save_index(force=True)
        report["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        report["bench_rss_mb"] = round(_vm_hwm_mib())
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(report))
    else:
        for k, v in report.items():
            print(f"{k:28} {v}")
    return 0
