"""MTCNN on LiteRT: the ``mtcnn`` package's detector, re-implemented in numpy without TensorFlow.

The three networks (PNet, fully convolutional with a dynamic height and width; RNet on 24x24 and
ONet on 48x48 patches) are built from the package's own classes and weights and converted once
to ``.tflite`` files in the cache (:func:`ensure_lite_models`, which imports TensorFlow). The
pipeline around them follows ``mtcnn`` 1.0.0's ``MTCNN.detect_faces`` step by step, so that the
same photo gives the same faces:

* pixels normalised as ``(x - 127.5) / 128``;
* scale pyramid ``12/min_face_size * 0.709**k``, each level resized with TensorFlow's AREA method
  (reproduced exactly by :func:`resize_area`, sizes truncated like ``tf.image.resize``);
* PNet boxes regressed at once (stride 2, window from 2i+1 to 2i+12), NMS per scale (IoU 0.5) and across scales
  (0.7), squared; patches for RNet and ONet cut with ``tf.image.crop_and_resize`` semantics
  (:func:`crop_and_resize`: bilinear, boxes normalised by the image size, zero outside);
* the package's NMS, which drops a box that overlaps *any* higher-scoring box (not only kept
  ones); ONet's NMS uses the intersection over the smaller area.

Coordinates are photo pixels (floats) of the array given; boxes are ``x1, y1, x2, y2``.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from .model_files import check_lite
from .paths import cache_dir
from .tflite import LiteModel, convert_concrete_function, ensure_model

LITE_VERSION = 1
"""Bump when the conversion changes, so stale ``.tflite`` files in caches are not used."""
NETS = ("pnet", "rnet", "onet")
SCALE_FACTOR = 0.709
MIN_SIZE = 12  # PNet's window, px
_NMS_PAIRS = 1 << 17  # box pairs compared at once by nms (bounds its memory: ~1 MB an array)
_CROP_BLOCK = 256  # boxes cut at once by crop_and_resize (bounds its memory)
_PATCH_NETS = {"rnet": (24, 128), "onet": (48, 32)}  # patch side, patches per LiteRT run


# -- models -----------------------------------------------------------------------------------

def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mtcnn")
    except PackageNotFoundError:
        return "0"


def lite_paths() -> dict[str, Path]:
    """Cached ``.tflite`` path of each net, named by the mtcnn package version and ours."""
    v = _package_version()
    return {n: cache_dir() / f"mtcnn-{v}-{n}-lite-v{LITE_VERSION}.tflite" for n in NETS}


def _convert(net: str) -> bytes:
    """Build one of the package's Keras networks with its weights and convert it (imports TF)."""
    import tensorflow as tf  # the log level is set by .tflite, imported above
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    cls, size = {"pnet": (PNet, None), "rnet": (RNet, 24), "onet": (ONet, 48)}[net]
    model = cls()
    model.build()
    model.set_weights(load_weights(f"{net}.lz4"))
    # PNet takes one image of any size; RNet and ONet take batches of fixed-size patches.
    shape = [1, None, None, 3] if size is None else [None, size, size, 3]
    return convert_concrete_function(lambda x: model(x), [tf.TensorSpec(shape, tf.float32)])


def ensure_lite_models() -> dict[str, Path]:
    """The three ``.tflite`` files, converting the missing ones first (with TensorFlow, a few
    seconds, once). Does not import TensorFlow when they are all cached."""
    return {n: ensure_model(p, lambda n=n: _convert(n)) for n, p in lite_paths().items()}


# -- image operations (TensorFlow's semantics, in numpy) --------------------------------------

