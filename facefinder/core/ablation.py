"""The ablation harness behind ``facefinder evaluate``: which crop, flip, rotation, resampling and
query face give the best embeddings, and how well the same-person verdict does in result lists.

Every photo of a labelled folder (``ROOT/<person>/<photo>``) is decoded and searched for faces
once (:func:`detect_labelled`); each variant then only re-crops and re-embeds those faces
(:func:`embed_faces`). Both steps are cached on disk (``cache`` folder), keyed by the files' sizes
and times and by the variant, so a second run takes seconds.

Which face of a photo is the labelled person: the face nearest the person's other photos (the
mean of their embeddings under the reference pipeline), so that the "which face does a query use"
ablation is scored against the truth rather than against one of the rules it compares.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .align import ARTICLE, ARTICLE_CROP, DEFAULT_PIPELINE, PIPELINES, CropSpec, face_crop, \
    prewhiten
from .evaluate import labelled_photos
from .faces import decode_for_detection
from .images import load_photo
from .pipeline import prominence
from .progress import Progress
from .verify import CALIBRATIONS, COHORT, PERCENTILES, Calibration, Judge, balanced_threshold, \
    fit_tail, query_norm, tail_points


# -- detection, once per photo ------------------------------------------------------------------
@dataclass
class PhotoFaces:
    """One labelled photo and every face the detector found in it (largest first).

    ``boxes`` (n, 4) int (x, y, w, h), ``landmarks`` (n, 5, 2) float32, ``confidence`` (n,),
    all in photo pixels."""

    path: str
    label: str
    width: int
    height: int
    boxes: np.ndarray
    landmarks: np.ndarray
    confidence: np.ndarray

    @property
    def n(self) -> int:
        return len(self.boxes)


def _files_key(items: list[tuple[str, str]], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for path, label in items:
        st = os.stat(path)
        h.update(f"{path}\0{label}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def detect_labelled(engine, root: str | os.PathLike, cache: Path | None = None,
                    progress: Progress | None = None) -> list[PhotoFaces]:
    """Every face in every photo of ``root/<person>/``, detected as indexing detects them."""
    items = labelled_photos(root)
    key = _files_key(items, repr(engine.options))
    target = cache / f"detections-{key}.json" if cache else None
    if target and target.is_file():
        return [_photo_from_json(d) for d in json.loads(target.read_text())]
    engine.load()
    out: list[PhotoFaces] = []
    for i, (path, label) in enumerate(items):
        photo, pixels, scale = decode_for_detection(path, engine.options)
        found = engine._detector.detect_array(pixels, engine.options, scale)
        out.append(PhotoFaces(
            path, label, photo.width, photo.height,
            np.array([f.int_box() for f in found], np.int64).reshape(-1, 4),
            np.array([f.landmarks for f in found], np.float32).reshape(-1, 5, 2),
            np.array([f.confidence for f in found], np.float32)))
        if progress:
            progress("detecting", i + 1, len(items))
    if target:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps([_photo_to_json(p) for p in out]))
    return out


def _photo_to_json(p: PhotoFaces) -> dict:
    return {"path": p.path, "label": p.label, "width": p.width, "height": p.height,
            "boxes": p.boxes.tolist(), "landmarks": p.landmarks.tolist(),
            "confidence": p.confidence.tolist()}


def _photo_from_json(d: dict) -> PhotoFaces:
    return PhotoFaces(d["path"], d["label"], d["width"], d["height"],
                      np.array(d["boxes"], np.int64).reshape(-1, 4),
                      np.array(d["landmarks"], np.float32).reshape(-1, 5, 2),
                      np.array(d["confidence"], np.float32))


# -- embedding every face under a variant -------------------------------------------------------
@dataclass(frozen=True)
class Rendering:
    """How the harness turns a stored face into pixels: a crop, mirrored or not, from the photo
    scaled by ``photo_scale`` first (below 1: the same face made small; above 1: made large)."""

    crop: CropSpec = ARTICLE_CROP
    mirrored: bool = False
    photo_scale: float = 1.0
    scale_filter: str = "bicubic"
    face_side: int = 0
    """When set, the photo is shrunk (``scale_filter``) so that the embedded face's box has this
    shorter side in pixels (faces already smaller stay; ``photo_scale`` is then ignored)."""

    def key(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass
class Embedded:
    """Embeddings of every face of every photo, in photo order then face order: (N, 128)."""

    vectors: np.ndarray
    crop_ms: float  # decode excluded: cropping, resampling and whitening per face
    embed_ms: float  # FaceNet per face (batches of 32)


def _scaled_photo(image, factor: float, filter_name: str):
    from PIL import Image

    if factor == 1.0:
        return image
    size = (max(2, round(image.width * factor)), max(2, round(image.height * factor)))
    return image.resize(size, {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR,
                               "area": Image.BOX}[filter_name])


def embed_faces(engine, photos: list[PhotoFaces], rendering: Rendering,
                cache: Path | None = None, progress: Progress | None = None,
                only: np.ndarray | None = None) -> Embedded:
    """Embed every face (or the rows flagged in ``only``, a bool mask over all faces; others are
    NaN) of ``photos`` as ``rendering`` says."""
    total = sum(p.n for p in photos)
    mask_key = "" if only is None else hashlib.sha256(np.packbits(only).tobytes()).hexdigest()[:8]
    key = _files_key([(p.path, p.label) for p in photos], rendering.key() + mask_key)
    target = cache / f"embed-{key}.npz" if cache else None
    if target and target.is_file():
        with np.load(target) as z:
            return Embedded(z["vectors"], float(z["crop_ms"]), float(z["embed_ms"]))
    engine.load()
    vectors = np.full((total, 128), np.nan, np.float32)
    tensors: list[np.ndarray] = []
    rows: list[int] = []
    crop_s = embed_s = 0.0
    done = 0

    def flush() -> None:
        nonlocal embed_s
        if tensors:
            t0 = time.perf_counter()
            vectors[rows] = engine.embed(np.stack(tensors))
            embed_s += time.perf_counter() - t0
            tensors.clear()
            rows.clear()

    row = 0
    for i, p in enumerate(photos):
        wanted = [j for j in range(p.n) if only is None or only[row + j]]
        original = load_photo(p.path).image if wanted else None
        for j in wanted:
            # face_side only shrinks: a face smaller than that stays as it is
            f = (min(1.0, rendering.face_side / max(1, int(min(p.boxes[j][2:]))))
                 if rendering.face_side else rendering.photo_scale)
            image = _scaled_photo(original, f, rendering.scale_filter)
            t0 = time.perf_counter()
            crop = face_crop(image, p.boxes[j] * f, spec=rendering.crop.scaled(f),
                             landmarks=p.landmarks[j] * f)
            pixels = np.asarray(crop)
            if rendering.mirrored:
                pixels = pixels[:, ::-1]
            tensors.append(prewhiten(pixels))
            crop_s += time.perf_counter() - t0
            rows.append(row + j)
            done += 1
            if len(tensors) >= 32:
                flush()
        row += p.n
        if progress:
            progress("embedding", i + 1, len(photos))
    flush()
    out = Embedded(vectors, 1000 * crop_s / max(done, 1), 1000 * embed_s / max(done, 1))
    if target:
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez(target, vectors=out.vectors, crop_ms=out.crop_ms, embed_ms=out.embed_ms)
    return out


def normalized_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The flip average: ``(a + b) / |a + b|`` row by row."""
    s = a + b
    return (s / np.linalg.norm(s, axis=1, keepdims=True)).astype(np.float32)


