"""``facefinder bench``: the figures the README quotes, each against a baseline in the same run.

- embed:   FaceNet faces/s, batched (32) against one face at a time, on real face crops;
- index:   end-to-end ``facefinder index`` (a fresh process: start-up included) on 4000x3000
           camera-like photos composed from real faces (so the right answer is known), with the
           peak memory of all its processes, against the single pipeline it replaced, and the
           app's indexing of the same photos (see :mod:`facefinder.bench_index`);
- app:     the CLI's indexing and the app's own path on the same photos, without index's
           baseline (``ServiceClient.index`` -> ``indexDone``, offscreen: the worker process
           included): its rate against the CLI's, the GUI thread's worst wait and the peak
           memory of all the app's processes together, on a quiet machine and with two
           CPU-burning programs running;
- profile: thread CPU time of each stage of indexing, per photo (:mod:`facefinder.profiling`);
- search:  p50/p99 latency and recall@10 against exact search, at 10k and 100k faces;
- memory:  peak RSS of a process holding a 100k-face library;
- startup: a cold ``facefinder search`` (model cached) against the same on full TensorFlow.

Everything runs on this machine, in one go; nothing here is a test.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import bench_index
from .synthetic import synthetic_embeddings
from .core.library import Library
from .core.pipeline import Engine, Face, PhotoResult

REPO = Path(__file__).resolve().parent.parent


def _default_data() -> Path:
    return Path(os.environ.get("FACEFINDER_TEST_DATA", REPO.parent / "shared" / "data"))


def _face_photos(data: Path) -> list[Path]:
    return sorted((data / "faces").glob("*/*.jpg"))


def _vm_hwm_mib(pid: int | str = "self") -> float:
    """Peak resident memory of a process (Linux ``VmHWM``), in MiB; 0 where unknown.

    Not ``ru_maxrss``: Linux carries a forked parent's peak across ``exec`` into the child's, so
    a child started from this (large) benchmark process would report the benchmark's size."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cli(*args: str, env: dict | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run the CLI in a fresh process; returns (wall seconds, peak RSS MiB, result)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "facefinder.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or dict(os.environ))
    peak = 0.0
    while proc.poll() is None:  # sample the child's high-water mark until it exits
        peak = max(peak, _vm_hwm_mib(proc.pid))
        time.sleep(0.02)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"facefinder {' '.join(args)} failed: {err[-2000:]}")
    return wall, peak, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# -- embedding ---------------------------------------------------------------------------------
def bench_embed(engine: Engine, data: Path, n: int) -> dict:
    from .core.align import face_tensor
    from .core.images import load_photo

    tensors = []
    for path in _face_photos(data)[: n * 2]:
        photo = load_photo(path)
        faces = engine.detect(photo)
        if faces:
            tensors.append(face_tensor(photo.image, faces[0].box))
        if len(tensors) == n:
            break
    batch = np.stack(tensors)
    engine.embed(batch[:32])  # warm-up
    t0 = time.perf_counter()
    engine.embed(batch)
    batched = len(batch) / (time.perf_counter() - t0)
    single_n = min(len(batch), 32)
    t0 = time.perf_counter()
    for t in batch[:single_n]:
        engine.embed(t[None])
    single = single_n / (time.perf_counter() - t0)
    return {"faces": len(batch), "batched_faces_per_s": round(batched, 1),
            "one_at_a_time_faces_per_s": round(single, 1), "backend": engine.backend}


