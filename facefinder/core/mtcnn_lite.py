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

from pathlib import Path

import numpy as np

from .paths import cache_dir

LITE_VERSION = 1
"""Bump when the conversion changes, so stale ``.tflite`` files in caches are not used."""
NETS = ("pnet", "rnet", "onet")
SCALE_FACTOR = 0.709
MIN_SIZE = 12  # PNet's window, px
_NMS_BLOCK = 256  # rows of the IoU matrix computed at once: (256, n) floats, not (n, n)


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
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    from .tflite import convert_concrete_function

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
    from .tflite import ensure_model

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
    (area averaging, exact for downscaling)."""
    image = np.asarray(image, np.float32)
    iy, wy = _area_weights(image.shape[0], height)
    ix, wx = _area_weights(image.shape[1], width)
    rows = np.einsum("ok,okwc->owc", wy, image[iy], optimize=True)
    return np.einsum("pk,hpkc->hpc", wx, rows[:, ix], optimize=True).astype(np.float32)


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Patches ``(N, size, size, C)`` float32 cut from ``image (H, W, C)`` like
    ``tf.image.crop_and_resize``: ``boxes (N, 4)`` are ``y1, x1, y2, x2`` normalised so that 1.0
    is the last pixel (``* (H - 1)``), sampled bilinearly; samples outside the image are 0."""
    h, w = image.shape[:2]
    boxes = np.asarray(boxes, np.float32)
    y1, x1, y2, x2 = (boxes[:, i:i + 1] for i in range(4))
    steps = np.arange(size, dtype=np.float32)[None, :]
    in_y = y1 * np.float32(h - 1) + steps * ((y2 - y1) * np.float32(h - 1) / np.float32(size - 1))
    in_x = x1 * np.float32(w - 1) + steps * ((x2 - x1) * np.float32(w - 1) / np.float32(size - 1))
    valid_y = (in_y >= 0) & (in_y <= h - 1)
    valid_x = (in_x >= 0) & (in_x <= w - 1)
    y0 = np.clip(np.floor(in_y), 0, h - 1).astype(np.int64)
    yc = np.clip(np.ceil(in_y), 0, h - 1).astype(np.int64)
    x0 = np.clip(np.floor(in_x), 0, w - 1).astype(np.int64)
    xc = np.clip(np.ceil(in_x), 0, w - 1).astype(np.int64)
    ly = (in_y - np.floor(in_y))[:, :, None, None]
    lx = (in_x - np.floor(in_x))[:, None, :, None]
    img = np.asarray(image, np.float32)

    def at(yi: np.ndarray, xi: np.ndarray) -> np.ndarray:
        return img[yi[:, :, None], xi[:, None, :]]  # (N, size, size, C)

    top = at(y0, x0) + (at(y0, xc) - at(y0, x0)) * lx
    bottom = at(yc, x0) + (at(yc, xc) - at(yc, x0)) * lx
    out = top + (bottom - top) * ly
    mask = (valid_y[:, :, None] & valid_x[:, None, :])[..., None]
    return np.where(mask, out, np.float32(0)).astype(np.float32)


# -- boxes (the package's bboxes utilities) ---------------------------------------------------

def _sort_desc(boxes: np.ndarray, column: int) -> np.ndarray:
    return boxes[np.argsort(boxes[:, column])[::-1]]


def nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Rows of ``boxes`` (already in score order; columns 1:5 are x1, y1, x2, y2) that overlap
    no earlier row by more than ``threshold``. IoU is over the union, or over the smaller area
    for ``method="min"``; areas have no +1, as in the package."""
    n = len(boxes)
    if n == 0:
        return boxes
    b = boxes[:, 1:5]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    keep = np.ones(n, bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(0, n, _NMS_BLOCK):
            j = slice(s, min(s + _NMS_BLOCK, n))
            iw = np.maximum(0, np.minimum(b[None, :, 2], b[j, None, 2])
                            - np.maximum(b[None, :, 0], b[j, None, 0]))
            ih = np.maximum(0, np.minimum(b[None, :, 3], b[j, None, 3])
                            - np.maximum(b[None, :, 1], b[j, None, 1]))
            inter = iw * ih  # (block, n): rows are the boxes judged, columns the earlier ones
            if method == "union":
                ratio = inter / (area[j, None] + area[None, :] - inter)
            else:
                ratio = inter / np.minimum(area[j, None], area[None, :])
            earlier = np.arange(n)[None, :] < np.arange(s, j.stop)[:, None]
            keep[j] = ~((ratio > threshold) & earlier).any(axis=1)
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


# -- the detector -----------------------------------------------------------------------------

class MTCNNLite:
    """MTCNN on LiteRT. ``detect(pixels, ...)`` -> ``(n, 16)`` float64 rows ``[0, x1, y1, x2,
    y2, confidence, 5 landmark x, 5 landmark y]`` (left eye, right eye, nose, mouth left, mouth
    right), best first, boxes clipped to the image like the package's ``fit_to_image``.
    Not thread-safe; create it on the thread that uses it."""

    def __init__(self, paths: dict[str, Path] | None = None, num_threads: int | None = None):
        from .tflite import LiteModel

        from .model_files import check_lite

        paths = paths or ensure_lite_models()
        self._nets = {n: LiteModel(paths[n], num_threads) for n in NETS}
        self.sha256 = {n: check_lite(self._nets[n], paths[n], f"MTCNN {n.upper()}", n)
                       for n in NETS}
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
               thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)) -> np.ndarray:
        """All faces in ``pixels (H, W, 3)`` uint8 RGB; see the class docstring."""
        empty = np.zeros((0, 16))
        h, w = pixels.shape[:2]
        image = (np.asarray(pixels, np.float32) - np.float32(127.5)) / np.float32(128)
        boxes = self._pnet(image, min_face_size, thresholds[0])
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

    def _pnet(self, image: np.ndarray, min_face_size: float, threshold: float) -> np.ndarray:
        h, w = image.shape[:2]
        per_scale = []
        for scale in scale_pyramid(w, h, min_face_size):
            sh, sw = int(h * scale), int(w * scale)  # tf.image.resize truncates float sizes
            if min(sh, sw) < MIN_SIZE:  # PNet's maps would be empty: nothing to find here
                continue
            out = self._run("pnet", resize_area(image, sh, sw)[None])
            found = generate_boxes(out[4][0], out[2][0, :, :, 1], threshold)
            found[:, 1:5] /= scale
            per_scale.append(nms(found, 0.5))
        if not per_scale:
            return np.zeros((0, 6))
        boxes = nms(_sort_desc(np.concatenate(per_scale), 5), 0.7)
        return resize_to_square(boxes)

    def _patches(self, image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
        h, w = image.shape[:2]
        norm = boxes[:, [2, 1, 4, 3]] / np.array([h, w, h, w], np.float64)
        return crop_and_resize(image, norm, size)

    def _rnet(self, image: np.ndarray, boxes: np.ndarray, threshold: float) -> np.ndarray:
        out = self._run("rnet", self._patches(image, boxes, 24))
        boxes = boxes.copy()
        boxes[:, 5] = out[2][:, 1]
        boxes = adjust_boxes(boxes, out[4])
        boxes = boxes[boxes[:, 5] > threshold]
        return resize_to_square(nms(_sort_desc(boxes, 5), 0.7))

    def _onet(self, image: np.ndarray, boxes: np.ndarray, threshold: float) -> np.ndarray:
        out = self._run("onet", self._patches(image, boxes, 48))
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
