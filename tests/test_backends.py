"""The LiteRT backend against full TensorFlow: same faces, same embeddings, no TensorFlow import.

Agreement is measured against the ``mtcnn`` package and the TensorFlow FaceNet at test time, on
real photos, rather than against stored numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, GROUPS, HOPKINS_1, HOPKINS_2, NONFACES

from facefinder.core import facenet, mtcnn_lite, tflite
from facefinder.core.detect import Detector, DetectOptions, copy_side
from facefinder.core.images import load_photo

pytestmark = pytest.mark.skipif(not tflite.lite_available(), reason="ai-edge-litert missing")


def _sample_photos() -> list[Path]:
    faces = sorted(p for d in sorted(FACES.iterdir()) if d.is_dir() for p in sorted(d.iterdir()))
    return faces[::40] + sorted(GROUPS.iterdir()) + sorted(NONFACES.iterdir())[::3]


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


@pytest.fixture(scope="module")
def h5():
    from facefinder.core import weights

    path = weights.cached_weights()
    if path is None:
        pytest.skip("FaceNet weights not in the cache (facefinder model fetch)")
    return path


@pytest.fixture(scope="module")
def lite_models(h5):
    """Both sets of .tflite files in the cache (converted here if missing)."""
    return facenet.ensure_lite_model(h5), mtcnn_lite.ensure_lite_models()


# -- detection ------------------------------------------------------------------------------

def test_lite_detector_agrees_with_the_mtcnn_package(shared_data, lite_models):
    lite, package = Detector("lite"), Detector("tf")
    options = DetectOptions()
    photos = counted = 0
    ious = []
    mismatched = []
    for path in _sample_photos():
        try:
            photo = load_photo(path)
        except Exception:  # the corpus may hold undecodable files; the loader has its own tests
            continue
        pixels, scale = photo.detection_copy(copy_side(options, photo.width, photo.height))
        a = package.detect_array(pixels, options, scale)
        b = lite.detect_array(pixels, options, scale)
        photos += 1
        if len(a) != len(b):
            mismatched.append((path.name, len(a), len(b)))
            continue
        counted += len(a)
        for fa in a:
            best = max(_iou(fa.box, fb.box) for fb in b)
            ious.append(best)
            fb = max(b, key=lambda f: _iou(fa.box, f.box))
            assert abs(fa.confidence - fb.confidence) < 1e-3
            assert np.abs(fa.landmarks - fb.landmarks).max() <= 2 / scale
    assert photos >= 25 and counted >= 25
    assert len(mismatched) <= max(1, photos // 50), mismatched
    assert min(ious) > 0.9, sorted(ious)[:5]


def test_lite_detector_finds_nothing_in_tiny_or_blank_images(lite_models):
    lite = Detector("lite")
    assert lite.detect_array(np.zeros((8, 200, 3), np.uint8)) == []
    assert lite.detect_array(np.full((120, 90, 3), 128, np.uint8)) == []


def test_resize_area_and_crop_and_resize_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    image = rng.uniform(-1, 1, (101, 77, 3)).astype(np.float32)
    for scale in (0.6, 0.3016, 0.054):
        size = np.asarray(image.shape[:2]) * scale
        want = tf.image.resize(image[None], size, method="area").numpy()[0]
        got = mtcnn_lite.resize_area(image, *(int(v) for v in size))
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-5)
    boxes = np.array([[0.1, 0.2, 0.7, 0.9], [-0.1, -0.05, 0.5, 0.4], [0.5, 0.6, 1.2, 1.1]])
    want = tf.image.crop_and_resize(image[None], boxes.astype(np.float32), [0, 0, 0], (24, 24))
    got = mtcnn_lite.crop_and_resize(image, boxes, 24)
    np.testing.assert_allclose(got, want.numpy(), atol=1e-5)


def test_package_style_nms_drops_boxes_overlapping_any_better_box():
    # b overlaps a (suppressed); c overlaps only b, which is itself suppressed, and the package
    # still drops c: it compares with every better box, kept or not.
    boxes = np.array([
        [0, 0, 0, 10, 10, 0.9],
        [0, 3, 0, 13, 10, 0.8],
        [0, 9, 0, 19, 10, 0.7],
        [0, 50, 50, 60, 60, 0.6],
    ], float)
    kept = mtcnn_lite.nms(boxes, 0.3)
    assert kept[:, 5].tolist() == [0.9, 0.7, 0.6]
    assert mtcnn_lite.nms(np.zeros((0, 6)), 0.5).shape == (0, 6)


def test_nms_matches_the_package_on_many_boxes():
    bboxes = pytest.importorskip("mtcnn.utils.bboxes")
    rng = np.random.default_rng(2)
    n = 700  # more than one block of rows
    xy = rng.uniform(0, 300, (n, 2))
    wh = rng.uniform(5, 60, (n, 2))
    boxes = np.column_stack([np.zeros(n), xy, xy + wh, rng.uniform(0, 1, n)])
    boxes = boxes[np.argsort(boxes[:, 5])[::-1]]
    for method, threshold in (("union", 0.5), ("union", 0.7), ("min", 0.7)):
        want = bboxes.smart_nms_from_bboxes(boxes, threshold, method=method, initial_sort=False)
        np.testing.assert_array_equal(mtcnn_lite.nms(boxes, threshold, method), want)


# -- embeddings -----------------------------------------------------------------------------

def test_lite_facenet_matches_tensorflow(h5, lite_models):
    from facefinder.core.align import face_tensor

    detector = Detector("lite")
    tensors = []
    for path in (HOPKINS_1, HOPKINS_2, *sorted((FACES / "al_gore").iterdir())[:4]):
        photo = load_photo(path)
        tensors += [face_tensor(photo.image, f.box) for f in detector.detect(photo)[:1]]
    batch = np.stack(tensors)
    lite = facenet.FaceNetLite(lite_models[0])
    ref = facenet.FaceNet(facenet.ensure_fast_form(h5))
    a, b = lite.embed(batch), ref.embed(batch)
    assert a.shape == b.shape == (len(batch), 128)
    assert np.abs(a - b).max() < 1e-3
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.abs(lite.embed(batch[:1]) - a[:1]).max() < 1e-4  # batch size does not matter
    assert lite.embed(np.zeros((0, 160, 160, 3), np.float32)).shape == (0, 128)


def test_parity_distance_on_the_lite_backend(lite_models):
    from facefinder.core.pipeline import Engine, largest_face_embedding

    engine = Engine()
    engine.backend = "lite"
    a = largest_face_embedding(engine, HOPKINS_1)
    b = largest_face_embedding(engine, HOPKINS_2)
    assert engine.backend == "lite"
    assert abs(float(np.linalg.norm(a - b)) - 0.65) < 0.08


# -- start-up -------------------------------------------------------------------------------

def test_lite_engine_loads_without_importing_tensorflow(lite_models):
    code = (
        "import sys\n"
        "from facefinder.core.pipeline import Engine\n"
        "e = Engine(); e.load()\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'mtcnn') if m in sys.modules]\n"
        "print(e.backend, heavy)\n"
    )
    env = dict(os.environ, FACEFINDER_BACKEND="lite")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "lite []"


def test_backend_choice(monkeypatch):
    monkeypatch.delenv("FACEFINDER_BACKEND", raising=False)
    assert tflite.resolve_backend() == "lite"
    assert tflite.resolve_backend("TF") == "tf"
    monkeypatch.setenv("FACEFINDER_BACKEND", "tf")
    assert tflite.resolve_backend() == "tf"
    assert tflite.resolve_backend("lite") == "lite"
    with pytest.raises(ValueError):
        tflite.resolve_backend("gpu")


def test_models_are_written_atomically_and_checked(tmp_path):
    target = tmp_path / "m.tflite"
    assert not tflite.is_tflite_file(target)
    tflite.write_atomic(target, b"\0\0\0\0TFL3 not really a model")
    assert tflite.is_tflite_file(target)
    assert [p.name for p in tmp_path.iterdir()] == ["m.tflite"]  # no temp file left behind
    calls = []
    tflite.ensure_model(target, lambda: calls.append(1) or b"")
    assert calls == []  # a cached model is not rebuilt
