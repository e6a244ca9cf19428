"""Run by tests/test_extension_refcounts.py in a fresh process: the C extensions the core calls
in loops (LiteRT's invoke, hnswlib, Pillow, pillow-heif), each called a few thousand times,
with the drift of the refcounts of None, True and False and the growth of the process's memory.

The same class of bug as PySide6 6.12.0's (issue 8): an extension that returns None or a bool
without taking a reference counts it down to zero, and Python 3.11 then aborts.

Usage: python tests/extension_probe.py WORKDIR. Prints JSON lines, flushed: ``{"case", "calls",
"drift": {"None", "True", "False"}, "rss_growth_mib"}`` per case, then ``{"done": true}``.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np
from helpers import rss_mib

WARMUP = 50  # calls before measuring: buffers, caches and lazy imports settle


def counts() -> dict[str, int]:
    return {name: sys.getrefcount(obj) for name, obj in
            (("None", None), ("True", True), ("False", False))}


def measure(case: str, fn: Callable[[], object], calls: int) -> None:
    for _ in range(WARMUP):
        fn()
    gc.collect()
    before, rss = counts(), rss_mib()
    for _ in range(calls):
        fn()
    gc.collect()
    after = counts()
    print(json.dumps({"case": case, "calls": calls,
                      "drift": {k: after[k] - before[k] for k in after},
                      "rss_growth_mib": round(rss_mib() - rss, 2)}), flush=True)


def main() -> int:
    work = Path(sys.argv[1])
    faces = Path(sys.argv[2])
    from facefinder.core import facenet, mtcnn_lite
    from facefinder.core.images import load_photo
    from facefinder.core.pipeline import Engine
    from facefinder.core.tflite import LiteModel

    Engine(backend="lite").load()  # the .tflite files in the cache (converted once if missing)
    rng = np.random.default_rng(8)

    # LiteRT: the interpreter's invoke through LiteModel.run, as the detector and FaceNet call it.
    paths = mtcnn_lite.lite_paths()
    rnet = LiteModel(paths["rnet"])
    x24 = rng.random((4, 24, 24, 3), np.float32)
    measure("LiteRT LiteModel.run, MTCNN RNet (4 x 24x24)", lambda: rnet.run(x24), 3000)
    onet = LiteModel(paths["onet"])
    x48 = rng.random((2, 48, 48, 3), np.float32)
    measure("LiteRT LiteModel.run, MTCNN ONet (2 x 48x48)", lambda: onet.run(x48), 2000)
    pnet = LiteModel(paths["pnet"])
    shapes = [rng.random((1, s, s, 3), np.float32) for s in (24, 31, 40)]
    state = {"i": 0}

    def pnet_run():  # a new input shape every call: resize_tensor_input, allocate_tensors
        state["i"] += 1
        return pnet.run(shapes[state["i"] % 3])

    measure("LiteRT LiteModel.run, MTCNN PNet, the shape changing", pnet_run, 1000)
    net = LiteModel(facenet.lite_path())
    x160 = rng.random((1, 160, 160, 3), np.float32)
    measure("LiteRT LiteModel.run, FaceNet (1 x 160x160)", lambda: net.run(x160), 30)

    # hnswlib, as core.library uses it (l2 space on unit vectors).
    import hnswlib

    vectors = rng.standard_normal((6000, 128)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = hnswlib.Index(space="l2", dim=128)
    index.init_index(max_elements=4000, ef_construction=100, M=16)
    index.set_ef(64)
    added = {"n": 0}

    def add_one():
        n = added["n"]
        if n >= index.get_max_elements():
            index.resize_index(index.get_max_elements() * 2)
        index.add_items(vectors[n:n + 1], [n])
        added["n"] = n + 1

    measure("hnswlib add_items (one vector, growing with resize_index)", add_one, 5000)
    measure("hnswlib knn_query (k=10)", lambda: index.knn_query(vectors[:1], k=10), 3000)
    measure("hnswlib knn_query (8 queries, k=20)",
            lambda: index.knn_query(vectors[:8], k=20), 3000)

    # Pillow: decoding, EXIF orientation, RGB, resizing, through the core's loader.
    jpeg = sorted((faces / "al_gore").iterdir())[0]
    measure("Pillow load_photo (JPEG) + resize to 160x160",
            lambda: load_photo(jpeg).image.resize((160, 160)), 2000)
    big = max((p for p in faces.rglob("*.jpg")), key=lambda p: p.stat().st_size)
    measure("Pillow load_photo (largest JPEG, draft mode)",
            lambda: load_photo(big, max_side_hint=160), 1000)

    # pillow-heif: a HEIC made here from a real photo, decoded through the core's loader.
    try:
        import pillow_heif
    except ImportError:
        print(json.dumps({"skipped": "pillow-heif is not installed"}), flush=True)
    else:
        heic = work / "face.heic"
        pillow_heif.register_heif_opener()
        load_photo(jpeg).image.save(heic)
        measure("pillow-heif load_photo (HEIC) + resize",
                lambda: load_photo(heic).image.resize((160, 160)), 1000)
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
