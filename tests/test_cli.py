"""The ``facefinder`` command line, run as a user would (a real process, the real model)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from helpers import FACES, GROUPS, HOPKINS_1, HOPKINS_2, NONFACES, REPO, copy_faces, ff



@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A library of 4 people x 3 photos, the two Hopkins photos and a group photo."""
    root = tmp_path_factory.mktemp("cli")
    photos = root / "photos"
    copy_faces(photos, ["al_gore", "ana_palacio", "andre_agassi", "ari_fleischer"], 3)
    copy_faces(photos, ["anthony_hopkins"])
    (photos / "group").mkdir()
    (photos / "group" / "multi.jpg").write_bytes((GROUPS / "facenetpytorch_multiface.jpg")
                                                 .read_bytes())
    lib = root / "lib"
    out = ff("index", photos, "--library", lib, "-q")
    return photos, lib, out.stdout


def test_index_prints_a_summary(indexed):
    _, _, out = indexed
    assert "photos found:          15" in out
    assert "faces added:" in out and "skipped:               0" in out


def test_search_json(indexed):
    photos, lib, _ = indexed
    query = FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0005.jpg"  # not in the library
    out = json.loads(ff("search", query, "--library", lib, "-k", "5", "--json").stdout)
    assert set(out) >= {"query", "results"}
    assert out["query"]["image_path"] == str(query)
    assert out["query"]["quality"] == "ok" and out["pipeline"] == "rel25"
    results = out["results"]
    assert [r["rank"] for r in results] == [1, 2, 3, 4, 5]
    assert all(set(r) >= {"rank", "distance", "same_person", "verdict", "expected_strangers",
                          "quality", "image_path", "box"} for r in results)
    distances = [r["distance"] for r in results]
    assert distances == sorted(distances)
    # the three other Al Gore photos come first, and are called the same person
    top3 = results[:3]
    assert all("al_gore" in r["image_path"] for r in top3)
    assert all(r["same_person"] for r in top3)
    assert not results[4]["same_person"]
    assert all(len(r["box"]) == 4 for r in results)


def test_search_several_photos_prints_one_json_line_each(indexed, tmp_path):
    _, lib, _ = indexed
    gore = FACES / "al_gore" / "lfwdeepfunneled_Al_Gore_0005.jpg"
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    proc = ff("search", gore, "/no/such.jpg", bad, NONFACES / "skimage_coffee.png", HOPKINS_2,
              "--library", lib, "-k", "3", "--json", check=False)
    lines = proc.stdout.splitlines()
    assert len(lines) == 5  # one object per photo and line, in the order given
    objs = [json.loads(line) for line in lines]
    assert [o["query"]["image_path"] for o in objs] == [
        str(gore), "/no/such.jpg", str(bad), str(NONFACES / "skimage_coffee.png"), str(HOPKINS_2)]
    assert "al_gore" in objs[0]["results"][0]["image_path"] and "error" not in objs[0]
    assert "no such file" in objs[1]["error"] and "results" not in objs[1]
    assert "not an image" in objs[2]["error"]
    assert "no face" in objs[3]["error"]
    assert objs[4]["results"][0]["distance"] < 0.01
    # Exit status 1 when any photo failed; one stderr line per failure.
    assert proc.returncode == 1
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 3
    ok = ff("search", gore, HOPKINS_2, "--library", lib, "-k", "1", "--json")
    assert ok.returncode == 0 and len(ok.stdout.splitlines()) == 2


def test_search_other_face_of_a_group_photo(indexed):
    _, lib, _ = indexed
    group = GROUPS / "facenetpytorch_multiface.jpg"
    first = json.loads(ff("search", group, "--library", lib, "-k", "1", "--json").stdout)
    faces = first["query"]["faces"]
    assert len(faces) >= 2
    # the default face is the most prominent one
    from PIL import Image

    from facefinder.core.pipeline import prominence

    chosen = first["query"]["face"]
    w, h = Image.open(group).size
    scores = [prominence(f["box"], f["confidence"], w, h) for f in faces]
    assert chosen == scores.index(max(scores))
    other = 1 if chosen != 1 else 0
    second = json.loads(ff("search", group, "--face", str(other), "--library", lib, "-k", "1",
                           "--json").stdout)
    assert second["query"]["box"] == faces[other]["box"]
    # each face finds itself in the indexed copy of the group photo
    for res, face in ((first, faces[chosen]), (second, faces[other])):
        hit = res["results"][0]
        assert hit["image_path"].endswith("multi.jpg") and hit["distance"] < 0.01
        assert hit["box"] == face["box"]


def test_search_text_output(indexed):
    _, lib, _ = indexed
    out = ff("search", HOPKINS_2, "--library", lib, "-k", "2").stdout
    assert "rank" in out and "dsfacenet_Anthony_Hopkins_0002.jpg" in out


def test_compare_json(indexed):
    out = json.loads(ff("compare", HOPKINS_1, HOPKINS_2, "--json").stdout)
    assert set(out) >= {"distance", "threshold", "same_person", "verdict",
                        "different_pairs_closer", "same_pairs_farther", "quality"}
    assert abs(out["distance"] - 0.65) <= 0.08 and out["same_person"] is True
    assert out["verdict"] == "same person" and out["different_pairs_closer"] < 1e-4
    # the article's exact preprocessing, on request: its own distance and threshold
    article = json.loads(ff("compare", HOPKINS_1, HOPKINS_2, "--json", "--crop",
                            "article").stdout)
    assert abs(article["distance"] - 0.690) < 0.005 and article["threshold"] > out["threshold"]
    other = json.loads(ff("compare", HOPKINS_1, FACES / "al_gore" /
                          "lfwdeepfunneled_Al_Gore_0001.jpg", "--json").stdout)
    assert other["same_person"] is False and other["distance"] > other["threshold"]


