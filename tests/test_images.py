"""Decoding photos: every mode becomes RGB, every failure becomes a plain reason. No model."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import FACES
from corpus import EXPECTED_SKIPS, build_bad_corpus
from facefinder.core.errors import ImageError
from facefinder.core.images import load_photo


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_bad_corpus(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("name", sorted(set(EXPECTED_SKIPS) - {"fifo.jpg"}))
def test_bad_files_give_a_reason(corpus, name):
    with pytest.raises(ImageError) as err:
        load_photo(corpus[name])
    assert EXPECTED_SKIPS[name] in str(err.value)
    assert str(corpus[name].name) in str(err.value)


@pytest.mark.parametrize("name", ["gray16.png", "cmyk.jpg", "palette.gif", "panorama.jpg",
                                  "日本語の写真.jpg", "latin1"])
def test_odd_but_valid_files_decode_to_rgb(corpus, name):
    photo = load_photo(corpus[name])
    assert photo.image.mode == "RGB"
    arr = np.asarray(photo.image)
    assert arr.shape == (photo.height, photo.width, 3)
    assert arr.std() > 5  # real content, not a blank conversion


def test_sixteen_bit_gray_keeps_its_contrast(corpus):
    original = np.asarray(Image.open(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg")
                          .convert("L"), dtype=np.float32)
    decoded = np.asarray(load_photo(corpus["gray16.png"]).image, dtype=np.float32)[..., 0]
    assert np.abs(decoded - original).mean() < 2.0


def test_exif_orientation_is_applied(tmp_path):
    src = Image.open(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg").convert("RGB")
    src = src.crop((0, 0, 250, 150))  # not square, so a rotation shows in the size
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    src.save(path, exif=exif)
    photo = load_photo(path)
    assert (photo.width, photo.height) == (150, 250)


def test_transparent_png_gets_a_white_background(tmp_path):
    im = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (10, 10, 30, 30))
    path = tmp_path / "alpha.png"
    im.save(path)
    arr = np.asarray(load_photo(path).image)
    assert tuple(arr[0, 0]) == (255, 255, 255)
    assert tuple(arr[20, 20]) == (255, 0, 0)


def test_png_named_jpg_is_read_by_content(tmp_path):
    buf = io.BytesIO()
    Image.open(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg").save(buf, "PNG")
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(buf.getvalue())
    assert load_photo(path).width == 250


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_photo(tmp_path / "nope.jpg")


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    # Tests run as root, where chmod 000 does not stop reads; simulate the OS refusing.
    path = tmp_path / "locked.jpg"
    path.write_bytes((FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg").read_bytes())

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("facefinder.core.images.Image.open", refuse)
    with pytest.raises(ImageError, match="permission denied"):
        load_photo(path)


def test_detection_copy_is_bounded_and_scaled():
    photo = load_photo(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg")
    pixels, scale = photo.detection_copy(100)
    assert max(pixels.shape[:2]) == 100 and scale == pytest.approx(0.4)
    pixels, scale = photo.detection_copy(1280)
    assert pixels.shape[:2] == (250, 250) and scale == 1.0


def test_heic_photos_are_read_with_the_extra(tmp_path):
    import pillow_heif  # the `heif` extra, which scripts/test installs
    src = Image.open(FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg").convert("RGB")
    path = tmp_path / "phone.heic"
    pillow_heif.from_pillow(src).save(path, quality=90)
    photo = load_photo(path)
    assert (photo.width, photo.height) == src.size
    diff = np.abs(np.asarray(photo.image, np.float32) - np.asarray(src, np.float32)).mean()
    assert diff < 8  # lossy, but the same picture
