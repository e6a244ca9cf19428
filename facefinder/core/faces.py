"""What analysing a photo gives (:class:`Face`, :class:`PhotoResult`), and its first step.

Below both the one-photo-at-a-time pipeline (:mod:`facefinder.core.pipeline`) and the photo
workers (:mod:`facefinder.core.workers`), which each make these.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .detect import DetectOptions, copy_side
from .images import Photo, load_photo


@dataclass
class Face:
    """A detected and embedded face. ``box`` is (x, y, w, h) in integer photo pixels;
    ``landmarks`` (5, 2) float32; ``embedding`` (128,) float32, unit norm."""

    box: tuple[int, int, int, int]
    confidence: float
    landmarks: np.ndarray
    embedding: np.ndarray

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


@dataclass
class PhotoResult:
    """What one photo gave: its faces (largest first), or ``error`` when it was skipped."""

    path: str
    faces: list[Face] = field(default_factory=list)
    error: str | None = None
    width: int = 0
    height: int = 0


def decode_for_detection(path: str, options: DetectOptions) -> tuple[Photo, np.ndarray, float]:
    # Decoded whole, once, and the detection copy made from that. A DCT-scaled decode (1/2) is
    # only a fifth cheaper for a 12 Mpx JPEG (reading the entropy-coded data costs the same at
    # any scale), and any face under about 280 px then needs a full decode as well for its crop
    # (most photos of people have one): measured on camera-size photos with 1-4 faces, decoding
    # whole at once took 85 ms a photo where reduced-then-full took 140.
    photo = load_photo(path)
    pixels, scale = photo.detection_copy(copy_side(options, photo.width, photo.height))
    return photo, pixels, scale
