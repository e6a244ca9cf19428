"""Where a photo's XMP is: sidecars, and the packet inside JPEG, PNG, HEIC, WebP and TIFF files.

- Sidecars: ``photo.jpg.xmp`` (digiKam's and darktable's name, the one facefinder writes) and
  ``photo.xmp`` (Lightroom's and Capture One's), also with ``.XMP``.
- Embedded: JPEG's APP1 ``http://ns.adobe.com/xap/1.0/`` segment plus the extended XMP segments
  (``http://ns.adobe.com/xmp/extension/``, for packets over 64 KB), read by walking the
  segments up to the image data; PNG's ``iTXt`` chunk ``XML:com.adobe.xmp`` (anywhere in the
  file: chunks are skipped over, not read); HEIC/HEIF, WebP and TIFF through Pillow, which
  reads their XMP with the header (no pixels are decoded).

:func:`write_sidecar` writes atomically (a temporary file in the same folder, renamed over the
old one), so a crash or a full disk never leaves a half-written sidecar.
"""

from __future__ import annotations

import errno
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass

from .xmp import MAX_XMP_BYTES, XmpError
from .errors import ImageError, os_error_sentence
from .images import _register_heif
from .orientation import valid

JPEG_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
JPEG_EXTENDED = b"http://ns.adobe.com/xmp/extension/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sidecar_names(photo: str) -> list[str]:
    """The sidecar names facefinder looks for, in order of preference."""
    stem = os.path.splitext(photo)[0]
    return [photo + ".xmp", photo + ".XMP", stem + ".xmp", stem + ".XMP"]


def sidecar_for_writing(photo: str) -> str:
    """``photo.jpg.xmp``: the sidecar facefinder writes (and updates, when it exists)."""
    for name in sidecar_names(photo)[:2]:
        if os.path.lexists(name):
            return name
    return photo + ".xmp"


def find_sidecars(photo: str, known: set[str] | None = None) -> list[str]:
    """The sidecars of ``photo`` that exist. ``known``: the ``.xmp`` files a folder walk saw
    (then no file system call is made for photos without one)."""
    names = list(dict.fromkeys(sidecar_names(photo)))
    if known is not None:
        return [n for n in names if n in known]
    return [n for n in names if os.path.isfile(n)]


def read_file(path: str) -> bytes:
    """A sidecar's bytes. Raises :class:`XmpError` (too large) or OSError."""
    with open(path, "rb") as f:
        data = f.read(MAX_XMP_BYTES + 1)
    if len(data) > MAX_XMP_BYTES:
        raise XmpError(f"XMP too large (over {MAX_XMP_BYTES // 1_000_000} MB)")
    return data


# -- embedded packets ----------------------------------------------------------------------------
def embedded_xmp(path: str) -> list[bytes]:
    """The XMP packets inside a photo: ``[main]``, ``[main, extended]`` (JPEG), or ``[]``.
    Reads only headers and metadata; raises OSError when the file cannot be read."""
    with open(path, "rb") as f:
        head = f.read(12)
        f.seek(0)
        if head[:2] == b"\xff\xd8":
            return _jpeg_xmp(f)
        if head[:8] == PNG_SIGNATURE:
            return _png_xmp(f)
    return _pillow_xmp(path)


def _jpeg_xmp(f) -> list[bytes]:
    """Walk the JPEG's marker segments up to the image data (SOS)."""
    f.read(2)
    main = None
    parts: dict[bytes, dict[int, bytes]] = {}
    sizes: dict[bytes, int] = {}
    while True:
        marker = f.read(2)
        while marker[:1] == b"\xff" and marker[1:2] == b"\xff":  # fill bytes
            marker = marker[1:] + f.read(1)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        code = marker[1]
        if code in (0xD9, 0xDA):  # end of image, start of scan: no metadata after this
            break
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue  # markers without a length
        raw = f.read(2)
        if len(raw) < 2:
            break
        length = struct.unpack(">H", raw)[0] - 2
        if length < 0:
            break
        if code != 0xE1:
            f.seek(length, os.SEEK_CUR)
            continue
        data = f.read(length)
        if data.startswith(JPEG_XMP) and main is None:
            main = data[len(JPEG_XMP):]
        elif data.startswith(JPEG_EXTENDED) and len(data) >= len(JPEG_EXTENDED) + 40:
            body = data[len(JPEG_EXTENDED):]
            guid, total, offset = body[:32], *struct.unpack(">II", body[32:40])
            if total <= MAX_XMP_BYTES:
                parts.setdefault(guid, {})[offset] = body[40:]
                sizes[guid] = total
    out = [main] if main else []
    if main and parts:
        # The main packet names the extension it belongs to (xmpNote:HasExtendedXMP).
        for guid, chunks in parts.items():
            if guid not in main:
                continue
            blob = b"".join(chunks[o] for o in sorted(chunks))
            if len(blob) == sizes[guid]:
                out.append(blob)
    return out


