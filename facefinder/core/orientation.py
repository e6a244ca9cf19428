"""EXIF orientation for face boxes: between the photo as shown and the image as stored.

facefinder's face boxes are in the pixels of the photo as shown (EXIF orientation applied, as
:func:`facefinder.core.images.load_photo` decodes it). Face regions in XMP are relative to the
image as *stored*, the raw pixel grid before the orientation is applied (MWG Guidelines 2.0,
5.9: "Region metadata is applied to the stored image"). These functions map rectangles between
the two frames for the eight EXIF orientations.

Rectangles here are ``(left, top, width, height)`` normalized to 0..1 of their frame's width
and height. An orientation is the EXIF tag's value 1-8; it says how the stored image is turned
to be shown (6: turned 90 degrees clockwise; 8: 90 counter-clockwise; 2, 4: mirrored; 5, 7:
transposed); anything else is treated as 1.
"""

from __future__ import annotations

from typing import Callable

Rect = tuple[float, float, float, float]
Point = Callable[[float, float], tuple[float, float]]

# (u, v) in the shown frame -> (s, t) in the stored frame, both normalized. Worked out from the
# EXIF definitions ("the 0th row is the visual right-hand side..."): for 6 the stored image's
# first row becomes the shown right edge and its first column the shown top, so a shown point
# (u, v) comes from the stored point (v, 1 - u).
_SHOWN_TO_STORED: dict[int, Point] = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),
    3: lambda u, v: (1 - u, 1 - v),
    4: lambda u, v: (u, 1 - v),
    5: lambda u, v: (v, u),
    6: lambda u, v: (v, 1 - u),
    7: lambda u, v: (1 - v, 1 - u),
    8: lambda u, v: (1 - v, u),
}
# The inverse maps: 6 and 8 undo each other; the others undo themselves.
_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def valid(orientation) -> int:
    """The orientation as an int 1-8 (anything else, as Pillow does: 1)."""
    try:
        o = int(orientation)
    except (TypeError, ValueError):
        return 1
    return o if 1 <= o <= 8 else 1


def swaps_sides(orientation: int) -> bool:
    """True for 5-8: the stored image's width is the shown photo's height."""
    return valid(orientation) >= 5


def stored_size(shown_w: int, shown_h: int, orientation: int) -> tuple[int, int]:
    """The stored image's (width, height) in pixels for a photo shown at ``shown_w x shown_h``."""
    return (shown_h, shown_w) if swaps_sides(orientation) else (shown_w, shown_h)


def _map(rect: Rect, point: Point) -> Rect:
    x, y, w, h = rect
    a = point(x, y)
    b = point(x + w, y + h)
    left, right = min(a[0], b[0]), max(a[0], b[0])
    top, bottom = min(a[1], b[1]), max(a[1], b[1])
    return left, top, right - left, bottom - top


def shown_to_stored(rect: Rect, orientation: int) -> Rect:
    """A normalized rectangle of the shown photo -> the same area of the stored image."""
    return _map(rect, _SHOWN_TO_STORED[valid(orientation)])


def stored_to_shown(rect: Rect, orientation: int) -> Rect:
    """A normalized rectangle of the stored image -> the same area of the shown photo."""
    return _map(rect, _SHOWN_TO_STORED[_INVERSE[valid(orientation)]])


def normalize(box: tuple[float, float, float, float], width: int, height: int) -> Rect:
    """A pixel box ``(x, y, w, h)`` -> normalized, clipped to the image (detector boxes can
    reach past the edge)."""
    x, y, w, h = (float(v) for v in box)
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(float(width), x + w), min(float(height), y + h)
    return (left / width, top / height, max(0.0, right - left) / width,
            max(0.0, bottom - top) / height)


def to_pixels(rect: Rect, width: int, height: int) -> tuple[float, float, float, float]:
    """A normalized rectangle -> ``(x, y, w, h)`` in pixels of an image ``width x height``."""
    x, y, w, h = rect
    return x * width, y * height, w * width, h * height


def iou(a: Rect, b: Rect) -> float:
    """Intersection over union of two ``(left, top, width, height)`` rectangles (any units, the
    same for both). Invariant under scaling each axis and under the eight orientations, so it
    can be taken on normalized rectangles of either frame."""
    ax2, ay2 = a[0] + a[2], a[1] + a[3]
    bx2, by2 = b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(a[0], b[0])
    ih = min(ay2, by2) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
