"""Camera-size test photos made from the shared real faces, with the faces' places known.

The benchmarks and the tests need 12-megapixel photos whose right answer is known. These are
composed from real photos (``data/faces``, ``data/groups``, ``data/nonfaces``): a real scene
scaled up to the camera's size, real faces pasted into it, sensor-like grain over everything
(so that the JPEGs are as large and as slow to decode as a camera's: 2-4 MB, not the 0.3 MB a
smooth synthetic picture gives), saved as JPEG at quality 92.

Every function returns ``{file name: [truth rectangles (x, y, w, h)]}`` in photo pixels; a face
counts as found when a detected box's centre lies inside its rectangle (:func:`found`).

:func:`synthetic_embeddings` makes FaceNet-like vectors around real ones, for the index and
Qdrant benchmarks (no photos).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

CAMERA_SIZE = (4000, 3000)
_SCENES = ("sklearn_china.jpg", "sklearn_flower.jpg", "skimage_rocket.jpg", "skimage_coffee.png",
           "skimage_chelsea.png", "skimage_brick.png", "skimage_grass.png", "skimage_gravel.png")


def lfw_faces(data: Path) -> list[Path]:
    """The LFW deep-funneled photos: 250x250, one face centred in each (about 110 px wide)."""
    return sorted(p for p in (data / "faces").glob("*/*.jpg") if "lfwdeepfunneled" in p.name)


LFW_FACE_WIDTH = 0.44
"""Width of the centred face box in an LFW deep-funneled photo, as a fraction of its side (the
detector's box is about 110 px of 250)."""


def _scene(data: Path, rng: random.Random, size: tuple[int, int]):
    """A real scene without faces, scaled up to ``size`` (an RGB PIL image)."""
    from PIL import Image

    name = rng.choice(_SCENES)
    return Image.open(data / "nonfaces" / name).convert("RGB").resize(size, Image.BICUBIC)


def _grain(image, sigma: float = 5.0):
    """Add Gaussian grain (the same on the three channels, like luminance noise)."""
    from PIL import Image, ImageChops

    noise = Image.effect_noise(image.size, sigma).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def _paste_lfw(canvas, source: Path, x: int, y: int, side: int) -> tuple[int, int, int, int]:
    """Paste an LFW photo scaled to ``side`` px at (x, y); the truth rectangle is its middle,
    where the photo's own face is (background people near its edges are not counted)."""
    from PIL import Image

    face = Image.open(source).convert("RGB").resize((side, side), Image.BICUBIC)
    canvas.paste(face, (x, y))
    m = round(side * 0.2)
    return (x + m, y + m, side - 2 * m, side - 2 * m)


def make_camera_corpus(data: Path, out: Path, n_photos: int, seed: int = 0,
                       size: tuple[int, int] = CAMERA_SIZE) -> dict[str, list[tuple[int, ...]]]:
    """``n_photos`` camera-like JPEGs of ``size`` (default 4000x3000) with 1-4 real faces each,
    about 2.5 on average: one face is a portrait (face about 260-600 px wide), two a couple
    (175-400 px), three or four a group (110-260 px)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sources = lfw_faces(data)
    w, h = size
    truth = {}
    for i in range(n_photos):
        canvas = _scene(data, rng, size)
        count = rng.choice((1, 2, 2, 3, 3, 4))
        lo, hi = {1: (600, 1350), 2: (400, 900)}.get(count, (250, 600))
        cell_w = w // count
        rects = []
        for j in range(count):
            side = rng.randrange(lo, min(hi, cell_w - 40))
            x = j * cell_w + rng.randrange(20, cell_w - side - 20)
            y = rng.randrange(h // 10, h - side - h // 10)
            rects.append(_paste_lfw(canvas, rng.choice(sources), x, y, side))
        name = f"camera_{i:03d}.jpg"
        _grain(canvas).save(out / name, quality=92)
        truth[name] = rects
    return truth


def make_small_faces_photos(data: Path, out: Path, seed: int = 0,
                            size: tuple[int, int] = CAMERA_SIZE) -> dict[str, list[tuple]]:
    """12-megapixel photos whose faces are 55-110 px wide, the smallest the indexer must find:

    - ``pasted_small.jpg``: twelve real faces (LFW) scaled so that each face is 55-110 px wide,
      spread over a real scene;
    - ``group_<name>_55.jpg`` and ``group_<name>_110.jpg``: each real group photo of
      ``data/groups`` scaled so that its smallest face is 55 px wide, and so that its largest is
      110 px wide (the others then fall between), set into a scene.

    The truth rectangles of the group photos are the faces the detector finds in the original
    group photo (so every face found at the original size must be found in the large one),
    scaled."""
    from PIL import Image

    from .core.detect import Detector
    from .core.images import load_photo

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    w, h = size
    truth: dict[str, list[tuple]] = {}

    canvas = _scene(data, rng, size)
    sources = rng.sample(lfw_faces(data), 12)
    rects = []
    for k, src in enumerate(sources):
        face_w = 55 + round(55 * k / (len(sources) - 1))  # 55 ... 110 px
        side = round(face_w / LFW_FACE_WIDTH)
        x = (k % 4) * (w // 4) + rng.randrange(40, w // 4 - side - 40)
        y = (k // 4) * (h // 3) + rng.randrange(40, h // 3 - side - 40)
        rects.append(_paste_lfw(canvas, src, x, y, side))
    _grain(canvas).save(out / "pasted_small.jpg", quality=92)
    truth["pasted_small.jpg"] = rects

    detector = Detector()
    for group in sorted((data / "groups").iterdir()):
        photo = load_photo(group)
        faces = [f for f in detector.detect(photo) if f.box[2] >= 30]  # not the 14 px blur
        widths = [f.box[2] for f in faces]
        for target, scale in ((55, 55 / min(widths)), (110, 110 / max(widths))):
            gw, gh = round(photo.width * scale), round(photo.height * scale)
            canvas = _scene(data, rng, size)
            x0, y0 = rng.randrange(0, w - gw), rng.randrange(0, h - gh)
            canvas.paste(photo.image.resize((gw, gh), Image.BICUBIC), (x0, y0))
            name = f"group_{group.stem}_{target}.jpg"
            _grain(canvas).save(out / name, quality=92)
            truth[name] = [(x0 + bx * scale, y0 + by * scale, bw * scale, bh * scale)
                           for bx, by, bw, bh in (f.box for f in faces)]
    return truth


def found(truth: dict[str, list[tuple]], boxes_by_name: dict[str, list[tuple]]
          ) -> tuple[int, int, list[tuple[str, tuple]]]:
    """``(found, total, missed)``: truth rectangles with a detected box ``(x, y, w, h)`` whose
    centre lies inside them, how many there are, and the ones missed ``(name, rect)``."""
    hit, missed = 0, []
    for name, rects in truth.items():
        boxes = boxes_by_name.get(name, [])
        for (x, y, w, h) in rects:
            if any(x < bx + bw / 2 < x + w and y < by + bh / 2 < y + h
                   for bx, by, bw, bh in boxes):
                hit += 1
            else:
                missed.append((name, (x, y, w, h)))
    total = sum(len(r) for r in truth.values())
    return hit, total, missed


def synthetic_embeddings(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors around real FaceNet embeddings (each a real face plus noise that moves
    it ~0.6 away, the spread of one person's photos), so the index sees realistic structure."""
    rng = np.random.default_rng(seed)
    base = real[rng.integers(0, len(real), n)]
    v = base + rng.standard_normal(base.shape).astype(np.float32) * 0.045
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
