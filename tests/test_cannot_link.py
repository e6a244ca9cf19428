"""Cannot-link: two faces of one photo are never grouped as one person (issue 14).

The group photos of ../shared/data through the real model, grouped at a loose threshold where
faces of one photo would otherwise chain together; the exact path, the large-library path
(neighbours through the index) and new faces placed incrementally. Plus the rule itself on
synthetic vectors.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, GROUPS
from facefinder.core import grouping, people
from facefinder.core.library import Library
from facefinder.core.scan import index_folder

LOOSE = 1.3  # looser than the default 1.0: faces of one photo come within reach of each other


def _index(lib: Library, engine, folder: Path) -> None:
    for _ in index_folder(lib, engine, folder):
        pass


def _same_photo_pairs(lib: Library) -> list[tuple]:
    """(person, photo, faces) where a person holds two faces of one photo."""
    return lib.query(
        "SELECT fp.person_id, f.photo_id, COUNT(*) FROM face_person fp JOIN faces f "
        "ON f.id = fp.face_id GROUP BY fp.person_id, f.photo_id HAVING COUNT(*) > 1")


@pytest.fixture(scope="module")
def groups_lib(tmp_path_factory, engine) -> Path:
    root = tmp_path_factory.mktemp("cannot")
    shutil.copytree(GROUPS, root / "photos" / "groups")
    (root / "photos" / "people").mkdir()
    for who in ("al_gore", "bill_clinton"):
        for src in sorted((FACES / who).iterdir())[:3]:
            shutil.copyfile(src, root / "photos" / "people" / src.name)
    with Library(root / "lib", engine.fingerprint) as lib:
        _index(lib, engine, root / "photos")
    return root / "lib"


@pytest.fixture
def lib(groups_lib, tmp_path, engine):
    shutil.copytree(groups_lib, tmp_path / "lib")
    lib = Library(tmp_path / "lib", engine.fingerprint)
    yield lib
    lib.close()


def _photo_classes(lib: Library, ids: np.ndarray, min_face: int) -> np.ndarray:
    rows = dict(lib.query("SELECT id, photo_id FROM faces"))
    return np.asarray([rows[int(f)] for f in ids], np.int64)


def test_group_photos_would_chain_without_the_rule(lib):
    """The data makes the test meaningful: without the rule, the loose grouping puts faces of one
    group photo together; with it, never."""
    ids, emb, boxes = lib.all_embeddings()[0], lib.all_embeddings()[1], None
    apart = _photo_classes(lib, ids, 0)
    shared = np.bincount(np.unique(apart, return_inverse=True)[1])
    assert (shared >= 2).sum() >= 4 and shared.max() >= 6, "group photos: several faces each"
    loose = grouping.group_labels(emb, 1.45)
    mixed = {(a, l) for a, l in zip(apart.tolist(), loose.tolist())}
    assert len(mixed) < len(apart), "without the rule no two faces of a photo chained together"
    kept = grouping.group_labels(emb, 1.45, apart=apart)
    assert len({(a, l) for a, l in zip(apart.tolist(), kept.tolist())}) == len(apart)
    assert len(set(kept.tolist())) < len(kept)  # and it still groups (Gore's, Clinton's photos)


def test_full_grouping_keeps_faces_of_one_photo_apart(lib):
    people.cluster(lib, threshold=1.45, min_face=0)
    assert _same_photo_pairs(lib) == []
    sizes = [p.size for p in people.people(lib)]
    assert max(sizes) >= 3  # the three photos of one man still make one person


def test_large_library_path_keeps_faces_of_one_photo_apart(lib, monkeypatch):
    monkeypatch.setattr(people, "EXACT_LIMIT", 5)
    people.cluster(lib, threshold=1.45, min_face=0, full=True)
    assert _same_photo_pairs(lib) == []
    monkeypatch.setattr(lib, "index_graph", lambda: None)  # neighbours searched instead
    people.cluster(lib, threshold=1.45, min_face=0, full=True)
    assert _same_photo_pairs(lib) == []


def test_new_faces_never_join_the_person_of_a_face_of_their_photo(tmp_path, engine):
    """Faces placed incrementally: a group photo indexed after the others were grouped."""
    photos = tmp_path / "photos"
    photos.mkdir()
    group = sorted(GROUPS.iterdir())
    shutil.copyfile(group[0], photos / group[0].name)
    with Library(tmp_path / "lib", engine.fingerprint) as lib:
        _index(lib, engine, photos)
        people.cluster(lib, threshold=1.45, min_face=0)
        assert _same_photo_pairs(lib) == []
        for src in group[1:]:
            shutil.copyfile(src, photos / src.name)
        _index(lib, engine, photos)
        summary = people.cluster(lib, threshold=1.45, min_face=0)
        assert summary.placed > 0 and not summary.full
        assert _same_photo_pairs(lib) == []


def test_a_new_face_is_kept_from_its_photo_mates_person_outside_the_graph(tmp_path):
    """Plumbing: a photo mate placed earlier (not a neighbour) still forbids its person."""
    from facefinder.core.pipeline import Face, PhotoResult

    rng = np.random.default_rng(0)
    centre = rng.normal(size=128)
    vecs = centre + rng.normal(0, 0.05, (3, 128))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    with Library(tmp_path / "lib", "fp") as lib:
        a = lib.store_results([(PhotoResult(str(tmp_path / "a.jpg"), [
            Face((0, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32), vecs[0]),
            Face((60, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32), vecs[1])], None, 200, 100),
            1, 1)])
        people.cluster(lib)
        owners = people.person_of(lib, a)
        assert owners[a[0]][0] != owners[a[1]][0]
        # One more face of the same photo, close to both: it joins neither.
        new = lib.add_faces(str(tmp_path / "a.jpg"), [
            Face((120, 0, 50, 50), 0.99, np.zeros((5, 2), np.float32), vecs[2])])
        people.cluster(lib)
        owners = people.person_of(lib, a + new)
        assert len({owners[f][0] for f in a + new}) == 3