def _png_xmp(f) -> list[bytes]:
    f.read(8)
    while True:
        head = f.read(8)
        if len(head) < 8:
            return []
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return []
        if kind != b"iTXt" or length > MAX_XMP_BYTES:
            f.seek(length + 4, os.SEEK_CUR)  # data and CRC
            continue
        data = f.read(length)
        f.read(4)
        keyword, _, rest = data.partition(b"\x00")
        if keyword != b"XML:com.adobe.xmp" or len(rest) < 2:
            continue
        compressed = rest[0] == 1
        # language tag \0 translated keyword \0 text
        _lang, _, rest = rest[2:].partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        if compressed:
            try:
                text = zlib.decompressobj().decompress(text, MAX_XMP_BYTES)
            except zlib.error:
                raise XmpError("damaged compressed XMP in the PNG") from None
        return [text]


def _pillow_xmp(path: str) -> list[bytes]:
    """HEIC/HEIF (with pillow-heif), WebP, TIFF: Pillow reads the XMP with the header."""
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    try:
        with Image.open(path) as im:
            data = im.info.get("xmp")
            if data is None and im.format == "TIFF":
                data = im.tag_v2.get(700)  # XMLPacket
    except (UnidentifiedImageError, SyntaxError, ValueError, EOFError):
        return []
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, (tuple, list)):
        data = bytes(data)
    return [data] if isinstance(data, (bytes, bytearray)) and data else []


# -- the photo's geometry --------------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    """A photo's stored image: ``width`` x ``height`` pixels (before orientation) and the EXIF
    ``orientation`` facefinder applies when it decodes it (1-8)."""

    width: int
    height: int
    orientation: int

    @property
    def shown(self) -> tuple[int, int]:
        """(width, height) of the photo as shown, as facefinder's boxes are."""
        return (self.height, self.width) if self.orientation >= 5 else (self.width, self.height)


def geometry(path: str) -> Geometry:
    """Read the photo's header (no pixels) as :func:`facefinder.core.images.load_photo` does,
    so that the orientation is exactly the one its boxes were found under. Raises OSError, or
    ImageError for files that are not photos."""
    from PIL import Image, UnidentifiedImageError

    _register_heif()
    try:
        with Image.open(path) as im:
            w, h = im.size
            orientation = valid(im.getexif().get(0x0112, 1))
    except (UnidentifiedImageError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{path}: cannot read the photo's header ({exc})") from None
    return Geometry(w, h, orientation)


# -- writing ---------------------------------------------------------------------------------------
def write_sidecar(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; the file keeps the old one's permissions (a new
    one gets the usual ones). Raises OSError with a plain ``strerror``."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + "-", suffix=".part",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_problem(exc: OSError, sidecar: str) -> str:
    """Why a sidecar could not be written, in one line (the photo is named by the caller)."""
    name = os.path.basename(sidecar)
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM,
                                                        errno.EROFS):
        if os.path.exists(sidecar) and not os.access(sidecar, os.W_OK):
            return f"the sidecar {name} is read-only; not changed"
        folder = os.path.dirname(os.path.abspath(sidecar))
        return f"cannot write the sidecar {name} (the folder {folder} is read-only)"
    exc.filename = None
    return f"cannot write the sidecar {name} ({os_error_sentence(exc)})"
