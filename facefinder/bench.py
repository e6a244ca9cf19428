"""``facefinder bench``: the figures the README quotes, each against a baseline in the same run.

- embed:   FaceNet faces/s, batched (32) against one face at a time, on real face crops;
- index:   end-to-end ``facefinder index`` (a fresh process: start-up included) on 4000x3000
           photos composed from real faces (so the right answer is known), against a
           straightforward pipeline: full-resolution MTCNN on TensorFlow, one face at a time;
           then the app's own path on the same photos (``ServiceClient.index`` -> ``indexDone``,
           offscreen: the worker process included), its rate against the CLI's, the GUI
           thread's worst wait and the peak memory of app and worker together, on a quiet
           machine and with two CPU-burning programs running (``app`` in the report);
- search:  p50/p99 latency and recall@10 against exact search, at 10k and 100k faces;
- memory:  peak RSS of the indexing process and of a process holding a 100k-face library;
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

from .core.detect import DetectOptions
from .core.facenet import fingerprint
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


def _found(truth: dict, boxes_by_name: dict) -> tuple[int, int]:
    """(pasted faces with a detected box centred inside them, pasted faces)."""
    hit = total = 0
    for name, rects in truth.items():
        boxes = boxes_by_name.get(name, [])
        for (x, y, w, h) in rects:
            total += 1
            if any(x < bx + bw / 2 < x + w and y < by + bh / 2 < y + h for bx, by, bw, bh in boxes):
                hit += 1
    return hit, total


def bench_app(corpus: Path, work: Path, name: str, burn: int = 0) -> dict:
    """The app path on ``corpus`` into a fresh library (see :mod:`facefinder.gui.bench_app`)."""
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(work / "data"), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "facefinder.gui.bench_app", str(corpus),
                           str(work / name), "--burn", str(burn)], capture_output=True,
                          text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the app path failed: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def bench_index(data: Path, work: Path, n_photos: int, n_baseline: int,
                app: bool = True) -> dict:
    corpus = work / "large"
    truth = make_large_corpus(data, corpus, n_photos)
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(work / "data"))
    lib = work / "lib-index"
    wall, peak, proc = _cli("index", str(corpus), "--library", str(lib), "-q", env=env)
    apps = {}
    if app:
        # The app right after the CLI, on the same photos: the ratio is what the README quotes.
        apps["quiet"] = bench_app(corpus, work, "lib-app")
        apps["quiet"]["rate_vs_cli"] = round(apps["quiet"]["photos_per_s"] / (n_photos / wall), 3)
        apps["loaded"] = bench_app(corpus, work, "lib-app-loaded", burn=2)
    with Library(lib, None, create=False) as opened:
        boxes: dict[str, list] = {}
        for path, box, _, _ in opened.export_rows():
            boxes.setdefault(Path(path).name, []).append(box)
    hit, total = _found(truth, boxes)

    out = {
        "photos": n_photos, "photo_size": "4000x3000", "faces_per_photo": 4,
        "photos_per_s": round(n_photos / wall, 2), "wall_s_including_startup": round(wall, 1),
        "peak_rss_mib": round(peak), "pasted_faces_found": f"{hit}/{total}",
        **({"app": apps} if apps else {}),
    }
    if not n_baseline:
        return out
    # Baseline: full-resolution MTCNN on TensorFlow, each face embedded on its own, one photo
    # after another (what a first implementation of the article's pipeline does).
    base = Engine(DetectOptions(detect_size=0), batch_size=1, backend="tf")
    t0 = time.perf_counter()
    base.load()
    load_s = time.perf_counter() - t0
    names = sorted(truth)[:n_baseline]
    base_boxes = {}
    t0 = time.perf_counter()
    for name in names:
        _, faces = base.faces_in_file(corpus / name)
        base_boxes[name] = [f.box for f in faces]
    per_photo = (time.perf_counter() - t0) / len(names)
    bhit, btotal = _found({k: truth[k] for k in names}, base_boxes)
    out.update({
        "baseline_photos_per_s": round(1 / (per_photo + load_s / n_photos), 3),
        "baseline_s_per_photo": round(per_photo, 1), "baseline_photos": len(names),
        "baseline_pasted_faces_found": f"{bhit}/{btotal}",
    })
    return out


# -- search -----------------------------------------------------------------------------------
def _synthetic_embeddings(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors around real FaceNet embeddings (each a real face plus noise that moves
    it ~0.6 away, the spread of one person's photos), so the index sees realistic structure."""
    rng = np.random.default_rng(seed)
    base = real[rng.integers(0, len(real), n)]
    v = base + rng.standard_normal(base.shape).astype(np.float32) * 0.045
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def bench_search(real: np.ndarray, work: Path, sizes: list[int], queries: int) -> list[dict]:
    out = []
    for size in sizes:
        lib = Library(work / f"lib-{size}", "bench")
        vecs = _synthetic_embeddings(real, size, seed=size)
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
        qs = _synthetic_embeddings(real, queries, seed=size + 1)
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
    only = set((args.only or "embed,index,search,memory,startup").split(","))
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
            # "app" alone: the CLI and the app on the same photos, without the slow baseline.
            report["index"] = bench_index(data, work, 6 if quick else 30,
                                          (2 if quick else 4) if "index" in only else 0)
            _print("index", report["index"])
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
