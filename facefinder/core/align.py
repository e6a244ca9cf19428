"""Face crops as FaceNet expects them: the one place where a detector box becomes FaceNet input.

A :class:`CropSpec` says how: the margin around the box (a fixed number of pixels, as the article
did, or a fraction of the box), the crop's shape (the box's aspect, stretched to a square, or a
square around the box's centre), whether the face is turned so its eyes are level, and the
resampling filter. A :class:`Pipeline` is a named crop plus whether embeddings average the crop
with its mirror image; libraries record the pipeline's name (see :mod:`facefinder.core.upgrade`).

- ``"article"``: box +/- 22 px (margin 44), clipped to the photo -> 160x160 bilinear ->
  prewhiten. The article's exact preprocessing (and every library built before pipelines were
  recorded): ``facefinder extract --crop article`` reproduces its pickles and distances.
- ``"rel25"`` (the default, :data:`DEFAULT_PIPELINE`): a margin of 25% of the box's longer side
  (12.5% each side), clipped to the photo, 160x160 bilinear, prewhiten. ``facefinder evaluate``
  measured it against the alternatives (README, "Quality"): margins of 10-25% of the box all
  did about as well, and better than fixed margins and wider ones; square crops, edge padding,
  flip averaging, eye-level rotation and other filters did not help enough to pay their cost.

Boxes are ``(x, y, w, h)`` and landmarks ``(5, 2)`` (left eye, right eye, nose, mouth corners), in
pixels of the photo the crop is taken from.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np
from PIL import Image

MARGIN = 44
"""The article's margin in pixels (both sides together)."""
SIZE = 160
"""FaceNet's input side in pixels."""

_FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "area": Image.BOX,
            "lanczos": Image.LANCZOS}


@dataclass(frozen=True)
class CropSpec:
    """How a face box is cut out and scaled to ``SIZE`` x ``SIZE``.

    ``margin``: pixels (both sides together) when ``relative`` is false; else a fraction of the
    box's longer side (0.3: 15% on each side). ``square``: a square around the box's centre whose
    side is the longer side plus the margin (else the box plus the margin, stretched to a
    square). ``pad``: a crop that runs past the photo's edge is filled with the edge's pixels
    instead of being clipped (clipping changes the face's shape). ``rotate``: the photo is turned
    about the box's centre so that the eyes are level (needs landmarks; crops without landmarks
    are not turned). ``resample``: ``"bilinear"``, ``"bicubic"``, ``"area"`` (box filter when
    shrinking, bilinear when enlarging) or ``"lanczos"``.
    """

    margin: float = MARGIN
    relative: bool = False
    square: bool = False
    pad: bool = False
    rotate: bool = False
    resample: str = "bilinear"

    def extent(self, box) -> tuple[float, float, float, float]:
        """The crop ``(left, top, right, bottom)`` in photo pixels, before clipping."""
        x, y, w, h = (float(v) for v in box)
        m = self.margin * max(w, h) if self.relative else float(self.margin)
        if self.square:
            side = max(w, h) + m
            cx, cy = x + w / 2, y + h / 2
            return cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2
        return x - m / 2, y - m / 2, x + w + m / 2, y + h + m / 2

    def side(self, box) -> float:
        """The crop's shorter side in photo pixels (how many pixels FaceNet's 160 draw on)."""
        left, top, right, bottom = self.extent(box)
        return min(right - left, bottom - top)

    def scaled(self, factor: float) -> "CropSpec":
        """The same crop for a copy of the photo scaled by ``factor`` (a fixed margin scales)."""
        return self if self.relative else replace(self, margin=self.margin * factor)


ARTICLE_CROP = CropSpec()


@dataclass(frozen=True)
class Pipeline:
    """A named way from detector box to embedding. ``flip``: the embedding is the normalized mean
    of the crop's and its mirror image's embeddings (two FaceNet passes per face)."""

    name: str
    crop: CropSpec
    flip: bool = False


PIPELINES: dict[str, Pipeline] = {
    "article": Pipeline("article", ARTICLE_CROP),
    "rel25": Pipeline("rel25", CropSpec(margin=0.25, relative=True)),
}
"""The pipelines a library can be built with, by the name it records."""

ARTICLE = "article"
"""The pipeline of libraries that record none (built before pipelines were recorded)."""
DEFAULT_PIPELINE = "rel25"
"""What index, search, compare, people and the app use for new libraries."""


def pipeline(name: str | Pipeline | None) -> Pipeline:
    """The pipeline called ``name`` (None: the default; a :class:`Pipeline` is itself). Raises
    KeyError for unknown names."""
    if isinstance(name, Pipeline):
        return name
    return PIPELINES[name or DEFAULT_PIPELINE]


@contextlib.contextmanager
def using_pipeline(holder, name: str | Pipeline | None) -> Iterator:
    """Run the ``with`` block with ``holder.pipeline`` (an engine's) set to the pipeline
    ``name``, then put the previous one back; yields ``holder``."""
    previous = holder.pipeline
    holder.pipeline = pipeline(name)
    try:
        yield holder
    finally:
        holder.pipeline = previous


