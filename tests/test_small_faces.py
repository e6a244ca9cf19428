"""Small faces in 12-megapixel photos are still found: the indexer searches large photos on a
900 px copy (its smallest face is then 53 px), and faces of 55-110 px must come through.

The photos are made from real ones (facefinder.synthetic): twelve real faces scaled to 55-110 px
wide in a 4000x3000 scene, and each real group photo of the shared data scaled so that its
smallest face is 55 px wide, and so that its largest is 110; every face the detector finds in
the original group photo must be found in the 12-megapixel one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SHARED_DATA
from facefinder.core.facenet import fingerprint
from facefinder.core.library import Library
from facefinder.core.scan import index_folder
from facefinder.synthetic import found, make_small_faces_photos


@pytest.fixture(scope="module")
def small_faces(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small-faces")
    return folder, make_small_faces_photos(SHARED_DATA, folder)


def test_the_photos_hold_faces_of_55_to_110_px(small_faces):
    folder, truth = small_faces
    widths = [r[2] for rects in truth.values() for r in rects]
    assert len(truth) == 9 and len(widths) >= 45
    # the pasted faces' truth is the middle of each pasted photo; the group faces' is the box
    group = [r[2] for name, rects in truth.items() if name.startswith("group_") for r in rects]
    assert 54 < min(group) < 56 and 109 < max(group) < 111
    for name in truth:
        from PIL import Image

        assert Image.open(folder / name).size == (4000, 3000)


def test_every_small_face_of_a_12_megapixel_photo_is_indexed(engine, small_faces, tmp_path):
    folder, truth = small_faces
    library = Library(tmp_path / "lib", fingerprint())
    *_, last = index_folder(library, engine, folder)
    assert last.summary.processed == len(truth) and not last.summary.skipped
    boxes: dict[str, list] = {}
    for path, box, _, _ in library.export_rows():
        boxes.setdefault(Path(path).name, []).append(box)
    hit, total, missed = found(truth, boxes)
    assert hit == total, missed
    # and they are faces of that size, not a large box that happens to cover them
    for name, rects in truth.items():
        for x, y, w, h in rects:
            box = next(b for b in boxes[name]
                       if x < b[0] + b[2] / 2 < x + w and y < b[1] + b[3] / 2 < y + h)
            assert box[2] < 2.2 * w, (name, box, (x, y, w, h))
