"""Builds a folder of awkward files next to real photos, for the bad-input tests."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from helpers import FACES, NONFACES

GOOD = [
    FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0001.jpg",
    FACES / "anthony_hopkins" / "dsfacenet_Anthony_Hopkins_0001.jpg",
]

# name -> the reason the summary must give (a substring of it)
EXPECTED_SKIPS = {
    "empty.jpg": "empty file",
    "truncated.jpg": "truncated",
    "not_an_image.jpg": "not an image",
    "bomb.png": "too large",
    "tiny_1x1.png": "too small",
    "broken_link.jpg": "broken symbolic link",
    "loop_link.jpg": "symbolic link loop",
    "fifo.jpg": "not a regular file",
}


def build_bad_corpus(root: Path) -> dict[str, Path]:
    """Create the corpus under ``root``; returns name -> path for every file made."""
    root.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        p = root / name
        p.write_bytes(data)
        made[name] = p

    for src in GOOD:
        shutil.copyfile(src, root / src.name)
        made[src.name] = root / src.name
    # Japanese and other non-ASCII names, a real face photo each
    jp = root / "日本語の写真.jpg"
    shutil.copyfile(GOOD[0], jp)
    made[jp.name] = jp
    accented = root / "photo café ñ.jpg"
    shutil.copyfile(GOOD[1], accented)
    made[accented.name] = accented
    # a name that is not valid UTF-8 (Linux allows any bytes but '/' and NUL)
    raw = os.fsencode(root) + b"/latin1_\xe9t\xe9.jpg"
    shutil.copyfile(GOOD[0], raw)
    made["latin1"] = Path(os.fsdecode(raw))
    # a photo with no face
    shutil.copyfile(NONFACES / "skimage_coffee.png", root / "coffee.png")
    made["coffee.png"] = root / "coffee.png"

    put("empty.jpg", b"")
    good_bytes = GOOD[0].read_bytes()
    put("truncated.jpg", good_bytes[: len(good_bytes) // 3])
    put("not_an_image.jpg", b"This is a text file, not a photo.\n" * 20)
    # A decompression bomb: a 20000 x 20000 PNG of one colour compresses to a few hundred KB.
    bomb = io.BytesIO()
    Image.new("L", (20000, 20000), 0).save(bomb, "PNG", optimize=False, compress_level=9)
    put("bomb.png", bomb.getvalue())
    tiny = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 100, 50)).save(tiny, "PNG")
    put("tiny_1x1.png", tiny.getvalue())
    # a 30000-px-wide panorama, 20 Mpx: large but legal; a face pasted in it
    pano = Image.new("RGB", (30000, 700), (90, 120, 150))
    pano.paste(Image.open(GOOD[0]).convert("RGB"), (15000, 200))
    pano.save(root / "panorama.jpg", quality=80)
    made["panorama.jpg"] = root / "panorama.jpg"
    # symlinks: broken, a loop, and a folder loop
    os.symlink(root / "does-not-exist.jpg", root / "broken_link.jpg")
    made["broken_link.jpg"] = root / "broken_link.jpg"
    os.symlink("loop_link.jpg", root / "loop_link.jpg")
    made["loop_link.jpg"] = root / "loop_link.jpg"
    sub = root / "sub"
    sub.mkdir()
    os.symlink(root, sub / "back_to_root")  # a folder loop: must not recurse forever
    shutil.copyfile(GOOD[1], sub / "nested.jpg")
    made["nested.jpg"] = sub / "nested.jpg"
    os.mkfifo(root / "fifo.jpg")  # opening it would block forever
    made["fifo.jpg"] = root / "fifo.jpg"
    # 16-bit grayscale, CMYK, palette with transparency, a GIF: all decodable
    face = np.asarray(Image.open(GOOD[0]).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(face).save(root / "gray16.png")
    made["gray16.png"] = root / "gray16.png"
    Image.open(GOOD[1]).convert("CMYK").save(root / "cmyk.jpg")
    made["cmyk.jpg"] = root / "cmyk.jpg"
    Image.open(GOOD[0]).convert("P", palette=Image.ADAPTIVE).save(root / "palette.gif")
    made["palette.gif"] = root / "palette.gif"
    return made
