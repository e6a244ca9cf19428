"""Face detection with MTCNN (the ``mtcnn`` package's networks and weights), run on LiteRT
(:mod:`facefinder.core.mtcnn_lite`) or on full TensorFlow through the package itself.

Large photos are searched on a downscaled copy (longest side ``detect_size`` px) and the boxes
mapped back to full-resolution pixels, so crops keep every pixel the photo has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .images import Photo
from .mtcnn_lite import MTCNNLite
from .tflite import resolve_backend

DETECTOR_VERSION = 3
"""Bump when detection changes what it finds (pyramid, thresholds, resizing), so that photos
judged to hold no face by the earlier detector are looked at again (2: the 1000 px first level
and PNet in tiles; 3: the 900 px first level)."""
DEFAULT_DETECT_SIZE = 900
"""Longest side, px, of the largest image PNet searches (the first level of its pyramid). With
PNet's 12 px window this sets the smallest face found in a large photo: 53 px in a 4000x3000
photo, where faces of 55 px and up must be found (tests/test_small_faces.py; at 840 and 860 px
one 55 px face of its group photos was missed, at 880-920 none). The work grows with its square:
1000 px took 1-9% more CPU over the whole indexing, 1280 px 1.6x. Photos whose first level fits
anyway (up to 1500 px long, at the default 20 px smallest face) are searched whole, exactly as
the ``mtcnn`` package does."""
DEFAULT_MIN_FACE = 20
DEFAULT_THRESHOLDS = (0.6, 0.7, 0.7)  # PNet, RNet, ONet: the article's values
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass
class DetectedFace:
    """One face: ``box`` (x, y, w, h) and ``landmarks`` (5, 2) in photo pixels (floats);
    ``confidence`` in [0, 1] from ONet."""

    box: tuple[float, float, float, float]
    confidence: float
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((5, 2), np.float32))

    @property
    def area(self) -> float:
        return max(self.box[2], 0) * max(self.box[3], 0)

    def int_box(self) -> tuple[int, int, int, int]:
        x, y, w, h = self.box
        return int(round(x)), int(round(y)), int(round(w)), int(round(h))


@dataclass(frozen=True)
class DetectOptions:
    min_face: int = DEFAULT_MIN_FACE
    """Smallest face side to look for, in photo pixels (bounded below by what the copy allows)."""
    detect_size: int = DEFAULT_DETECT_SIZE
    """Longest side of the copy the detector sees; 0 means full resolution."""
    thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS


class Detector:
    """MTCNN; create it on the thread that will use it (it owns interpreter or TensorFlow state).

    ``backend``: ``"lite"`` runs :class:`~facefinder.core.mtcnn_lite.MTCNNLite` (LiteRT + numpy,
    no TensorFlow import once its ``.tflite`` files are cached), ``"tf"`` the ``mtcnn`` package
    on full TensorFlow, ``"auto"``/``None`` as :func:`~facefinder.core.tflite.resolve_backend`
    decides. Both give the same faces (see tests/test_backends.py).
    """

    def __init__(self, backend: str | None = None, num_threads: int | None = None) -> None:
        """``num_threads``: LiteRT threads (default: one per core); not used by "tf"."""
        self.backend = resolve_backend(backend)
        if self.backend == "lite":
            self._lite = MTCNNLite(num_threads=num_threads)
            self._mtcnn = None
        else:
            from mtcnn import MTCNN  # imports TensorFlow (its log level: .tflite, above)

            self._lite = None
            self._mtcnn = MTCNN(device="CPU:0")

    def detect(self, photo: Photo, options: DetectOptions = DetectOptions()) -> list[DetectedFace]:
        """Every face in ``photo``, largest first."""
        pixels, scale = photo.detection_copy(copy_side(options, photo.width, photo.height))
        return self.detect_array(pixels, options, scale)

    def detect_array(self, pixels: np.ndarray, options: DetectOptions = DetectOptions(),
                     scale: float = 1.0) -> list[DetectedFace]:
        """Faces in an ``(H, W, 3)`` uint8 array that is the photo shrunk by ``scale``; boxes are
        returned in photo pixels (divided by ``scale``)."""
        h, w = pixels.shape[:2]
        if min(h, w) < 12:  # smaller than PNet's window: nothing can be found
            return []
        min_face = max(12.0, options.min_face * scale)
        p, r, o = options.thresholds
        if self._lite is not None:
            # A copy of a large photo (scale < 1) is ours, not the package's: its pyramid is
            # made the faster way; a photo searched whole gets the package's exact one.
            resample = "box" if scale < 1 else "area"
            raw = _as_package_json(self._lite.detect(pixels, min_face, (p, r, o), resample))
        else:
            raw = self._mtcnn.detect_faces(
                np.ascontiguousarray(pixels), min_face_size=min_face,
                threshold_pnet=p, threshold_rnet=r, threshold_onet=o,
            )
        faces = []
        for item in raw or []:
            x, y, bw, bh = (float(v) / scale for v in item["box"])
            if bw < 1 or bh < 1:
                continue
            kp = item.get("keypoints", {})
            landmarks = np.array(
                [kp.get(name, (np.nan, np.nan)) for name in LANDMARK_NAMES], np.float32
            ) / scale
            faces.append(DetectedFace((x, y, bw, bh), float(item["confidence"]), landmarks))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces


def copy_side(options: DetectOptions, width: int, height: int) -> int:
    """Longest side, px, of the copy of a ``width`` x ``height`` photo that MTCNN searches, or 0
    for the photo itself: a copy only when PNet's first pyramid level (the photo scaled by
    ``12 / min_face``) would be larger than ``options.detect_size``; the copy is then that first
    level (PNet's 12 px window is ``min_face`` or more photo pixels)."""
    first_level = max(width, height) * 12 / max(12, options.min_face)
    return options.detect_size if 0 < options.detect_size < first_level else 0


def _as_package_json(rows: np.ndarray) -> list[dict]:
    """MTCNNLite's ``(n, 16)`` rows in the ``mtcnn`` package's output format, rounded the same
    way: ``box`` ``[x, y, w, h]`` and keypoints as ints (``np.round``), confidence as is."""
    out = []
    for row in rows:
        x1, y1, x2, y2 = row[1:5]
        marks = row[6:16].round().astype(int)
        out.append({
            "box": np.asarray([x1, y1, x2 - x1, y2 - y1]).round().astype(int).tolist(),
            "confidence": float(row[5]),
            "keypoints": {name: [int(marks[i]), int(marks[i + 5])]
                          for i, name in enumerate(LANDMARK_NAMES)},
        })
    return out