# -- which face is the labelled person, which face a query uses --------------------------------
def face_offsets(photos: list[PhotoFaces]) -> np.ndarray:
    """Row of each photo's first face in the flat face arrays: (len(photos) + 1,)."""
    return np.concatenate([[0], np.cumsum([p.n for p in photos])]).astype(np.int64)


def truth_faces(photos: list[PhotoFaces], vectors: np.ndarray) -> np.ndarray:
    """For each photo, the row of the face that is the labelled person (-1: no face): the face
    nearest the mean embedding of the largest faces of the person's *other* photos."""
    off = face_offsets(photos)
    labels = np.array([p.label for p in photos])
    largest = np.array([off[i] if p.n else -1 for i, p in enumerate(photos)])
    truth = largest.copy()
    for i, p in enumerate(photos):
        if p.n <= 1:
            continue
        others = [largest[j] for j in np.where(labels == p.label)[0]
                  if j != i and largest[j] >= 0]
        if not others:
            continue
        centre = vectors[others].mean(axis=0)
        d = np.linalg.norm(vectors[off[i]:off[i + 1]] - centre, axis=1)
        truth[i] = off[i] + int(np.argmin(d))
    return truth


def chosen_faces(photos: list[PhotoFaces], rule: str) -> np.ndarray:
    """Row of the face each photo's query uses under ``rule`` ("largest" or "prominent")."""
    off = face_offsets(photos)
    out = np.full(len(photos), -1, np.int64)
    for i, p in enumerate(photos):
        if not p.n:
            continue
        if rule == "largest":
            out[i] = off[i] + int(np.argmax(p.boxes[:, 2] * p.boxes[:, 3]))
        else:
            scores = [prominence(p.boxes[j], p.confidence[j], p.width, p.height)
                      for j in range(p.n)]
            out[i] = off[i] + int(np.argmax(scores))
    return out


# -- metrics -----------------------------------------------------------------------------------
def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of unit vectors a (n, 128) and b (m, 128): (n, m)."""
    return np.sqrt(np.maximum(2.0 - 2.0 * (a @ b.T), 0.0))


def retrieval(query: np.ndarray, labels: list[str]) -> dict:
    """P@1 and mAP: each photo (row of ``query``; NaN = no face) whose person has another photo
    queries all other photos' faces; photos without a face count as misses."""
    return cross_retrieval(query, query, labels)