def _area_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(n_out, K)`` and weights ``(n_out, K)`` of TF's ResizeArea along one axis:
    output cell ``i`` covers input ``[i*s, (i+1)*s)`` with ``s = n_in / n_out``; each input cell
    contributes its covered length, and the sum is divided by ``s``."""
    s = np.float32(n_in) / np.float32(n_out)
    i = np.arange(n_out, dtype=np.float32)
    lo, hi = i * s, (i + 1) * s
    start = np.floor(lo).astype(np.int64)
    end = np.ceil(hi).astype(np.int64)
    k = int((end - start).max())
    idx = start[:, None] + np.arange(k)[None, :]
    cell_lo = np.maximum(idx.astype(np.float32), lo[:, None])
    cell_hi = np.minimum((idx + 1).astype(np.float32), hi[:, None])
    w = np.where(idx < end[:, None], cell_hi - cell_lo, 0).astype(np.float32) / s
    return np.minimum(idx, n_in - 1), w


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(H, W, C)`` float -> ``(height, width, C)`` float32, like ``tf.image.resize(..., AREA)``
    (area averaging, exact for downscaling).

    Separable: rows first, then columns on a transposed copy, so that every gather copies whole
    contiguous rows (a gather along the second axis of an image is several times slower)."""
    image = np.asarray(image, np.float32)
    h, w, c = image.shape
    if (h, w) == (height, width):
        return image.copy()  # every weight is 1: the same numbers
    iy, wy = _area_weights(h, height)
    ix, wx = _area_weights(w, width)
    rows = _area_pass(image.reshape(h, w * c), iy, wy).reshape(height, w, c)
    cols = np.ascontiguousarray(rows.transpose(1, 0, 2)).reshape(w, height * c)
    out = _area_pass(cols, ix, wx).reshape(width, height, c)
    return np.ascontiguousarray(out.transpose(1, 0, 2))


