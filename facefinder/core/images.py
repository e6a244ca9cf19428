"""Reading photos safely.

:func:`load_photo` turns any file Pillow can read (JPEG, PNG, WebP, BMP, TIFF, GIF's first
frame; HEIC/HEIF when pillow-heif is installed) into an RGB image with its EXIF orientation
applied, and turns every way that can fail into an :class:`ImageError` with a plain reason.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .align import ARTICLE_CROP, SIZE, CropSpec, face_tensor
from .errors import ImageError

# Pillow refuses images over ~179 Mpx as decompression bombs; we keep that guard (a 30000 x
# 20000 panorama is 600 Mpx and ~1.8 GB decoded) but raise it to what a phone panorama needs.
MAX_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".tif", ".tiff",
                  ".gif", ".heic", ".heif")
"""The file extensions facefinder reads as photos (lower case), in the order shown to people: the
one list the folder scan and the app's file dialogs take them from."""
PHOTO_EXTENSIONS = frozenset(PHOTO_SUFFIXES)


def photo_globs() -> str:
    """``"*.jpg *.jpeg ..."``: :data:`PHOTO_SUFFIXES` as file-name patterns (file dialogs)."""
    return " ".join("*" + s for s in PHOTO_SUFFIXES)

_heif_registered: bool | None = None


def _register_heif() -> bool:
    global _heif_registered
    if _heif_registered is None:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True
        except ImportError:
            _heif_registered = False
    return _heif_registered


def is_photo_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in PHOTO_EXTENSIONS


@dataclass
class Photo:
    """A decoded photo.

    ``image`` is RGB at full resolution (EXIF orientation applied); ``width``/``height`` are its
    size in pixels. Face boxes are always given in these pixels.
    """

    image: Image.Image
    width: int
    height: int
    path: str | None = None
    reduced: float = 1.0
    """``image`` pixels per photo pixel: below 1 when a large JPEG was decoded at a DCT scale."""

    def detection_copy(self, max_side: int) -> tuple[np.ndarray, float]:
        """A copy whose longest side is at most ``max_side`` px, as ``(H, W, 3)`` uint8, and the
        factor ``scale`` such that ``copy_px = photo_px * scale``."""
        longest = max(self.image.width, self.image.height)
        if max_side <= 0 or longest <= max_side:
            return np.asarray(self.image), self.image.width / self.width
        scale = max_side / longest
        size = (max(1, round(self.image.width * scale)), max(1, round(self.image.height * scale)))
        # reducing_gap makes Pillow average whole blocks of pixels first (reduce() by the largest
        # integer factor that fits) and resample only what is left: a 2000 px decode becomes a
        # 1000 px copy in one cheap 2x2 averaging, where bilinear over the whole photo took 6x as
        # long; averaging blocks is also the better filter for shrinking.
        small = self.image.resize(size, Image.BILINEAR, reducing_gap=1.0)
        return np.asarray(small), size[0] / self.width

    def face_tensor(self, box, spec: CropSpec = ARTICLE_CROP, landmarks=None) -> np.ndarray:
        """The prewhitened 160x160 crop of a face (box and landmarks in photo pixels; see
        :mod:`facefinder.core.align`). Taken from the reduced decode when that still has at
        least 160 px across the crop, else from the full photo."""
        if self.reduced < 1.0 and spec.side(box) * self.reduced < SIZE and self.path is not None:
            full = load_photo(self.path)
            self.image, self.reduced = full.image, 1.0
        f = self.reduced
        if f != 1.0:
            box = tuple(v * f for v in box)
            landmarks = None if landmarks is None else np.asarray(landmarks) * f
        return face_tensor(self.image, box, spec=spec.scaled(f), landmarks=landmarks)


def check_file(path: str | os.PathLike | bytes) -> tuple[os.stat_result | None, str | None]:
    """``(stat, None)`` for a regular file that exists, else ``(lstat or None, reason)``."""
    try:
        st = os.stat(path)
    except OSError as exc:
        try:
            lst = os.lstat(path)
        except OSError:
            lst = None
        if exc.errno == errno.ELOOP:
            return lst, "symbolic link loop"
        if isinstance(exc, FileNotFoundError):
            return lst, "broken symbolic link" if lst is not None else "no such file"
        if isinstance(exc, PermissionError):
            return lst, "permission denied"
        return lst, f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        return st, "not a regular file"
    return st, None


def load_photo(path: str | os.PathLike | bytes, *, max_side_hint: int | None = None) -> Photo:
    """Decode ``path`` to RGB. Raises :class:`ImageError` with the reason when it cannot.

    ``max_side_hint``: when set, JPEGs are decoded at the smallest DCT scale (1/2, 1/4, 1/8)
    whose longest side is still at least this many pixels (``draft`` mode) -- much faster for
    large photos whose full resolution is not needed.
    """
    display = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    st, problem = check_file(path)
    if problem:
        raise ImageError(f"{display}: {problem}")
    if st.st_size == 0:
        raise ImageError(f"{display}: empty file (0 bytes)")
    if not _register_heif() and os.path.splitext(display)[1].lower() in (".heic", ".heif"):
        raise ImageError(f"{display}: HEIC photo; install facefinder[heif] to read it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                full_size = im.size
                if max_side_hint and im.format == "JPEG":
                    im.draft("RGB", _draft_size(im.size, max_side_hint))
                orientation = im.getexif().get(0x0112, 1)
                im.seek(0)  # GIF, TIFF, HEIC: the first frame
                im.load()
                # In place: otherwise an upright photo is copied whole (36 MB for 12 Mpx) for
                # nothing. Leaving the `with` closes only the file, not the decoded pixels.
                ImageOps.exif_transpose(im, in_place=True)
                image = _to_rgb(im)
    except PermissionError:
        raise ImageError(f"{display}: permission denied") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{display}: image too large (over {MAX_PIXELS // 1_000_000} megapixels)"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"{display}: not an image, or a format facefinder cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        msg = str(exc).lower()
        if "truncated" in msg or "premature" in msg or isinstance(exc, EOFError):
            raise ImageError(f"{display}: truncated or damaged image file") from None
        raise ImageError(f"{display}: damaged image file ({exc})") from None
    except MemoryError:
        raise ImageError(f"{display}: image too large to decode in memory") from None
    if image.width < 2 or image.height < 2:
        raise ImageError(f"{display}: image too small ({image.width}x{image.height} px)")
    if image.size == full_size or (image.size[::-1] == full_size and orientation in (5, 6, 7, 8)):
        return Photo(image=image, width=image.width, height=image.height, path=display)
    # decoded at a DCT scale: report the photo's true size, keep the reduced pixels
    w, h = full_size[::-1] if orientation in (5, 6, 7, 8) else full_size
    return Photo(image=image, width=w, height=h, path=display, reduced=image.width / w)


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    scale = max(max_side / max(w, h), 1 / 8)
    return max(1, int(w * scale)), max(1, int(h * scale))


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any mode -> 8-bit RGB; transparent areas become white, 16-bit grayscale is rescaled."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float32)
        peak = float(arr.max()) or 1.0
        im = Image.fromarray((arr * (255.0 / max(peak, 255.0))).astype(np.uint8), "L")
    elif im.mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        lo, hi = float(arr.min()), float(arr.max())
        im = Image.fromarray(((arr - lo) * (255.0 / ((hi - lo) or 1.0))).astype(np.uint8), "L")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")