def test_extract_pickle_and_npz(indexed, tmp_path):
    pkl = tmp_path / "img_facenet.pkl"
    ff("extract", HOPKINS_1, HOPKINS_2, "-o", pkl)
    with open(pkl, "rb") as f:
        data = pickle.load(f)
    assert set(data) == {HOPKINS_1.name, HOPKINS_2.name}
    for v in data.values():
        assert v.shape == (128,) and v.dtype == np.float32
    d = np.linalg.norm(data[HOPKINS_1.name] - data[HOPKINS_2.name])
    assert abs(d - 0.65) <= 0.08
    # --crop article reproduces the article's pickles: its crop, the largest face
    old = tmp_path / "article.pkl"
    ff("extract", HOPKINS_1, HOPKINS_2, "-o", old, "--crop", "article")
    with open(old, "rb") as f:
        article = pickle.load(f)
    d_article = np.linalg.norm(article[HOPKINS_1.name] - article[HOPKINS_2.name])
    assert abs(d_article - 0.690) < 0.005 and abs(d_article - d) > 0.02
    npz = tmp_path / "x.npz"
    ff("extract", HOPKINS_1, HOPKINS_2, "-o", npz)
    z = np.load(npz)
    np.testing.assert_allclose(z[HOPKINS_1.name], data[HOPKINS_1.name], atol=1e-6)


def test_calibrate_reports_the_shipped_figures_on_your_photos(indexed):
    photos, _, _ = indexed
    out = json.loads(ff("calibrate", photos, "--json", "-q").stdout)
    assert out["crop"] == "rel25" and out["photos"] == 15
    shipped = out["shipped"]
    assert shipped["threshold"] == 1.165 and 0.5 <= shipped["accuracy"] <= 1
    assert len(shipped["distances"]["same"]) == len(out["distances"]["same"]) == 9
    assert set(out["different_closer"]) == {"0.7", "0.8", "0.9", "1.0", "1.1"}
    assert out["lists"]["queries"] >= 12 and 0 <= out["lists"]["precision"] <= 1
    text = ff("calibrate", photos, "-q").stdout
    assert "The shipped threshold 1.165" in text and "badge in top-20 lists" in text
    assert "none of the" in text  # no stranger that close among so few pairs: said as counts


def test_export(indexed, tmp_path):
    _, lib, _ = indexed
    out = tmp_path / "faces.npz"
    ff("export", "--library", lib, "-o", out)
    z = np.load(out)
    n = len(z["image_path"])
    assert n >= 15
    assert z["box"].shape == (n, 4) and z["box"].dtype.kind == "i"
    assert z["confidence"].shape == (n,)
    assert z["embedding"].shape == (n, 128) and z["embedding"].dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z["embedding"], axis=1), 1.0, atol=1e-4)
    assert all(Path(p).is_file() for p in z["image_path"])


def test_library_commands(indexed, tmp_path):
    _, lib, _ = indexed
    info = json.loads(ff("library", "info", "--library", lib, "--json").stdout)
    assert info["photos"] == 15 and info["faces"] >= 15
    assert info["pipeline"] == "rel25" and info["pipeline_current"] is True
    assert info["model"].startswith("facenet-20170512-110547")
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(tmp_path / "data"))
    photos = tmp_path / "p"
    copy_faces(photos, ["al_gore"], 1)
    ff("index", photos, "--library", "holidays", "-q", env=env)
    listing = ff("library", "list", env=env).stdout
    assert "holidays" in listing
    ff("library", "remove", "holidays", "--yes", env=env)
    assert "holidays" not in ff("library", "list", env=env).stdout
    assert photos.is_dir() and any(photos.rglob("*.jpg"))  # photos untouched


def test_model_info_names_provenance_and_licence():
    out = ff("model", "info").stdout
    assert "20170512-110547" in out and "MS-Celeb-1M" in out
    assert "non-commercial" in out
    assert "6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af" in out


@pytest.mark.parametrize("args, message", [
    (["search", "/no/such/photo.jpg"], "no such file"),
    (["search", NONFACES / "skimage_coffee.png"], "no face found"),
    (["compare", HOPKINS_1, REPO / "pyproject.toml"], "not an image"),
    (["index", "/no/such/folder"], "no such folder"),
])
def test_errors_are_one_clear_line(indexed, args, message):
    _, lib, _ = indexed
    if args[0] == "search":
        args = args + ["--library", lib]
    proc = ff(*args, check=False)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0] and "Traceback" not in proc.stderr


def test_library_with_other_weights_is_refused(indexed, tmp_path):
    import sqlite3
    import shutil

    _, lib, _ = indexed
    other = tmp_path / "other"
    shutil.copytree(lib, other)
    con = sqlite3.connect(other / "catalog.sqlite")
    con.execute("UPDATE meta SET value='facenet-some-other-weights' WHERE key='model'")
    con.commit()
    con.close()
    proc = ff("search", HOPKINS_1, "--library", other, check=False)
    assert proc.returncode == 1 and "another face model" in proc.stderr


def test_search_of_a_missing_library(tmp_path):
    proc = ff("search", HOPKINS_1, "--library", tmp_path / "none", check=False)
    assert proc.returncode == 1 and "No library" in proc.stderr


def test_no_model_and_no_network(tmp_path):
    env = dict(os.environ, FACEFINDER_CACHE_DIR=str(tmp_path / "empty-cache"), PIP_NO_INDEX="1",
               PIP_FIND_LINKS=str(tmp_path / "nowhere"))
    proc = ff("compare", HOPKINS_1, HOPKINS_2, check=False, env=env)
    assert proc.returncode == 1
    assert "facefinder model fetch" in proc.stderr and "Traceback" not in proc.stderr