def crop_box(box: tuple[float, float, float, float], width: int, height: int,
             margin: int = MARGIN) -> tuple[int, int, int, int]:
    """The article's crop rectangle ``(left, top, right, bottom)``, clipped to the photo."""
    x, y, w, h = box
    left = int(max(np.floor(x - margin / 2), 0))
    top = int(max(np.floor(y - margin / 2), 0))
    right = int(min(np.floor(x + w + margin / 2), width))
    bottom = int(min(np.floor(y + h + margin / 2), height))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def crop_rect(spec: CropSpec, box, width: int, height: int) -> tuple[int, int, int, int]:
    """The crop ``(left, top, right, bottom)`` in whole photo pixels: clipped to the photo
    unless ``spec.pad`` (not turned: see :func:`face_crop` for ``spec.rotate``)."""
    left, top, right, bottom = (int(np.floor(v)) for v in spec.extent(box))
    if not spec.pad:
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, width), min(bottom, height)
    return left, top, max(right, left + 1), max(bottom, top + 1)


def _edge_padded_crop(image: Image.Image, rect: tuple[int, int, int, int]) -> Image.Image:
    """``image.crop(rect)`` where parts outside the photo repeat its edge pixels (Pillow would
    fill them with black, which shifts the prewhitening's mean and spread)."""
    left, top, right, bottom = rect
    if left >= 0 and top >= 0 and right <= image.width and bottom <= image.height:
        return image.crop(rect)
    inner = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
    if inner[2] <= inner[0] or inner[3] <= inner[1]:
        return image.crop(rect)
    arr = np.asarray(image.crop(inner))
    pads = ((inner[1] - top, bottom - inner[3]), (inner[0] - left, right - inner[2]), (0, 0))
    return Image.fromarray(np.pad(arr, pads, mode="edge"))


def eye_angle(landmarks) -> float | None:
    """Degrees the line from the left to the right eye dips below horizontal (image y points
    down), or None without usable landmarks."""
    if landmarks is None:
        return None
    lm = np.asarray(landmarks, np.float64).reshape(-1, 2)
    if len(lm) < 2 or not np.isfinite(lm[:2]).all():
        return None
    (lx, ly), (rx, ry) = lm[0], lm[1]
    if rx - lx <= 0:
        return None
    return math.degrees(math.atan2(ry - ly, rx - lx))


def _resize(region: Image.Image, spec: CropSpec, size: int) -> Image.Image:
    name = spec.resample
    if name == "area" and (region.width < size or region.height < size):
        name = "bilinear"  # a box filter only makes sense when shrinking
    return region.resize((size, size), _FILTERS[name])


def face_crop(image: Image.Image, box, margin: int = MARGIN, size: int = SIZE,
              spec: CropSpec | None = None, landmarks=None) -> Image.Image:
    """The ``size`` x ``size`` RGB crop of one face (what FaceNet sees, before whitening).

    Without ``spec``: the article's crop with ``margin`` pixels."""
    spec = spec or CropSpec(margin=margin)
    angle = eye_angle(landmarks) if spec.rotate else None
    if angle is not None and abs(angle) >= 1.0:
        return _rotated_crop(image, box, spec, angle, size)
    rect = crop_rect(spec, box, image.width, image.height)
    region = _edge_padded_crop(image, rect) if spec.pad else image.crop(rect)
    return _resize(region, spec, size)


def _rotated_crop(image: Image.Image, box, spec: CropSpec, angle: float, size: int
                  ) -> Image.Image:
    """Turn the neighbourhood of the box by ``angle`` about the box's centre, then crop. The
    neighbourhood is taken edge-padded, so a turned crop never shows black corners."""
    left, top, right, bottom = spec.extent(box)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half = math.hypot(right - left, bottom - top) / 2 + 2  # the crop's circumcircle
    outer = (int(np.floor(cx - half)), int(np.floor(cy - half)),
             int(np.ceil(cx + half)), int(np.ceil(cy + half)))
    region = _edge_padded_crop(image, outer)
    # Pillow turns counter-clockwise for positive angles; a positive eye angle means the face
    # leans clockwise on screen, so turning by +angle levels it.
    turned = region.rotate(angle, resample=Image.BICUBIC,
                           center=(cx - outer[0], cy - outer[1]))
    inner = (int(np.floor(left - outer[0])), int(np.floor(top - outer[1])),
             int(np.floor(right - outer[0])), int(np.floor(bottom - outer[1])))
    return _resize(turned.crop(inner), spec, size)


def prewhiten(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / max(std, 1/sqrt(x.size))`` per face; (160, 160, 3) uint8 -> float32."""
    x = np.asarray(x, dtype=np.float32)
    mean = x.mean()
    std = max(float(x.std()), 1.0 / np.sqrt(x.size))
    return (x - mean) / std


def face_tensor(image: Image.Image, box, margin: int = MARGIN, spec: CropSpec | None = None,
                landmarks=None) -> np.ndarray:
    """(160, 160, 3) float32, prewhitened: one row of a FaceNet batch (the article's crop when
    no ``spec`` is given)."""
    return prewhiten(np.asarray(face_crop(image, box, margin, spec=spec, landmarks=landmarks)))
