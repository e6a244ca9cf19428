"""Where indexing's time goes: every stage of the pipeline, timed one photo after another.

``facefinder bench --only profile`` runs :func:`profile_index` on camera-size photos
(:mod:`facefinder.synthetic`): each photo decoded, searched, cropped and embedded on one thread,
every LiteRT model on one thread too, and each stage's **thread CPU time**
(``time.thread_time``) added up. On a machine shared with other work, wall time says more about
the neighbours than about the code; CPU time on one thread is what the stage costs, and what two
photo workers share out between two cores.

The stages are timed by wrapping the functions and methods that do them, in this process and for
the length of the run only (they are put back afterwards).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .core.detect import DEFAULT_DETECT_SIZE

# (key, label) in the order printed; "rest" rows are what a stage took beyond its parts.
ROWS = [
    ("decode", "decode (whole photo, EXIF, RGB)"),
    ("copy", f"detection copy ({DEFAULT_DETECT_SIZE} px, block average)"),
    ("pnet_levels", "PNet: pyramid levels"),
    ("pnet_net", "PNet: network (tiles)"),
    ("pnet_rest", "PNet: boxes, NMS"),
    ("patches", "RNet+ONet: patches (crop_and_resize)"),
    ("rnet_net", "RNet: network"),
    ("onet_net", "ONet: network"),
    ("ro_rest", "RNet+ONet: boxes, NMS"),
    ("mtcnn_rest", "MTCNN: normalising, rest"),
    ("full_decode", "second decodes for crops"),
    ("crops", "face crops (160x160, prewhiten)"),
    ("facenet", "FaceNet (batches of 16)"),
    ("library", "library writes (SQLite, HNSW)"),
]


class _Stopwatch:
    """Thread CPU time per stage, by wrapping callables; :meth:`restore` undoes every wrap."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._wrapped: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, name: str, stage: str, count=None) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            if count is not None:
                self.calls[stage + ":n"] += count(*args, **kwargs)
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu[stage] += time.thread_time() - start
                self.calls[stage] += 1

        setattr(owner, name, timed)
        self._wrapped.append((owner, name, original))

    def time(self, stage: str, fn, *args):
        start = time.thread_time()
        try:
            return fn(*args)
        finally:
            self.cpu[stage] += time.thread_time() - start

    def restore(self) -> None:
        for owner, name, original in reversed(self._wrapped):
            setattr(owner, name, original)
        self._wrapped.clear()


def profile_index(paths: list[Path], library_path: Path) -> dict:
    """Index ``paths`` into a new library at ``library_path`` the single-pipeline way, timing
    each stage. Returns ``{"photos", "faces", "rnet_boxes_per_photo", "full_decodes",
    "ms_per_photo": {label: thread CPU ms per photo}, "total_ms_per_photo"}``."""
    from .core import faces as photo_faces, images, mtcnn_lite, pipeline
    from .core.detect import Detector, DetectOptions
    from .core.facenet import FaceNetLite, ensure_lite_model, fingerprint
    from .core.library import Library
    from .core.weights import fetch_weights

    options = DetectOptions()
    detector = Detector("lite", num_threads=1)
    facenet = FaceNetLite(ensure_lite_model(fetch_weights()), num_threads=1)
    library = Library(library_path, fingerprint())
    lite = detector._lite
    watch = _Stopwatch()
    watch.wrap(photo_faces, "load_photo", "decode")  # the decode decode_for_detection does
    watch.wrap(images.Photo, "detection_copy", "copy")
    watch.wrap(images, "load_photo", "full_decode")  # only Photo.face_tensor calls it here
    watch.wrap(lite, "detect", "mtcnn")
    watch.wrap(lite, "_pnet", "pnet")
    watch.wrap(mtcnn_lite, "pyramid_level", "pnet_levels")
    watch.wrap(lite, "pnet_maps", "pnet_net")
    watch.wrap(lite, "_rnet", "rnet", count=lambda image, boxes, threshold: len(boxes))
    watch.wrap(lite, "_onet", "onet")
    watch.wrap(lite, "_patches", "patches")
    watch.wrap(lite._nets["rnet"], "run", "rnet_net")
    watch.wrap(lite._nets["onet"], "run", "onet_net")
    watch.wrap(images.Photo, "face_tensor", "crops_all")
    try:
        library.load_index()  # as index_folder does: new faces then go into the HNSW index too
        faces = 0
        batch, queued = [], []
        for i, path in enumerate(paths):
            photo, pixels, scale = photo_faces.decode_for_detection(str(path), options)
            detected = detector.detect_array(pixels, options, scale)
            del pixels
            tensors = [photo.face_tensor(d.box) for d in detected]
            result = pipeline.PhotoResult(str(path), width=photo.width, height=photo.height)
            queued.append((result, detected, tensors))
            faces += len(detected)
            if sum(len(t) for _, _, t in queued) >= 16 or i == len(paths) - 1:
                stack = [t for _, _, ts in queued for t in ts]
                vectors = (watch.time("facenet", facenet.embed, np.stack(stack)) if stack
                           else np.zeros((0, 128), np.float32))
                k = 0
                for result, detected, ts in queued:
                    result.faces = pipeline._faces(detected, vectors[k:k + len(ts)])
                    k += len(ts)
                    batch.append((result, path.stat().st_size, path.stat().st_mtime_ns))
                queued.clear()
            if len(batch) >= 8 or i == len(paths) - 1:
                watch.time("library", library.store_results, list(batch))
                batch.clear()
        watch.time("library", library.save_index)
    finally:
        watch.restore()
        library.close()
    cpu = watch.cpu
    parts = {
        "decode": cpu["decode"], "copy": cpu["copy"],
        "pnet_levels": cpu["pnet_levels"], "pnet_net": cpu["pnet_net"],
        "pnet_rest": cpu["pnet"] - cpu["pnet_levels"] - cpu["pnet_net"],
        "patches": cpu["patches"], "rnet_net": cpu["rnet_net"], "onet_net": cpu["onet_net"],
        "ro_rest": cpu["rnet"] + cpu["onet"] - cpu["patches"] - cpu["rnet_net"] - cpu["onet_net"],
        "mtcnn_rest": cpu["mtcnn"] - cpu["pnet"] - cpu["rnet"] - cpu["onet"],
        "full_decode": cpu["full_decode"], "crops": cpu["crops_all"] - cpu["full_decode"],
        "facenet": cpu["facenet"], "library": cpu["library"],
    }
    n = max(1, len(paths))
    table = {label: round(parts[key] * 1000 / n, 1) for key, label in ROWS}
    return {
        "photos": len(paths), "faces": faces,
        "rnet_boxes_per_photo": round(watch.calls["rnet:n"] / n),
        "full_decodes": watch.calls["full_decode"],
        "ms_per_photo": table, "total_ms_per_photo": round(sum(parts.values()) * 1000 / n),
        "clock": "thread CPU time, one thread, LiteRT on one thread",
    }


def format_table(profile: dict) -> str:
    """The profile as aligned text lines (stage, ms per photo, share)."""
    total = profile["total_ms_per_photo"] or 1
    lines = [f"{profile['photos']} photos, {profile['faces']} faces, "
             f"{profile['rnet_boxes_per_photo']} RNet boxes and "
             f"{profile['full_decodes'] / max(1, profile['photos']):.2f} full decodes a photo"]
    for label, ms in profile["ms_per_photo"].items():
        lines.append(f"  {label:42s} {ms:7.1f} ms  {100 * ms / total:4.0f}%")
    lines.append(f"  {'total':42s} {total:7.0f} ms")
    return "\n".join(lines)
