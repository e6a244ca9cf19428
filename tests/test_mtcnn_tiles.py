"""The fast paths of the LiteRT detector give the numbers of the straightforward ones.

PNet runs in fixed-size tiles (no re-planning per pyramid level), NMS looks only at pairs of
boxes that can overlap, and patches are cut in blocks; each is checked here against the plain
computation (PNet on the whole level, all pairs, TensorFlow's crop_and_resize).
"""

from __future__ import annotations

import numpy as np
import pytest

from facefinder.core import mtcnn_lite, tflite
from facefinder.core.mtcnn_lite import (PNET_TILE_AREA, PNET_TILE_SIDES, _tile_span, pnet_outputs,
                                        tile_origins, tile_shape)

lite = pytest.mark.skipif(not tflite.lite_available(), reason="ai-edge-litert missing")


def test_tiles_cover_every_output_of_a_level_from_even_origins():
    for tile in PNET_TILE_SIDES:
        for length in range(12, 3 * tile + 7):
            covered = np.zeros(pnet_outputs(length), int)
            for origin in tile_origins(length, tile):
                assert origin % 2 == 0
                lo, hi = _tile_span(origin, tile, length)
                assert 0 <= lo < hi <= (tile - 9) // 2  # within the tile's own outputs
                covered[origin // 2 + lo:origin // 2 + hi] += 1
            # every output at least once (overlapping tiles give the same numbers twice)
            assert covered.min() >= 1, (tile, length)


def test_a_level_gets_a_rectangular_tile_that_wastes_little():
    # a 4000x3000 photo's first level and the next ones: rectangles, not squares, within the
    # largest tile; the tiles hold well under 1.3x the level's pixels
    for h, w in [(675, 900), (478, 638), (339, 452), (900, 675), (600, 900)]:
        th, tw = tile_shape(h, w)
        assert th * tw <= PNET_TILE_AREA and th % 2 == tw % 2 == 1
        held = len(tile_origins(h, th)) * len(tile_origins(w, tw)) * th * tw
        assert held < 1.3 * h * w, (h, w, th, tw, held / (h * w))
    assert len({tile_shape(h, w) for h, w in [(675, 900), (478, 638), (339, 452)]}) > 1


@lite
def test_pnet_in_tiles_equals_pnet_on_the_whole_level():
    detector = mtcnn_lite.MTCNNLite(num_threads=1)
    rng = np.random.default_rng(3)
    # odd and even sides, smaller and larger than each tile, thin strips
    for h, w in [(12, 12), (13, 13), (12, 13), (100, 101), (129, 129), (130, 131),
                 (257, 257), (258, 300), (259, 700), (511, 77), (14, 600), (750, 1000),
                 (675, 900), (478, 638), (900, 675), (40, 1300)]:
        level = rng.uniform(-1, 1, (h, w, 3)).astype(np.float32)
        reg, prob = detector.pnet_maps(level)
        whole = detector._run("pnet", level[None])
        assert reg.shape == whole[4][0].shape and prob.shape == whole[2][0, :, :, 1].shape
        np.testing.assert_allclose(reg, whole[4][0], atol=1e-6, err_msg=str((h, w)))
        np.testing.assert_allclose(prob, whole[2][0, :, :, 1], atol=1e-6, err_msg=str((h, w)))


def _nms_all_pairs(boxes: np.ndarray, threshold: float, method: str) -> np.ndarray:
    """The package's rule written out over all pairs: drop a box that overlaps any earlier one."""
    b = boxes[:, 1:5]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    keep = []
    for k in range(len(b)):
        iw = np.maximum(0, np.minimum(b[k, 2], b[:k, 2]) - np.maximum(b[k, 0], b[:k, 0]))
        ih = np.maximum(0, np.minimum(b[k, 3], b[:k, 3]) - np.maximum(b[k, 1], b[:k, 1]))
        inter = iw * ih
        with np.errstate(divide="ignore", invalid="ignore"):
            if method == "union":
                ratio = inter / (area[k] + area[:k] - inter)
            else:
                ratio = inter / np.minimum(area[k], area[:k])
        keep.append(not (ratio > threshold).any())
    return boxes[np.array(keep, bool)]


def test_nms_on_dense_proposals_equals_all_pairs():
    # What PNet proposes on a textured photo: thousands of small boxes on a stride-2 grid,
    # regressed a little, many at the same x (sort ties), plus a few large ones.
    rng = np.random.default_rng(4)
    ys, xs = np.mgrid[0:200:2, 0:300:2]
    pick = rng.random(ys.shape) < 0.3
    x1 = xs[pick] + rng.normal(0, 1, pick.sum())
    y1 = ys[pick] + rng.normal(0, 1, pick.sum())
    side = np.full(pick.sum(), 12.0)
    side[:20] = rng.uniform(40, 150, 20)
    n = len(x1)
    boxes = np.column_stack([np.zeros(n), x1, y1, x1 + side, y1 + side, rng.random(n)])
    boxes[5:9, 5] = boxes[4, 5]  # equal scores: order decides
    boxes = boxes[np.argsort(boxes[:, 5], kind="stable")[::-1]]
    assert n > 2000
    for method, threshold in (("union", 0.5), ("union", 0.7), ("min", 0.7)):
        got = mtcnn_lite.nms(boxes, threshold, method)
        np.testing.assert_array_equal(got, _nms_all_pairs(boxes, threshold, method))
        assert 0 < len(got) < n


def test_crop_and_resize_in_blocks_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(5)
    image = rng.uniform(-1, 1, (120, 90, 3)).astype(np.float32)
    n = 2 * mtcnn_lite._CROP_BLOCK + 17  # several blocks and a partial one
    y1, x1 = rng.uniform(-0.2, 0.9, n), rng.uniform(-0.2, 0.9, n)
    boxes = np.column_stack([y1, x1, y1 + rng.uniform(0.05, 0.5, n), x1 + rng.uniform(0.05, 0.5, n)])
    want = tf.image.crop_and_resize(image[None], boxes.astype(np.float32), np.zeros(n, np.int32),
                                    (24, 24)).numpy()
    np.testing.assert_allclose(mtcnn_lite.crop_and_resize(image, boxes, 24), want, atol=1e-5)


@lite
def test_a_detector_keeps_a_bounded_set_of_tile_interpreters(monkeypatch):
    # photos of many sizes: the least recently used tile shapes are let go, the numbers stay
    monkeypatch.setattr(mtcnn_lite, "PNET_TILES_KEPT_PX", 60_000)
    detector = mtcnn_lite.MTCNNLite(num_threads=1)
    rng = np.random.default_rng(6)
    for h, w in [(675, 900), (900, 675), (300, 500), (511, 77), (675, 900), (40, 1300)]:
        level = rng.uniform(-1, 1, (h, w, 3)).astype(np.float32)
        reg, prob = detector.pnet_maps(level)
        assert sum(th * tw for th, tw in detector._tiles) <= 60_000
        assert list(detector._tiles)[-1] == tile_shape(h, w)  # the one just used is kept
        whole = detector._run("pnet", level[None])
        np.testing.assert_allclose(prob, whole[2][0, :, :, 1], atol=1e-6, err_msg=str((h, w)))