def _area_pass(a: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Resample the rows of a C-contiguous ``(N, M)`` float32 array: output row ``i`` is
    ``sum_k w[i, k] * a[idx[i, k]]`` (k in order, as the einsum it replaces)."""
    out = np.take(a, idx[:, 0], axis=0)
    out *= w[:, 0, None]
    for k in range(1, idx.shape[1]):
        part = np.take(a, idx[:, k], axis=0)
        part *= w[:, k, None]
        out += part
    return out


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Patches ``(N, size, size, C)`` float32 cut from ``image (H, W, C)`` like
    ``tf.image.crop_and_resize``: ``boxes (N, 4)`` are ``y1, x1, y2, x2`` normalised so that 1.0
    is the last pixel (``* (H - 1)``), sampled bilinearly; samples outside the image are 0.

    Boxes are done a block at a time (a textured photo sends thousands to RNet), each corner
    gathered with one flat ``take`` rather than a 2-D fancy index (several times faster)."""
    h, w = image.shape[:2]
    img = np.asarray(image, np.float32)
    flat = img.reshape(h * w, -1)
    boxes = np.asarray(boxes, np.float32)
    out = np.empty((len(boxes), size, size, flat.shape[1]), np.float32)
    steps = np.arange(size, dtype=np.float32)[None, :]
    for s in range(0, len(boxes), _CROP_BLOCK):
        y1, x1, y2, x2 = (boxes[s:s + _CROP_BLOCK, i:i + 1] for i in range(4))
        in_y = y1 * np.float32(h - 1) + steps * ((y2 - y1) * np.float32(h - 1) / np.float32(size - 1))
        in_x = x1 * np.float32(w - 1) + steps * ((x2 - x1) * np.float32(w - 1) / np.float32(size - 1))
        valid_y = (in_y >= 0) & (in_y <= h - 1)
        valid_x = (in_x >= 0) & (in_x <= w - 1)
        fy, fx = np.floor(in_y), np.floor(in_x)
        y0 = np.clip(fy, 0, h - 1).astype(np.intp) * w
        yc = np.clip(np.ceil(in_y), 0, h - 1).astype(np.intp) * w
        x0 = np.clip(fx, 0, w - 1).astype(np.intp)
        xc = np.clip(np.ceil(in_x), 0, w - 1).astype(np.intp)
        ly = (in_y - fy)[:, :, None, None]
        lx = (in_x - fx)[:, None, :, None]

        def at(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
            return np.take(flat, rows[:, :, None] + cols[:, None, :], axis=0)  # (n, size, size, C)

        p00 = at(y0, x0)
        top = p00 + (at(y0, xc) - p00) * lx
        p10 = at(yc, x0)
        bottom = p10 + (at(yc, xc) - p10) * lx
        patch = top + (bottom - top) * ly
        mask = (valid_y[:, :, None] & valid_x[:, None, :])[..., None]
        out[s:s + _CROP_BLOCK] = np.where(mask, patch, np.float32(0))
    return out


# -- boxes (the package's bboxes utilities) ---------------------------------------------------

def _sort_desc(boxes: np.ndarray, column: int) -> np.ndarray:
    return boxes[np.argsort(boxes[:, column])[::-1]]


def nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Rows of ``boxes`` (already in score order; columns 1:5 are x1, y1, x2, y2) that overlap
    no earlier row by more than ``threshold``. IoU is over the union, or over the smaller area
    for ``method="min"``; areas have no +1, as in the package.

    Dropping a box that overlaps *any* earlier one is a property of pairs, so only the pairs
    that can overlap are looked at: with the boxes sorted by x1, a box's candidates are the ones
    after it whose x1 lies before its x2. On a textured photo PNet proposes thousands of small
    boxes, and this is a few thousand pairs where all pairs were millions."""
    n = len(boxes)
    if n == 0:
        return boxes
    b = boxes[:, 1:5]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    by_x = np.argsort(b[:, 0], kind="stable")
    ends = np.searchsorted(b[by_x, 0], b[by_x, 2], side="left")  # first x1 at or past its x2
    counts = np.maximum(ends - np.arange(n) - 1, 0)
    keep = np.ones(n, bool)
    start = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while start < n:
            # a block of boxes whose candidate pairs number at most _NMS_PAIRS (at least one box)
            total = np.cumsum(counts[start:])
            stop = start + max(1, int(np.searchsorted(total, _NMS_PAIRS, side="right")))
            c = counts[start:stop]
            first = np.repeat(np.arange(start, stop), c)
            offset = np.arange(len(first)) - np.repeat(np.cumsum(c) - c, c)
            i, j = by_x[first], by_x[first + 1 + offset]
            iw = np.maximum(0, np.minimum(b[i, 2], b[j, 2]) - np.maximum(b[i, 0], b[j, 0]))
            ih = np.maximum(0, np.minimum(b[i, 3], b[j, 3]) - np.maximum(b[i, 1], b[j, 1]))
            inter = iw * ih
            if method == "union":
                ratio = inter / (area[i] + area[j] - inter)
            else:
                ratio = inter / np.minimum(area[i], area[j])
            over = ratio > threshold
            keep[np.maximum(i[over], j[over])] = False  # the later (lower-scoring) of the two
            start = stop
    return boxes[keep]


def resize_to_square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box's shorter side to its longer one about the same centre (no rounding)."""
    boxes = boxes.copy()
    w = boxes[:, 3] - boxes[:, 1]
    h = boxes[:, 4] - boxes[:, 2]
    side = np.maximum(w, h)
    boxes[:, 1] += w * 0.5 - side * 0.5
    boxes[:, 2] += h * 0.5 - side * 0.5
    boxes[:, 3] = boxes[:, 1] + side
    boxes[:, 4] = boxes[:, 2] + side
    return boxes


def adjust_boxes(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply regression ``offsets (N, 4)`` scaled by the box size (+1, as the package does)."""
    boxes = boxes.copy()
    w = boxes[:, 3] - boxes[:, 1] + 1
    h = boxes[:, 4] - boxes[:, 2] + 1
    boxes[:, 1:5] += offsets * np.stack([w, h, w, h], axis=-1)
    return boxes


def scale_pyramid(width: int, height: int, min_face_size: float,
                  scale_factor: float = SCALE_FACTOR, min_size: int = MIN_SIZE) -> np.ndarray:
    """The package's pyramid: ``min_size / min_face_size * scale_factor ** k``; the number of
    levels depends only on the image's smaller side."""
    count = round(-((np.log(min(width, height) / min_size) / np.log(scale_factor)) + 1))
    return (min_size / min_face_size) * scale_factor ** np.arange(count)


def generate_boxes(reg: np.ndarray, prob: np.ndarray, threshold: float,
                   stride: int = 2, cell: int = 12) -> np.ndarray:
    """PNet maps ``reg (h, w, 4)``, ``prob (h, w)`` -> ``(n, 6)`` rows ``[0, x1, y1, x2, y2,
    score]`` in pyramid-level pixels, regressed, best score first."""
    ys, xs = np.where(prob > threshold)
    r = reg[ys, xs].astype(np.float64)
    # The package's window runs from stride*i + 1 to stride*i + cell, so it is cell - 1 wide.
    x0, y0 = xs * stride + 1, ys * stride + 1
    x1, y1 = xs * stride + cell, ys * stride + cell
    size = cell - 1
    boxes = np.stack([
        np.zeros(len(ys)), x0 + r[:, 0] * size, y0 + r[:, 1] * size,
        x1 + r[:, 2] * size, y1 + r[:, 3] * size, prob[ys, xs],
    ], axis=1)
    return _sort_desc(boxes, 5)


def pyramid_level(image: np.ndarray, source: Image.Image | None, height: int, width: int
                  ) -> tuple[np.ndarray, Image.Image | None]:
    """One level of PNet's pyramid, ``(height, width, 3)`` float32 normalised pixels, and what
    the next (smaller) level is to be made from.

    Without ``source``: from ``image`` (the normalised pixels) with TensorFlow's area resize,
    the package's way. With ``source``, an 8-bit Pillow image of the previous level (the copy
    itself for the first): Pillow's box filter from that, each level from the one before (a
    quarter of the work of making each from the copy, and as good for finding faces)."""
    if source is None:
        return resize_area(image, height, width), None
    if (width, height) == source.size:
        return image, source
    # reducing_gap: whole blocks averaged first (reduce()), the rest box-filtered
    small = source.resize((width, height), Image.BOX, reducing_gap=2.0)
    return (np.asarray(small, np.float32) - np.float32(127.5)) / np.float32(128), small


# -- PNet in tiles ------------------------------------------------------------------------------
#
# PNet is fully convolutional (conv 3x3, max-pool 2x2 stride 2 with "same" padding, conv 3x3,
# conv 3x3, 1x1 heads): output (i, j) of a pyramid level sees the 12x12 window whose top-left
# corner is (2i, 2j). Run on each level's own shape, LiteRT re-plans the graph for every level of
# every photo, which took longer than the convolutions, and its working memory grows with the
# level (about 250 MB for 1280x960). So levels are cut into tiles of a few fixed shapes, each run
# by its own interpreter that never re-plans, and the tiles' outputs are put back together into
# the level's maps, giving the same numbers as running the whole level:
#
# * a tile starts at an even level coordinate, so its pooling pairs the same columns;
# * a tile's outputs are used only where their window lies inside the tile and the level;
# * the tile side is odd. A level of odd width has one output more than full windows give: its
#   last window hangs one pixel over the edge, and "same" padding pools that column alone. The
#   tile that ends exactly at the level's edge reproduces it (its own last window hangs over its
#   own edge the same way), and for even widths the last tile starts one pixel later, so that it
#   stays on even coordinates; its last, overhanging output is not used.

PNET_TILE_SIDES = (25, 31, 37, 45, 55, 67, 81, 97, 117, 141, 169, 203, 245, 293, 353)
"""Tile heights and widths for PNet, px (odd; see above; about 1.2x apart). Each level runs in the
rectangle of two of these that covers it most cheaply (:func:`tile_shape`): the pixels PNet
computes, overlaps and margins included, plus :data:`PNET_INVOKE_PX` a tile. On a 4000x3000
photo's pyramid (900x675 first level) the tiles hold 1.19x the levels' pixels, where square
tiles of 97, 193 and 385 px held 1.38x (1.30x at a 1000x750 first level)."""
PNET_TILE_AREA = 35_000
"""Largest tile, px: LiteRT's working memory is about 190 bytes a tile pixel (7 MB here), held
by each tile shape's interpreter. A 4000x3000 photo's pyramid uses ten shapes (about 28 MB a
photo worker; the square tiles took 35 MB at a 1000 px first level); photos turned the other way
add eight more (48 MB together)."""
PNET_INVOKE_PX = 1_500
"""What one more LiteRT run costs, in tile pixels (measured: about 0.15 ms)."""
PNET_TILES_KEPT_PX = 400_000
"""The tile interpreters a detector keeps, in tile pixels together (about 76 MB): the least
recently used go first. Both orientations of a 4000x3000 photo need 266,000; a folder of photos
of many sizes would otherwise keep an interpreter for every shape it ever met (making one again
costs 5-30 ms)."""


def pnet_outputs(length: int) -> int:
    """How many PNet outputs a level of ``length`` px has along one axis (``ceil((L - 2) / 2)``
    after the first pooling, minus 4 for the two 3x3 convolutions)."""
    return (length - 1) // 2 - 4


def tile_origins(length: int, tile: int) -> list[int]:
    """Even level coordinates (the first may be negative: the level then sits inside the tile)
    where the tiles covering ``length`` px along one axis start: as few tiles as cover it, spread
    evenly, consecutive ones overlapping by at least 11 px so that every output window lies
    wholly in one of them; the last tile ends at the level's edge (odd lengths) or one pixel
    past it (even lengths)."""
    last = length - tile + (1 - length % 2)
    if last <= 0:
        return [last]
    gaps = -(-last // (tile - 13))  # spacing <= tile - 13, so <= tile - 11 after rounding to even
    return [2 * (k * last // (2 * gaps)) for k in range(gaps)] + [last]


def _tile_cost(length_h: int, length_w: int, tile_h: int, tile_w: int) -> int:
    runs = len(tile_origins(length_h, tile_h)) * len(tile_origins(length_w, tile_w))
    return runs * (tile_h * tile_w + PNET_INVOKE_PX)


@functools.lru_cache(maxsize=256)
def tile_shape(length_h: int, length_w: int) -> tuple[int, int]:
    """The tile ``(height, width)`` that covers a level of ``length_h`` x ``length_w`` px most
    cheaply (:data:`PNET_TILE_SIDES`, at most :data:`PNET_TILE_AREA` px)."""
    shapes = [(th, tw) for th in PNET_TILE_SIDES for tw in PNET_TILE_SIDES
              if th * tw <= PNET_TILE_AREA]
    return min(shapes, key=lambda t: (_tile_cost(length_h, length_w, *t), t))


def _tile_span(origin: int, tile: int, length: int) -> tuple[int, int]:
    """The outputs ``[lo, hi)`` of a tile starting at ``origin`` that are used (tile indices):
    those whose window lies inside both the tile and the level, plus the tile's overhanging last
    output when the tile ends at the level's (odd) edge, where it is the level's own."""
    lo = max(0, -origin // 2)
    if origin + tile == length and length % 2:
        hi = (tile - 11) // 2 + 1
    else:
        hi = min((tile - 13) // 2, (length - 12 - origin) // 2) + 1
    return lo, hi


# -- the detector -----------------------------------------------------------------------------

class MTCNNLite:
    """MTCNN on LiteRT. ``detect(pixels, ...)`` -> ``(n, 16)`` float64 rows ``[0, x1, y1, x2,
    y2, confidence, 5 landmark x, 5 landmark y]`` (left eye, right eye, nose, mouth left, mouth
    right), best first, boxes clipped to the image like the package's ``fit_to_image``.
    Not thread-safe; create it on the thread that uses it."""

    def __init__(self, paths: dict[str, Path] | None = None, num_threads: int | None = None):
        paths = paths or ensure_lite_models()
        self._pnet_path, self._threads = paths["pnet"], num_threads
        self._nets = {n: LiteModel(paths[n], num_threads) for n in NETS}
        self.sha256 = {n: check_lite(self._nets[n], paths[n], f"MTCNN {n.upper()}", n)
                       for n in NETS}
        # tile shape -> its interpreter and input buffer, least recently used first
        self._tiles: OrderedDict[tuple[int, int], tuple[LiteModel, np.ndarray]] = OrderedDict()
        # Output tensors are told apart by their last dimension: 4 = box regression,
        # 10 = landmarks, 2 = [not face, face] probabilities.
        self._order = {}
        for n, m in self._nets.items():
            dims = [d["shape_signature"][-1] for d in m._interp.get_output_details()]
            self._order[n] = {int(d): i for i, d in enumerate(dims)}

    def _run(self, net: str, x: np.ndarray) -> dict[int, np.ndarray]:
        outs = self._nets[net].run(x)
        return {d: outs[i] for d, i in self._order[net].items()}

    def detect(self, pixels: np.ndarray, min_face_size: float = 20,
               thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
               resample: str = "area") -> np.ndarray:
        """All faces in ``pixels (H, W, 3)`` uint8 RGB; see the class docstring.

        ``resample``: how the pyramid's levels are made: ``"area"``, TensorFlow's area
        averaging on the normalised pixels, exactly as the package; or ``"box"``, Pillow's box
        filter on the 8-bit pixels, each level from the previous one, a sixth of the time (for
        the copy of a large photo, which the package never sees: the copy is Pillow's
        already)."""
        empty = np.zeros((0, 16))
        h, w = pixels.shape[:2]
        image = (np.asarray(pixels, np.float32) - np.float32(127.5)) / np.float32(128)
        boxes = self._pnet(image, min_face_size, thresholds[0],
                           pixels if resample == "box" else None)
        if len(boxes) == 0:
            return empty
        boxes = self._rnet(image, boxes, thresholds[1])
        if len(boxes) == 0:
            return empty
        boxes = self._onet(image, boxes, thresholds[2])
        # fit_to_image: boxes (not landmarks) clipped to the last pixel.
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, w - 1)
        boxes[:, [2, 4]] = np.clip(boxes[:, [2, 4]], 0, h - 1)
        return boxes

    def _pnet(self, image: np.ndarray, min_face_size: float, threshold: float,
              pixels: np.ndarray | None = None) -> np.ndarray:
        """PNet over the pyramid; levels from ``pixels`` (uint8) with Pillow when given."""
        h, w = image.shape[:2]
        source = None if pixels is None else Image.fromarray(np.ascontiguousarray(pixels))
        per_scale = []
        for scale in scale_pyramid(w, h, min_face_size):
            sh, sw = int(h * scale), int(w * scale)  # tf.image.resize truncates float sizes
            if min(sh, sw) < MIN_SIZE:  # PNet's maps would be empty: nothing to find here
                continue
            level, source = pyramid_level(image, source, sh, sw)
            reg, prob = self.pnet_maps(level)
            found = generate_boxes(reg, prob, threshold)
            found[:, 1:5] /= scale
            per_scale.append(nms(found, 0.5))
        if not per_scale:
            return np.zeros((0, 6))
        boxes = nms(_sort_desc(np.concatenate(per_scale), 5), 0.7)
        return resize_to_square(boxes)

    def pnet_maps(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PNet on one pyramid level ``(H, W, 3)`` float32 (normalised pixels), run in tiles:
        box regression ``(h, w, 4)`` and face probability ``(h, w)`` float32, the same as PNet on
        the whole level (see the notes above :data:`PNET_TILE_SIDES`)."""
        lh, lw = level.shape[:2]
        th, tw = tile_shape(lh, lw)
        model, buf = self._tile_model(th, tw)
        order = self._order["pnet"]
        nh, nw = pnet_outputs(lh), pnet_outputs(lw)
        reg = np.empty((nh, nw, 4), np.float32)
        prob = np.empty((nh, nw), np.float32)
        for y0 in tile_origins(lh, th):
            ylo, yhi = _tile_span(y0, th, lh)
            for x0 in tile_origins(lw, tw):
                xlo, xhi = _tile_span(x0, tw, lw)
                buf.fill(0)  # outside the level: never used, but kept finite and the same
                sy, sx = max(y0, 0), max(x0, 0)
                part = level[sy:y0 + th, sx:x0 + tw]
                buf[0, sy - y0:sy - y0 + part.shape[0], sx - x0:sx - x0 + part.shape[1]] = part
                outs = model.run(buf)
                oy, ox = y0 // 2, x0 // 2  # level output index of tile output 0
                reg[oy + ylo:oy + yhi, ox + xlo:ox + xhi] = outs[order[4]][0, ylo:yhi, xlo:xhi]
                prob[oy + ylo:oy + yhi, ox + xlo:ox + xhi] = outs[order[2]][0, ylo:yhi, xlo:xhi, 1]
        return reg, prob

    def _tile_model(self, height: int, width: int):
        key = (height, width)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        kept = sum(h * w for h, w in self._tiles)
        while self._tiles and kept + height * width > PNET_TILES_KEPT_PX:
            (h, w), _ = self._tiles.popitem(last=False)
            kept -= h * w
        self._tiles[key] = (LiteModel(self._pnet_path, self._threads),
                            np.zeros((1, height, width, 3), np.float32))
        return self._tiles[key]

    def _patches(self, image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
        h, w = image.shape[:2]
        norm = boxes[:, [2, 1, 4, 3]] / np.array([h, w, h, w], np.float64)
        return crop_and_resize(image, norm, size)

    def _classify(self, net: str, image: np.ndarray, boxes: np.ndarray) -> dict[int, np.ndarray]:
        """RNet or ONet on the patches of ``boxes``, a chunk at a time: a textured photo can
        send thousands of boxes to RNet, and LiteRT's working memory grows with the batch (and
        stays at the largest one seen): 2000 patches took over 200 MB at once."""
        size, chunk = _PATCH_NETS[net]
        outs = [self._run(net, self._patches(image, boxes[s:s + chunk], size))
                for s in range(0, len(boxes), chunk)]
        return {d: np.concatenate([o[d] for o in outs]) for d in outs[0]}

    def _rnet(self, image: np.ndarray, boxes: np.ndarray, threshold: float) -> np.ndarray:
        out = self._classify("rnet", image, boxes)
        boxes = boxes.copy()
        boxes[:, 5] = out[2][:, 1]
        boxes = adjust_boxes(boxes, out[4])
        boxes = boxes[boxes[:, 5] > threshold]
        return resize_to_square(nms(_sort_desc(boxes, 5), 0.7))

    def _onet(self, image: np.ndarray, boxes: np.ndarray, threshold: float) -> np.ndarray:
        out = self._classify("onet", image, boxes)
        marks = out[10].astype(np.float64)
        bw = boxes[:, 3:4] - boxes[:, 1:2] + 1
        bh = boxes[:, 4:5] - boxes[:, 2:3] + 1
        marks[:, 0:5] = bw * marks[:, 0:5] + boxes[:, 1:2] - 1
        marks[:, 5:10] = bh * marks[:, 5:10] + boxes[:, 2:3] - 1
        boxes = boxes.copy()
        boxes[:, 5] = out[2][:, 1]
        boxes = np.concatenate([adjust_boxes(boxes, out[4]), marks], axis=1)
        boxes = boxes[boxes[:, 5] > threshold]
        return nms(_sort_desc(boxes, 5), 0.7, method="min")