def pair_sets(vectors: np.ndarray, labels: list[str],
              rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distances of every same-person and every different-person pair among ``rows``."""
    labels_arr = np.asarray(labels)
    rows = np.arange(len(vectors)) if rows is None else np.asarray(rows)
    rows = rows[~np.isnan(vectors[rows]).any(axis=1)]
    d = _dist(vectors[rows], vectors[rows])
    iu = np.triu_indices(len(rows), k=1)
    same = labels_arr[rows][iu[0]] == labels_arr[rows][iu[1]]
    return d[iu][same], d[iu][~same]


def balanced_accuracy(same: np.ndarray, diff: np.ndarray, threshold: float) -> float:
    return float(((same < threshold).mean() + (diff >= threshold).mean()) / 2)


def verification(vectors: np.ndarray, labels: list[str], folds: int = 10, seed: int = 0) -> dict:
    """Balanced accuracy of same/different verdicts over every pair, with the threshold chosen
    on 9 folds of the pairs and scored on the 10th (mean of the 10), and the threshold that
    all pairs give."""
    same, diff = pair_sets(vectors, labels)
    rng = np.random.default_rng(seed)
    fs, fd = rng.integers(0, folds, len(same)), rng.integers(0, folds, len(diff))
    accs = [balanced_accuracy(same[fs == k], diff[fd == k],
                              balanced_threshold(same[fs != k], diff[fd != k]))
            for k in range(folds) if (fs == k).any() and (fd == k).any()]
    t_all = balanced_threshold(same, diff)
    return {"accuracy": float(np.mean(accs)) if accs else float("nan"), "threshold": t_all,
            "same_pairs": len(same), "different_pairs": len(diff)}


def transfer(vectors: np.ndarray, labels: list[str], photo_names: list[str],
             holdout: str | None = None, splits: int = 10, seed: int = 0) -> dict:
    """Accuracy of a threshold on pairs of people it was not tuned on.

    ``halves``: the people split at random into two halves, the threshold tuned on one half's
    pairs and scored on the other's (both ways, ``splits`` random splits; mean and spread).
    ``holdout``: the people with a photo whose file name starts with ``holdout`` are the test
    set, everyone else the tuning set (for instance web photos against LFW)."""
    labels_arr = np.asarray(labels)
    people = sorted(set(labels))
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(splits):
        half = set(rng.permutation(people)[: len(people) // 2].tolist())
        a = np.array([lbl in half for lbl in labels])
        for tune, test in ((a, ~a), (~a, a)):
            t = balanced_threshold(*pair_sets(vectors, labels, np.where(tune)[0]))
            accs.append(balanced_accuracy(*pair_sets(vectors, labels, np.where(test)[0]), t))
    out = {"halves_accuracy": float(np.mean(accs)), "halves_sd": float(np.std(accs))}
    if holdout:
        test_people = {lbl for lbl, name in zip(labels, photo_names) if name.startswith(holdout)}
        test = np.array([lbl in test_people for lbl in labels_arr])
        if test.any() and (~test).any():
            t = balanced_threshold(*pair_sets(vectors, labels, np.where(~test)[0]))
            s, d = pair_sets(vectors, labels, np.where(test)[0])
            out.update({"holdout": holdout, "holdout_threshold": t,
                        "holdout_accuracy": balanced_accuracy(s, d, t),
                        "holdout_best_accuracy": balanced_accuracy(s, d, balanced_threshold(s, d)),
                        "holdout_people": len(test_people)})
    return out


def lfw_pairs_check(vectors: np.ndarray, photos: list[PhotoFaces], rows: np.ndarray,
                    pairs_file: str | os.PathLike, threshold: float) -> dict:
    """The official LFW ``pairs.txt`` pairs whose two photos are in the folder (named
    ``..._<Name>_<NNNN>.jpg``): how many there are and the share the threshold gets right."""
    index = {}
    for i, p in enumerate(photos):
        stem = Path(p.path).stem
        parts = stem.split("_")
        if len(parts) >= 3 and parts[-1].isdigit():
            index["_".join(parts[1:])] = i
    same = diff = right_same = right_diff = 0
    for line in Path(pairs_file).read_text().splitlines()[1:]:
        f = line.split("\t")
        if len(f) == 3:
            a, b, is_same = f"{f[0]}_{int(f[1]):04d}", f"{f[0]}_{int(f[2]):04d}", True
        elif len(f) == 4:
            a, b, is_same = f"{f[0]}_{int(f[1]):04d}", f"{f[2]}_{int(f[3]):04d}", False
        else:
            continue
        if a not in index or b not in index:
            continue
        ra, rb = rows[index[a]], rows[index[b]]
        if ra < 0 or rb < 0:
            continue
        d = float(np.linalg.norm(vectors[ra] - vectors[rb]))
        if is_same:
            same += 1
            right_same += d < threshold
        else:
            diff += 1
            right_diff += d >= threshold
    return {"same_pairs": same, "same_accepted": right_same / same if same else None,
            "different_pairs": diff,
            "different_rejected": right_diff / diff if diff else None}


# -- the variants --------------------------------------------------------------------------------
@dataclass
class Variant:
    """One row of the table: a crop, where flip averaging applies ("" / "gallery" / "query" /
    "both") and which face a photo's query uses."""

    name: str
    crop: CropSpec
    flip: str = ""
    face: str = "largest"


@dataclass
class Row:
    name: str
    p_at_1: float
    map: float
    verification: float
    threshold: float
    halves: float
    holdout: float | None
    holdout_best: float | None
    lfw_same_accepted: float | None
    ms_per_face: float
    facenet_passes: float
    extra: dict = field(default_factory=dict)


def crop_variants() -> list[Variant]:
    """Margins, shapes and padding, each with the largest face, no flip, bilinear."""
    rel = lambda m, **kw: CropSpec(margin=m, relative=True, **kw)  # noqa: E731
    return [
        Variant("fixed 44 px (article)", ARTICLE_CROP),
        Variant("fixed 32 px", CropSpec(margin=32)),
        Variant("20% of the box", rel(0.2)),
        Variant("25% of the box", rel(0.25)),
        Variant("30% of the box", rel(0.3)),
        Variant("35% of the box", rel(0.35)),
        Variant("40% of the box", rel(0.4)),
        Variant("30%, edge-padded", rel(0.3, pad=True)),
        Variant("square 20%", rel(0.2, square=True)),
        Variant("square 30%", rel(0.3, square=True)),
        Variant("square 30%, edge-padded", rel(0.3, square=True, pad=True)),
        Variant("square 40%", rel(0.4, square=True)),
    ]


def on_top(best: Variant) -> list[Variant]:
    """Flip averaging, eye-level rotation, resampling and the query's face on the best crop."""
    c = best.crop
    return [
        Variant(f"{best.name} + flip, gallery only", c, flip="gallery"),
        Variant(f"{best.name} + flip, query only", c, flip="query"),
        Variant(f"{best.name} + flip, both", c, flip="both"),
        Variant(f"{best.name} + eye-level rotation", CropSpec(**{**asdict(c), "rotate": True})),
        Variant(f"{best.name}, bicubic", CropSpec(**{**asdict(c), "resample": "bicubic"})),
        Variant(f"{best.name}, area", CropSpec(**{**asdict(c), "resample": "area"})),
        Variant(f"{best.name}, most prominent face", c, face="prominent"),
    ]


class Harness:
    """Detections, embeddings and metrics of one labelled folder (see the module docstring)."""

    def __init__(self, engine, root: str | os.PathLike, cache: str | os.PathLike | None = None,
                 pairs_file: str | os.PathLike | None = None, holdout: str | None = None,
                 progress: Progress | None = None):
        self.engine = engine
        self.root = Path(root)
        self.cache = Path(cache) if cache else None
        self.pairs_file = pairs_file
        self.holdout = holdout
        self.progress = progress
        self.photos = detect_labelled(engine, root, self.cache, progress)
        self.labels = [p.label for p in self.photos]
        self.names = [Path(p.path).name for p in self.photos]
        self.offsets = face_offsets(self.photos)
        self.face_labels = np.array([p.label for p in self.photos for _ in range(p.n)])
        self.face_photo = np.array([i for i, p in enumerate(self.photos) for _ in range(p.n)],
                                   np.int64)
        self.face_side = np.array([min(b[2], b[3]) for p in self.photos for b in p.boxes])
        ref = self.vectors(Rendering(CropSpec(margin=0.3, relative=True)))
        self.truth = truth_faces(self.photos, ref)

    def vectors(self, rendering: Rendering, only: np.ndarray | None = None) -> np.ndarray:
        return self.embedded(rendering, only).vectors

    def embedded(self, rendering: Rendering, only: np.ndarray | None = None) -> Embedded:
        return embed_faces(self.engine, self.photos, rendering, self.cache, self.progress, only)

    def variant_vectors(self, v: Variant) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(query vectors, gallery vectors) for every face, ms per face, FaceNet passes/face."""
        plain = self.embedded(Rendering(v.crop))
        if not v.flip:
            return plain.vectors, plain.vectors, plain.crop_ms + plain.embed_ms, 1.0
        mirror = self.embedded(Rendering(v.crop, mirrored=True))
        both = normalized_mean(plain.vectors, mirror.vectors)
        q = both if v.flip in ("query", "both") else plain.vectors
        g = both if v.flip in ("gallery", "both") else plain.vectors
        cost = 2 * (plain.crop_ms + plain.embed_ms)
        passes = {"gallery": 2.0, "query": 1.0, "both": 2.0}[v.flip]
        return q, g, cost, passes

    def per_photo(self, vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.full((len(self.photos), vectors.shape[1]), np.nan, np.float32)
        ok = rows >= 0
        out[ok] = vectors[rows[ok]]
        return out

    def row(self, v: Variant) -> Row:
        q, g, _, passes = self.variant_vectors(v)
        rows = chosen_faces(self.photos, v.face)
        ms = self.crop_ms(v.crop) + passes * self.facenet_ms()
        return self.score(v.name, self.per_photo(q, rows), self.per_photo(g, rows), ms, passes,
                          rows, q, g)

    # -- cost, measured in this run (cached embeddings carry timings from other runs) ---------
    def _cost_sample(self, n: int = 120):
        if not hasattr(self, "_sample"):
            picks = [(i, int(self.truth[i])) for i in np.linspace(
                0, len(self.photos) - 1, min(n, len(self.photos))).astype(int)
                if self.truth[i] >= 0]
            self._sample = [(load_photo(self.photos[i].path).image,
                             self.photos[i].boxes[r - self.offsets[i]],
                             self.photos[i].landmarks[r - self.offsets[i]]) for i, r in picks]
        return self._sample

    def crop_ms(self, spec: CropSpec, rounds: int = 3) -> float:
        """Milliseconds per face to crop, resample and whiten (the best of ``rounds``)."""
        cache = self.__dict__.setdefault("_crop_ms", {})
        if spec not in cache:
            sample = self._cost_sample()
            best = float("inf")
            for _ in range(rounds):
                t0 = time.perf_counter()
                for image, box, marks in sample:
                    prewhiten(np.asarray(face_crop(image, box, spec=spec, landmarks=marks)))
                best = min(best, (time.perf_counter() - t0) / len(sample))
            cache[spec] = 1000 * best
        return cache[spec]

    def facenet_ms(self) -> float:
        """Milliseconds per face of one FaceNet pass in batches of 32 (the best of 3)."""
        if not hasattr(self, "_facenet_ms"):
            self.engine.load()
            sample = self._cost_sample()[:64]
            batch = np.stack([prewhiten(np.asarray(face_crop(i, b))) for i, b, _ in sample])
            self.engine.embed(batch[:32])  # warm-up
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                self.engine.embed(batch)
                best = min(best, (time.perf_counter() - t0) / len(batch))
            self._facenet_ms = 1000 * best
        return self._facenet_ms

    def score(self, name: str, query: np.ndarray, gallery: np.ndarray, ms: float,
              passes: float, rows: np.ndarray | None = None, q_all=None, g_all=None) -> Row:
        """Metrics of per-photo query and gallery vectors (the same array when no flip)."""
        if query is gallery or np.array_equal(query, gallery, equal_nan=True):
            ret = retrieval(query, self.labels)
            mixed = query
        else:
            ret = cross_retrieval(query, gallery, self.labels)
            # Pairs of a query and a gallery face: verification as the search sees it.
            mixed = None
        if mixed is not None:
            ver = verification(mixed, self.labels)
            tr = transfer(mixed, self.labels, self.names, self.holdout)
        else:
            ver = cross_verification(query, gallery, self.labels)
            tr = {}
        lfw = (lfw_pairs_check(q_all if q_all is not None else query, self.photos,
                               rows if rows is not None else np.arange(len(self.photos)),
                               self.pairs_file, ver["threshold"])
               if self.pairs_file and rows is not None else {})
        return Row(name, ret["p_at_1"], ret["map"], ver["accuracy"], ver["threshold"],
                   tr.get("halves_accuracy", float("nan")), tr.get("holdout_accuracy"),
                   tr.get("holdout_best_accuracy"), lfw.get("same_accepted"), ms, passes,
                   {"retrieval": ret, "verification": ver, "transfer": tr, "lfw_pairs": lfw})


def cross_retrieval(query: np.ndarray, gallery: np.ndarray, labels: list[str]) -> dict:
    """:func:`retrieval` where queries are embedded one way and the gallery another (flip at
    query time only, a query face made small, ...); row i of both is photo i."""
    labels_arr = np.asarray(labels)
    counts = {lbl: int((labels_arr == lbl).sum()) for lbl in set(labels)}
    gfound = np.where(~np.isnan(gallery).any(axis=1))[0]
    qfound = ~np.isnan(query).any(axis=1)
    d = _dist(np.nan_to_num(query), gallery[gfound])
    hits, aps = [], []
    for qi, lbl in enumerate(labels):
        if counts[lbl] < 2:
            continue
        if not qfound[qi]:
            hits.append(0.0)
            aps.append(0.0)
            continue
        keep = gfound != qi
        order = gfound[keep][np.argsort(d[qi][keep], kind="stable")]
        rel = labels_arr[order] == lbl
        hits.append(float(rel[0]) if len(rel) else 0.0)
        prec = np.cumsum(rel) / np.arange(1, len(rel) + 1)
        aps.append(float((prec * rel).sum() / (counts[lbl] - 1)))
    return {"queries": len(hits), "p_at_1": float(np.mean(hits)), "map": float(np.mean(aps))}


def cross_pairs(query: np.ndarray, gallery: np.ndarray, labels: list[str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Distances of (query photo i, gallery photo j != i) pairs: same-person, different-person."""
    labels_arr = np.asarray(labels)
    qf = np.where(~np.isnan(query).any(axis=1))[0]
    gf = np.where(~np.isnan(gallery).any(axis=1))[0]
    d = _dist(query[qf], gallery[gf])
    same = labels_arr[qf][:, None] == labels_arr[gf][None, :]
    other = qf[:, None] != gf[None, :]
    return d[same & other], d[~same & other]


def cross_verification(query: np.ndarray, gallery: np.ndarray, labels: list[str],
                       folds: int = 10, seed: int = 0) -> dict:
    same, diff = cross_pairs(query, gallery, labels)
    rng = np.random.default_rng(seed)
    fs, fd = rng.integers(0, folds, len(same)), rng.integers(0, folds, len(diff))
    accs = [balanced_accuracy(same[fs == k], diff[fd == k],
                              balanced_threshold(same[fs != k], diff[fd != k]))
            for k in range(folds) if (fs == k).any() and (fd == k).any()]
    return {"accuracy": float(np.mean(accs)) if accs else float("nan"),
            "threshold": balanced_threshold(same, diff),
            "same_pairs": len(same), "different_pairs": len(diff)}


# -- face size: small faces, large faces ---------------------------------------------------------
def _row_dict(name: str, ret: dict, ver: dict, **extra) -> dict:
    return {"name": name, "p_at_1": ret["p_at_1"], "map": ret["map"],
            "verification": ver["accuracy"], "threshold": ver["threshold"], **extra}


def size_study(h: "Harness", crop: CropSpec, sides: Iterable[int], threshold: float,
               resample: Iterable[str] = ("bilinear",)) -> list[dict]:
    """Queries made small: each photo shrunk (area filter) until its labelled face's box has
    the given shorter side, searched against the photos at their own size. P@1, mAP, the
    verification accuracy with a threshold tuned for that size, and the share of same-person
    pairs under ``threshold`` (what a fixed threshold keeps) with the share of strangers."""
    truth_mask = np.zeros(len(h.face_labels), bool)
    truth_mask[h.truth[h.truth >= 0]] = True
    gallery = h.per_photo(h.vectors(Rendering(crop)), h.truth)
    out = []
    for side in sides:
        for name in resample:
            spec = CropSpec(**{**asdict(crop), "resample": name})
            q_all = h.vectors(Rendering(spec, face_side=side, scale_filter="area"), truth_mask)
            query = h.per_photo(q_all, h.truth)
            shrunk = int((h.face_side[h.truth[h.truth >= 0]] > side).sum())
            same, diff = cross_pairs(query, gallery, h.labels)
            out.append(_row_dict(
                f"{side} px" + ("" if len(tuple(resample)) == 1 else f", {name}"),
                cross_retrieval(query, gallery, h.labels), cross_verification(query, gallery,
                                                                              h.labels),
                side=side, resample=name, shrunk=shrunk,
                same_under=float((same < threshold).mean()),
                different_under=float((diff < threshold).mean())))
    return out


def large_study(h: "Harness", crop: CropSpec, factor: float = 4.0,
                resample: Iterable[str] = ("bilinear", "area", "bicubic")) -> list[dict]:
    """Queries made large: each photo enlarged ``factor`` times (bicubic), so its faces span
    several hundred pixels and the crop shrinks them to 160, with each resampling filter;
    searched against the photos at their own size."""
    truth_mask = np.zeros(len(h.face_labels), bool)
    truth_mask[h.truth[h.truth >= 0]] = True
    gallery = h.per_photo(h.vectors(Rendering(crop)), h.truth)
    out = []
    for name in resample:
        spec = CropSpec(**{**asdict(crop), "resample": name})
        q_all = h.vectors(Rendering(spec, photo_scale=factor), truth_mask)
        query = h.per_photo(q_all, h.truth)
        out.append(_row_dict(f"faces x{factor:g}, {name}",
                             cross_retrieval(query, gallery, h.labels),
                             cross_verification(query, gallery, h.labels), resample=name))
    return out


# -- the same-person verdict in result lists -----------------------------------------------------
def face_identities(h: "Harness") -> np.ndarray:
    """Each face's person: the photo's label for its labelled face, a unique stranger tag for
    the other faces (people in the background)."""
    ident = np.array([f"~{i}" for i in range(len(h.face_labels))], object)
    for i, row in enumerate(h.truth):
        if row >= 0:
            ident[row] = h.labels[i]
    return ident


def calibration_figures(h: "Harness", vectors: np.ndarray, pipeline: str,
                        small_face: int, people: set[str] | None = None):
    """The :class:`~facefinder.core.verify.Calibration` of ``vectors`` (every face embedded
    with ``pipeline``), measured on the labelled faces of ``people`` (None: everyone)."""
    keep = np.array([people is None or lbl in people for lbl in h.labels])
    rows = h.truth[(h.truth >= 0) & keep]
    labels = [h.labels[i] for i in np.where((h.truth >= 0) & keep)[0]]
    v = vectors[rows]
    d = _dist(v, v)
    iu = np.triu_indices(len(rows), k=1)
    lab = np.asarray(labels)
    same_mask = lab[iu[0]] == lab[iu[1]]
    same, diff = d[iu][same_mask], d[iu][~same_mask]
    cut = 0.9
    over = diff[diff >= cut]
    draft = Calibration(pipeline, balanced_threshold(same, diff),
                        tuple(round(float(x), 3) for x in np.percentile(same, PERCENTILES)),
                        tuple(round(float(x), 3) for x in np.percentile(diff, PERCENTILES)),
                        tail_points(diff), cut, round(float(over.mean()), 4),
                        round(float(over.std()), 4), (0.0, 1.0), small_face)
    # The normalised scores of strangers, each query against the whole library.
    ident = face_identities(h)
    scores = []
    for i, qi in enumerate(h.truth):
        if qi < 0 or not keep[i]:
            continue
        others = np.where(h.face_photo != i)[0]
        dq = _dist(vectors[qi][None], vectors[others])[0]
        mu, sd = query_norm(_cohort(dq), draft)
        scores.append(((dq - mu) / sd)[ident[others] != h.labels[i]])
    z = np.concatenate(scores)
    from dataclasses import replace

    return replace(draft, z_tail=fit_tail(z))


def _cohort(distances: np.ndarray, seed: int = 0) -> np.ndarray:
    """What production samples: all distances, or :data:`~facefinder.core.verify.COHORT` of
    them at random."""
    if len(distances) <= COHORT:
        return distances
    rng = np.random.default_rng(seed)
    return distances[rng.choice(len(distances), COHORT, replace=False)]


@dataclass
class ListScore:
    """Badges over top-``k`` lists: precision of "same person", the share of the true matches
    in the lists it badges (recall) and of all true matches in the library, the precision of
    "possibly", and how many badges of each."""

    same_precision: float
    same_recall: float
    same_recall_all: float
    possible_precision: float
    same_badges: int
    possible_badges: int
    queries: int
    library_faces: float

    def short(self) -> str:
        return (f"P {self.same_precision:.3f} R {self.same_recall:.3f} "
                f"(all {self.same_recall_all:.3f}), possibly P {self.possible_precision:.3f}")


def list_study(h: "Harness", vectors: np.ndarray, cal, k: int = 20, face_rule: str = "prominent",
               stranger_fraction: float = 1.0, synthetic: int = 0, sigma: float = 0.0,
               queries: set[str] | None = None, threshold: float | None = None,
               seed: int = 0) -> ListScore:
    """Each photo (of the people in ``queries``; None: all) searches a library of every face of
    every other photo with its ``face_rule`` face; the badges of the top ``k`` are scored.

    ``stranger_fraction`` < 1 keeps only that share of the faces that are not the person (a
    smaller library with the same true matches). ``synthetic`` > 0 adds that many strangers per
    real face: real faces of *other* people moved by noise of ``sigma`` per dimension
    (re-normalized), the way ``facefinder bench`` makes large libraries; the query's own person's
    copies are left out, so they stand for a library ``synthetic + 1`` times larger where almost
    every face is a stranger. ``threshold``: a fixed threshold instead of the rule."""
    ident = face_identities(h)
    rows = chosen_faces(h.photos, face_rule)
    rng = np.random.default_rng(seed)
    if synthetic:
        src = np.repeat(np.arange(len(vectors)), synthetic)
        noisy = vectors[src] + rng.standard_normal((len(src), vectors.shape[1])).astype(
            np.float32) * sigma
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    tp = fp = pos_tp = pos_fp = rel_in = rel_all = n_q = 0
    sizes = []
    for i, qi in enumerate(rows):
        if qi < 0 or (queries is not None and h.labels[i] not in queries):
            continue
        others = np.where(h.face_photo != i)[0]
        rel = ident[others] == h.labels[i]
        if not rel.any():
            continue
        if stranger_fraction < 1.0:
            keep = rel | (rng.random(len(others)) < stranger_fraction)
            others, rel = others[keep], rel[keep]
        d = _dist(vectors[qi][None], vectors[others])[0]
        sides = h.face_side[others].astype(float)
        if synthetic:
            ok = np.where(ident[src] != h.labels[i])[0]
            ok = ok[h.face_photo[src[ok]] != i]
            ds = _dist(vectors[qi][None], noisy[ok])[0]
            d = np.concatenate([d, ds])
            rel = np.concatenate([rel, np.zeros(len(ds), bool)])
            sides = np.concatenate([sides, h.face_side[src[ok]].astype(float)])
        judge = Judge(cal, len(d), query_norm(_cohort(d, seed + i), cal),
                      bool(h.face_side[qi] < cal.small_face), threshold)
        top = np.argpartition(d, min(k, len(d) - 1))[:k]
        top = top[np.argsort(d[top], kind="stable")]
        for j in top:
            v = judge.verdict(float(d[j]), sides[j])
            if v.tier == "same":
                tp += rel[j]
                fp += not rel[j]
            elif v.tier == "possible":
                pos_tp += rel[j]
                pos_fp += not rel[j]
        rel_in += int(rel[top].sum())
        rel_all += int(rel.sum())
        n_q += 1
        sizes.append(len(d))
    return ListScore(tp / max(tp + fp, 1), tp / max(rel_in, 1), tp / max(rel_all, 1),
                     pos_tp / max(pos_tp + pos_fp, 1), int(tp + fp), int(pos_tp + pos_fp), n_q,
                     float(np.mean(sizes)) if sizes else 0.0)


def verdict_split(h: "Harness", vectors: np.ndarray, pipeline: str, small_face: int,
                  splits: int = 6, seed: int = 0) -> dict:
    """The rule with figures measured on half of the people, scored on the other half's
    queries (libraries still hold everyone): precision and recall, mean and spread."""
    people = sorted(set(h.labels))
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(splits):
        half = set(rng.permutation(people)[: len(people) // 2].tolist())
        cal = calibration_figures(h, vectors, pipeline, small_face, half)
        scores.append(list_study(h, vectors, cal, queries=set(people) - half))
    p = np.array([s.same_precision for s in scores])
    r = np.array([s.same_recall for s in scores])
    return {"precision": float(p.mean()), "precision_sd": float(p.std()),
            "recall": float(r.mean()), "recall_sd": float(r.std()), "splits": splits}


# -- everything, for `facefinder evaluate` -------------------------------------------------------
SMALL_SIDES = (16, 20, 24, 32, 40, 48, 64)
FIXED_THRESHOLDS = (0.9, 0.93, 0.95, 1.0)


def run_evaluation(engine, root: str | os.PathLike, cache: str | os.PathLike | None = None,
                   pairs_file: str | os.PathLike | None = None, holdout: str | None = None,
                   quick: bool = False, progress: Progress | None = None,
                   report: Callable[[str, object], None] | None = None) -> dict:
    """The whole study (see the module docstring); ``quick``: a few rows only (a smoke run).
    ``report(section, rows)`` is called as each section is done."""
    t0 = time.perf_counter()
    h = Harness(engine, root, cache, pairs_file, holdout, progress)
    out: dict = {"photos": len(h.photos), "faces": int(len(h.face_labels)),
                 "people": len(set(h.labels)),
                 "photos_without_face": int(sum(p.n == 0 for p in h.photos))}
    say = report or (lambda section, rows: None)
    default = PIPELINES[DEFAULT_PIPELINE]
    best = Variant(f"{int(round(default.crop.margin * 100))}% of the box", default.crop)
    crops = crop_variants()
    if quick:
        crops = [crops[0], crops[3]]
    out["crops"] = [asdict(h.row(v)) for v in crops]
    say("crops", out["crops"])
    extras = on_top(best)
    if quick:
        extras = [extras[1], extras[6]]
    out["on_top"] = [asdict(h.row(v)) for v in extras]
    multi = [i for i, p in enumerate(h.photos) if p.n > 1]
    out["face_choice"] = {rule: int(sum(chosen_faces(h.photos, rule)[i] == h.truth[i]
                                        for i in multi)) for rule in ("largest", "prominent")}
    out["face_choice"]["photos_with_several_faces"] = len(multi)
    say("on_top", out["on_top"])
    cal_default = CALIBRATIONS[DEFAULT_PIPELINE]
    sides = (24, 40) if quick else SMALL_SIDES
    out["small_faces"] = size_study(h, default.crop, sides, cal_default.threshold)
    say("small_faces", out["small_faces"])
    if not quick:
        out["large_faces"] = large_study(h, default.crop)
        say("large_faces", out["large_faces"])

    # Calibration figures of both pipelines, measured here (verify.CALIBRATIONS ships them).
    vectors = {name: h.vectors(Rendering(PIPELINES[name].crop))
               for name in (ARTICLE, DEFAULT_PIPELINE)}
    figures = {name: calibration_figures(h, v, name, CALIBRATIONS[name].small_face)
               for name, v in vectors.items()}
    out["calibration"] = {name: asdict(c) for name, c in figures.items()}
    say("calibration", out["calibration"])

    # The verdict in result lists, with the shipped figures (what users get).
    lists: list[dict] = []
    v = vectors[DEFAULT_PIPELINE]
    shipped = CALIBRATIONS[DEFAULT_PIPELINE]

    def add(name: str, score: ListScore, **extra) -> None:
        lists.append({"name": name, **asdict(score), **extra})

    add("calibrated rule", list_study(h, v, shipped))
    if not quick:
        add("calibrated rule, largest face as query",
            list_study(h, v, shipped, face_rule="largest"))
        for t in FIXED_THRESHOLDS + (shipped.threshold,):
            add(f"fixed threshold {t}", list_study(h, v, shipped, threshold=t))
        for frac in (0.125, 0.25, 0.5):
            add(f"calibrated rule, {frac:g} of the strangers",
                list_study(h, v, shipped, stranger_fraction=frac))
            add(f"fixed threshold 0.93, {frac:g} of the strangers",
                list_study(h, v, shipped, stranger_fraction=frac, threshold=0.93))
        add("calibrated rule, 100x library (synthetic strangers)",
            list_study(h, v, shipped, synthetic=99, sigma=0.02))
        add("fixed threshold 0.93, 100x library (synthetic strangers)",
            list_study(h, v, shipped, synthetic=99, sigma=0.02, threshold=0.93))
        article = CALIBRATIONS[ARTICLE]
        add("article crop, calibrated rule", list_study(h, vectors[ARTICLE], article))
        add(f"article crop, fixed threshold {article.threshold}",
            list_study(h, vectors[ARTICLE], article, threshold=article.threshold))
        out["verdict_split"] = verdict_split(h, v, DEFAULT_PIPELINE, shipped.small_face)
    out["lists"] = lists
    say("lists", lists)
    if not quick:
        say("verdict_split", out["verdict_split"])
    # The shipped pair threshold on pairs it was not tuned on.
    out["shipped_threshold"] = _shipped_threshold_check(h, v, shipped.threshold, holdout)
    say("shipped_threshold", out["shipped_threshold"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _shipped_threshold_check(h: "Harness", v: np.ndarray, threshold: float,
                             holdout: str | None) -> dict:
    """Balanced accuracy of the shipped pair threshold: on all labelled faces, on the
    ``holdout`` people (web photos) and on LFW's official pairs present in the folder."""
    rows = chosen_faces(h.photos, "prominent")
    per = h.per_photo(v, rows)
    same, diff = pair_sets(per, h.labels)
    out = {"threshold": threshold, "all_pairs": balanced_accuracy(same, diff, threshold)}
    if holdout:
        test = [i for i, n in enumerate(h.names) if n.startswith(holdout)]
        people = {h.labels[i] for i in test}
        idx = np.array([i for i, lbl in enumerate(h.labels) if lbl in people])
        if len(idx):
            s, d = pair_sets(per, h.labels, idx)
            out["holdout"] = {"prefix": holdout, "people": len(people),
                              "accuracy": balanced_accuracy(s, d, threshold),
                              "same_accepted": float((s < threshold).mean()),
                              "different_rejected": float((d >= threshold).mean())}
    if h.pairs_file:
        out["lfw_pairs"] = lfw_pairs_check(v, h.photos, rows, h.pairs_file, threshold)
    return out
