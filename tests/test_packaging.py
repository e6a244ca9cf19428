"""The packaged app's pieces that run from source: the bundled-model lookup and --self-test.

The PyInstaller build itself is checked by packaging/ci-build-and-selftest.sh (after the tests).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from facefinder import selftest
from facefinder.core import facenet, tflite, weights

from helpers import FACES, HOPKINS_1, HOPKINS_2


def _fake_bundle(tmp_path: Path, monkeypatch, names: list[str]) -> Path:
    models = tmp_path / "bundle" / "models"
    models.mkdir(parents=True)
    for name in names:
        (models / name).write_bytes(b"\0\0\0\0TFL3" + b"\0" * 8)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    monkeypatch.setenv("FACEFINDER_CACHE_DIR", str(tmp_path / "cache"))
    return models


def test_a_bundled_model_is_used_before_the_cache_and_never_converted(tmp_path, monkeypatch):
    name = "facenet-6acdd8fb3a3f-folded-v1-lite-v1.tflite"
    models = _fake_bundle(tmp_path, monkeypatch, [name, "mtcnn-x-pnet-lite-v1.tflite"])
    assert facenet.lite_path() == models / name
    converted = tflite.ensure_model(tmp_path / "cache" / "mtcnn-x-pnet-lite-v1.tflite",
                                    lambda: pytest.fail("a bundled model must not be converted"))
    assert converted == models / "mtcnn-x-pnet-lite-v1.tflite"
    # A packaged app ships the converted FaceNet model instead of the .h5: that counts as the
    # weights, so neither the GUI nor Engine.load asks for a download.
    assert weights.cached_weights() == models / facenet.lite_path().name


def test_without_a_bundle_models_live_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.setenv("FACEFINDER_CACHE_DIR", str(tmp_path / "cache"))
    assert facenet.lite_path().parent == tmp_path / "cache"
    assert tflite.bundled_model(facenet.lite_path().name) is None


def test_self_test_refuses_a_sample_folder_without_pairs(tmp_path, capsys):
    (tmp_path / "one").mkdir()
    shutil.copy(HOPKINS_1, tmp_path / "one" / "a.jpg")
    assert selftest.main(["--samples", str(tmp_path)]) == selftest.EXIT_FAILED
    assert "SELF-TEST FAILED" in capsys.readouterr().err


@pytest.mark.slow
def test_self_test_passes_on_two_people_and_fails_when_they_are_mixed_up(tmp_path, capsys,
                                                                         shared_data):
    other = sorted((FACES / "al_gore").glob("*.jpg"))[:2]
    samples = tmp_path / "samples"
    for person, photos in {"hopkins": [HOPKINS_1, HOPKINS_2], "gore": other}.items():
        (samples / person).mkdir(parents=True)
        for p in photos:
            shutil.copy(p, samples / person / p.name)
    assert selftest.main(["--samples", str(samples)]) == selftest.EXIT_OK
    assert "SELF-TEST PASSED" in capsys.readouterr().out
    # Label one Hopkins photo as Gore: the self-test must notice the wrong person first.
    shutil.move(samples / "hopkins" / HOPKINS_2.name, samples / "gore" / HOPKINS_2.name)
    shutil.move(samples / "gore" / other[0].name, samples / "hopkins" / other[0].name)
    assert selftest.main(["--samples", str(samples)]) == selftest.EXIT_FAILED
    assert "wrong person found first" in capsys.readouterr().err
