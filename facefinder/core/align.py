"""Face crops as FaceNet expects them (the article's preprocessing, kept for parity).

box +/- margin/2 px (margin 44), clipped to the photo -> 160x160 bilinear -> prewhiten.
Boxes are ``(x, y, w, h)`` in pixels of the photo the crop is taken from.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

MARGIN = 44
SIZE = 160


def crop_box(box: tuple[float, float, float, float], width: int, height: int,
             margin: int = MARGIN) -> tuple[int, int, int, int]:
    """The crop rectangle ``(left, top, right, bottom)`` for a face box, clipped to the photo."""
    x, y, w, h = box
    left = int(max(np.floor(x - margin / 2), 0))
    top = int(max(np.floor(y - margin / 2), 0))
    right = int(min(np.floor(x + w + margin / 2), width))
    bottom = int(min(np.floor(y + h + margin / 2), height))
    return left, top, max(right, left + 1), max(bottom, top + 1)


def face_crop(image: Image.Image, box, margin: int = MARGIN, size: int = SIZE) -> Image.Image:
    """The aligned ``size`` x ``size`` RGB crop of one face (what FaceNet sees, before whitening)."""
    return image.crop(crop_box(box, image.width, image.height, margin)).resize(
        (size, size), Image.BILINEAR
    )


def prewhiten(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / max(std, 1/sqrt(x.size))`` per face; (160, 160, 3) uint8 -> float32."""
    x = np.asarray(x, dtype=np.float32)
    mean = x.mean()
    std = max(float(x.std()), 1.0 / np.sqrt(x.size))
    return (x - mean) / std


def face_tensor(image: Image.Image, box, margin: int = MARGIN) -> np.ndarray:
    """(160, 160, 3) float32, prewhitened: one row of a FaceNet batch."""
    return prewhiten(np.asarray(face_crop(image, box, margin)))
