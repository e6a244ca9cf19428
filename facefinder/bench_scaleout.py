"""``facefinder bench --only ray,qdrant``: the scaling-out figures of the README, measured here.

- ray:    indexing the same real photos with the plain engine, then with a private local Ray
          of 1 and of 2 workers (one Engine each); photos/s while indexing (start-up apart:
          starting Ray and loading a model per worker is reported on its own);
- qdrant: one catalog of synthetic faces (real FaceNet embeddings plus noise, as ``search``),
          copied into an embedded library (hnswlib) and into Qdrant local-mode libraries (in
          memory, and in a folder) with ``library migrate``; build time, search p50/p99 and
          recall@10 against exact search.

Needs the extras (``pip install "facefinder[ray,qdrant]"``); nothing here is a test.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from .core.environment import ray_environment
from .core.library import Library
from .core.pipeline import Engine, Face, PhotoResult
from .core.scan import index_folder
from .synthetic import synthetic_embeddings


def _index_rate(library_path: Path, engine, folder: Path) -> dict:
    with Library(library_path, engine.fingerprint) as lib:
        t0 = time.perf_counter()
        started = None
        for p in index_folder(lib, engine, folder):
            if p.stage == "indexing" and started is None:
                started = time.perf_counter()
            if p.summary is not None:
                summary = p.summary
        seconds = time.perf_counter() - started
        faces = lib.face_count()
    return {"photos": summary.processed, "faces": faces, "index_s": round(seconds, 1),
            "photos_per_s": round(summary.processed / seconds, 2),
            "total_s": round(time.perf_counter() - t0, 1)}


def bench_ray(data: Path, work: Path, n_photos: int, workers: list[int]) -> dict:
    """Photos/s of the plain run and of local Ray runs on the same ``n_photos`` real photos."""
    ray_environment()
    from .core.distributed.ray_engine import RayEngine

    folder = work / "ray-photos"
    folder.mkdir()
    photos = sorted((data / "faces").glob("*/*.jpg"))
    if len(photos) < n_photos:
        raise RuntimeError(f"{data / 'faces'}: fewer than {n_photos} photos (set --data)")
    step = max(1, len(photos) // n_photos)
    for i, src in enumerate(photos[::step][:n_photos]):
        shutil.copyfile(src, folder / f"{i:04d}-{src.name}")
    out: dict = {"photos": n_photos}
    engine = Engine()
    t = time.perf_counter()
    engine.load()
    start = time.perf_counter() - t
    out["plain"] = dict(_index_rate(work / "lib-plain", engine, folder), start_s=round(start, 1))
    for n in workers:
        t = time.perf_counter()
        with RayEngine(workers=n, ray_init={"object_store_memory": 256 << 20}) as ray_engine:
            ray_engine.load()
            start = time.perf_counter() - t
            out[f"ray_{n}"] = dict(_index_rate(work / f"lib-ray-{n}", ray_engine, folder),
                                   start_s=round(start, 1))
    return out


def bench_writer(real: np.ndarray, work: Path, n_photos: int = 2000,
                 faces_per_photo: int = 2) -> dict:
    """The ceiling of one library writer: photos/s committed as ``index_folder`` commits them
    (8 photos a transaction, each with ``faces_per_photo`` faces), into the embedded library
    (catalog + hnswlib patched after each commit) and into a Qdrant in-memory one."""
    from .core.distributed.locations import open_library

    vecs = synthetic_embeddings(real, n_photos * faces_per_photo, seed=7)
    out: dict = {"photos": n_photos, "faces_per_photo": faces_per_photo}
    for name, spec in (("embedded", str(work / "writer-embedded")),
                       ("qdrant_memory", f"qdrant+memory:///writer?catalog={work}/writer-qm")):
        with open_library(spec, "bench") as lib:
            lib.load_index()
            t = time.perf_counter()
            for start in range(0, n_photos, 8):
                batch = []
                for i in range(start, min(n_photos, start + 8)):
                    faces = [Face((0, 0, 100, 100), 1.0, np.zeros((5, 2), np.float32),
                                  vecs[i * faces_per_photo + j]) for j in range(faces_per_photo)]
                    batch.append((PhotoResult(f"/w/{i}.jpg", faces, None, 100, 100), 1, 1))
                lib.store_results(batch, "bench")
            lib.save_index(force=True)
            out[name] = round(n_photos / (time.perf_counter() - t), 1)
    return out


def bench_qdrant(real: np.ndarray, work: Path, size: int, queries: int,
                 path_mode: bool = True) -> dict:
    """Build time and search latency/recall of hnswlib and of Qdrant's local mode on the same
    ``size`` faces (one catalog, copied into each with ``library migrate``)."""
    from .core.distributed.locations import migrate_library, open_library

    source = work / f"catalog-{size}"
    lib = Library(source, "bench")
    vecs = synthetic_embeddings(real, size, seed=size)
    for start in range(0, size, 5000):
        items = []
        for i in range(start, min(size, start + 5000)):
            face = Face((0, 0, 100, 100), 1.0, np.zeros((5, 2), np.float32), vecs[i])
            items.append((PhotoResult(f"/bench/{size}/{i}.jpg", [face], None, 100, 100), 1, 1))
        lib.store_results(items)
    ids, emb = lib.all_embeddings()
    lib.close()
    qs = synthetic_embeddings(real, queries, seed=size + 1)
    exact = [set(ids[np.argpartition(np.sum((emb - q) ** 2, axis=1), 10)[:10]].tolist())
             for q in qs]
    out: dict = {"faces": size, "queries": queries}
    targets = {"hnswlib": str(work / f"hnsw-{size}"),
               "qdrant_memory": f"qdrant+memory:///faces{size}?catalog={work}/qm-{size}"}
    if path_mode:
        targets["qdrant_path"] = f"qdrant+path://{work}/qdrant/faces{size}?catalog={work}/qp-{size}"
    for name, target in targets.items():
        t = time.perf_counter()
        migrate_library(str(source), target)
        build_s = time.perf_counter() - t
        with open_library(target, "bench", create=False) as lib:
            t = time.perf_counter()
            lib.search(qs[0], 10)  # open: verify and load the store
            open_s = time.perf_counter() - t
            lat, recall = [], []
            for q, truth in zip(qs, exact):
                t = time.perf_counter()
                hits = lib.search(q, 10)
                lat.append((time.perf_counter() - t) * 1000)
                recall.append(len(truth & {h.face.face_id for h in hits}) / 10)
        lat.sort()
        out[name] = {"build_s": round(build_s, 1), "open_s": round(open_s, 2),
                     "p50_ms": round(statistics.median(lat), 2),
                     "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 2),
                     "recall_at_10": round(float(np.mean(recall)), 4)}
    return out