# -- end-to-end indexing -------------------------------------------------------------------------
def make_large_corpus(data: Path, out: Path, n_photos: int, faces_per_photo: int = 4,
                      seed: int = 0) -> dict[str, list[tuple[int, int, int, int]]]:
    """4000x3000 JPEGs with ``faces_per_photo`` real face photos pasted at known places
    (scaled to 400-700 px). Returns {file name: [pasted rectangles (x, y, w, h)]}."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    sources = [p for p in _face_photos(data) if "lfwdeepfunneled" in p.name]
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for i in range(n_photos):
        base = Image.new("RGB", (400, 300), tuple(rng.randrange(60, 200) for _ in range(3)))
        canvas = base.resize((4000, 3000)).filter(ImageFilter.GaussianBlur(2))
        rects = []
        for j in range(faces_per_photo):
            face = Image.open(rng.choice(sources)).convert("RGB")
            side = rng.randrange(400, 700)
            face = face.resize((side, side), Image.BICUBIC)
            x = (j % 2) * 2000 + rng.randrange(100, 2000 - side - 100)
            y = (j // 2) * 1500 + rng.randrange(50, 1500 - side - 50)
            canvas.paste(face, (x, y))
            rects.append((x, y, side, side))
        name = f"large_{i:03d}.jpg"
        canvas.save(out / name, quality=90)
        truth[name] = rects
    return truth


# -- search -----------------------------------------------------------------------------------
def bench_search(real: np.ndarray, work: Path, sizes: list[int], queries: int) -> list[dict]:
    out = []
    for size in sizes:
        lib = Library(work / f"lib-{size}", "bench")
        vecs = synthetic_embeddings(real, size, seed=size)
        t0 = time.perf_counter()
        chunk = 5000
        for start in range(0, size, chunk):
            items = []
            for i in range(start, min(size, start + chunk)):
                face = Face((0, 0, 100, 100), 1.0, np.zeros((5, 2), np.float32), vecs[i])
                items.append((PhotoResult(f"/bench/{size}/{i}.jpg", [face], None, 100, 100), 1, 1))
            lib.store_results(items)
        lib.load_index()
        lib.save_index()
        build_s = time.perf_counter() - t0
        qs = synthetic_embeddings(real, queries, seed=size + 1)
        ids, emb = lib.all_embeddings()
        lat, recall = [], []
        for q in qs:
            t = time.perf_counter()
            hits = lib.search(q, k=10)
            lat.append((time.perf_counter() - t) * 1000)
            exact = set(ids[np.argpartition(np.sum((emb - q) ** 2, axis=1), 10)[:10]].tolist())
            recall.append(len(exact & {h.face.face_id for h in hits}) / 10)
        lat.sort()
        out.append({
            "faces": size, "queries": queries, "build_s": round(build_s, 1),
            "p50_ms": round(statistics.median(lat), 3),
            "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 3),
            "recall_at_10": round(float(np.mean(recall)), 4), "ef": lib.ef,
        })
        lib.close()
    return out


def bench_library_memory(work: Path, size: int) -> dict:
    """Peak RSS of a fresh process that opens the ``size``-face library and searches it."""
    code = (
        "import numpy as np; from facefinder.core.library import Library; "
        "from facefinder.bench import _vm_hwm_mib; "
        f"lib = Library({str(work / f'lib-{size}')!r}, 'bench', create=False); "
        "v = np.ones(128, np.float32) / np.sqrt(128); lib.search(v, 10); "
        "print(_vm_hwm_mib())"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return {"faces": size, "peak_rss_mib": round(float(proc.stdout.strip()))}


# -- cold start -------------------------------------------------------------------------------
def bench_startup(data: Path, work: Path, runs: int = 3) -> dict:
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(work / "data-startup"))
    folder = data / "faces" / "al_gore"
    query = sorted(folder.iterdir())[0]
    _cli("index", str(folder), "-q", env=env)
    result = {}
    for backend in ("lite", "tf"):
        e = dict(env, FACEFINDER_BACKEND=backend)
        _cli("search", str(query), "--json", env=e)  # warm the OS file cache
        times = [_cli("search", str(query), "--json", env=e)[0] for _ in range(runs)]
        result[f"cold_search_s_{backend}"] = round(statistics.median(times), 2)
    return result


# -- driver -----------------------------------------------------------------------------------
def main(args) -> int:
    data = Path(args.data) if args.data else _default_data()
    only = set((args.only or "embed,index,profile,search,memory,startup").split(","))
    quick = args.quick
    report: dict = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or ''}"
                   f" {_cpu_name()}".strip(),
        "python": platform.python_version(),
        "command": "facefinder bench" + (" --quick" if quick else "")
                   + (f" --only {args.only}" if args.only else ""),
    }
    with tempfile.TemporaryDirectory(prefix="facefinder-bench-") as tmp:
        work = Path(tmp)
        engine = Engine()
        engine.load()
        if "embed" in only:
            report["embed"] = bench_embed(engine, data, 64 if quick else 160)
            _print("embed", report["embed"])
        if "index" in only or "app" in only:
            # "app" alone: the CLI and the app on the same photos, without the baseline.
            report["index"] = bench_index.bench_index(data, work, 8 if quick else 30,
                                                      baseline="index" in only)
            _print("index", report["index"])
        if "profile" in only:
            from .profiling import format_table

            report["profile"] = bench_index.bench_profile(data, work, 4 if quick else 12)
            print(format_table(report["profile"]), file=sys.stderr, flush=True)
        if "search" in only or "memory" in only:
            from .core.evaluate import embed_labelled

            sub = data / "faces"
            real = embed_labelled(engine, sub).embeddings
            real = real[~np.isnan(real).any(axis=1)]
            sizes = [2000, 10000] if quick else [10_000, 100_000]
            report["search"] = bench_search(real, work, sizes, 200 if quick else 1000)
            _print("search", report["search"])
            if "memory" in only:
                report["library_memory"] = bench_library_memory(work, sizes[-1])
                _print("library_memory", report["library_memory"])
        if "startup" in only:
            report["startup"] = bench_startup(data, work)
            _print("startup", report["startup"])
        # Scaling out (README "Scaling out"; needs facefinder[ray] / facefinder[qdrant]): only
        # when asked for, with --only ray,qdrant.
        if "ray" in only:
            from .bench_scaleout import bench_ray

            report["ray"] = bench_ray(data, work, 24 if quick else 120, [1, 2])
            _print("ray", report["ray"])
        if "qdrant" in only:
            from .bench_scaleout import bench_qdrant
            from .core.evaluate import embed_labelled

            real = embed_labelled(engine, data / "faces").embeddings
            real = real[~np.isnan(real).any(axis=1)]
            from .bench_scaleout import bench_writer

            report["writer"] = bench_writer(real, work, 400 if quick else 2000)
            _print("writer", report["writer"])
            # Local mode in memory at full size; in a folder (one SQLite commit per point,
            # about a minute per 4,000 faces here) at a tenth of it.
            size = 5000 if quick else 100_000
            report["qdrant"] = bench_qdrant(real, work, size, 100 if quick else 1000, False)
            _print("qdrant", report["qdrant"])
            report["qdrant_path"] = bench_qdrant(real, work, size // 10, 100 if quick else 1000)
            _print("qdrant_path", report["qdrant_path"])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _print(name: str, value) -> None:
    print(f"[{name}] {json.dumps(value)}", file=sys.stderr, flush=True)
