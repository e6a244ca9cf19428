"""`facefinder people ACTION` (hide, unhide, undo, cover, review, add-face, together, search),
`people --min-size`, `search --combine` and `bench combine`, on real photos through the real
model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import FACES, index_people_with_groups
from facefinder import cli
from facefinder.bench_grouping import largest_faces
from facefinder.core import people
from facefinder.core.library import Library

PEOPLE = ["al_gore", "bill_clinton", "david_beckham"]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, engine) -> Path:
    return index_people_with_groups(tmp_path_factory.mktemp("clitools"), engine, PEOPLE, group=True)


@pytest.fixture
def path(indexed, tmp_path) -> str:
    shutil.copytree(indexed / "lib", tmp_path / "lib")
    return str(tmp_path / "lib")


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _identity_people(path: str) -> dict[str, int]:
    with Library.open(path, None, create=False) as lib:
        ids, labels = largest_faces(lib)
        owners = people.person_of(lib, ids.tolist())
        return {who: owners[f][0] for f, who in zip(ids.tolist(), labels) if who in PEOPLE}


def test_list_min_size_hide_unhide_undo(path, capsys):
    code, out, _ = _run(capsys, "people", "-L", path, "--json", "--min-size", "1")
    everyone = json.loads(out)["total"]
    code, out, err = _run(capsys, "people", "-L", path, "--json")  # default: 2
    listed = json.loads(out)
    assert listed["total"] < everyone and min(p["size"] for p in listed["people"]) >= 2
    assert "fewer than 2 faces" in err
    gore = _identity_people(path)["al_gore"]
    assert _run(capsys, "people", "-L", path, "hide", str(gore))[1] == "Hid 1 person.\n"
    ids = {p["id"] for p in json.loads(_run(capsys, "people", "-L", path, "--json")[1])["people"]}
    assert gore not in ids
    ids = {p["id"] for p in json.loads(_run(capsys, "people", "-L", path, "--json",
                                            "--hidden")[1])["people"]}
    assert gore in ids
    code, out, _ = _run(capsys, "people", "hide", "-L", path, "--below", "3")
    assert code == 0 and out.startswith("Hid ")
    assert json.loads(_run(capsys, "people", "-L", path, "--json", "--min-size", "1")[1])[
        "total"] == len([p for p in listed["people"] if p["size"] >= 3 and p["id"] != gore])
    assert _run(capsys, "people", "-L", path, "undo")[1] == "Undid the last hiding.\n"
    assert _run(capsys, "people", "-L", path, "unhide")[1] == \
        "Showing 1 hidden person again.\n"
    assert json.loads(_run(capsys, "people", "-L", path, "--json", "--min-size", "1")[1])[
        "total"] == everyone
    code, _, err = _run(capsys, "people", "-L", path, "hide", "nobody")
    assert code == 1 and "no person called 'nobody'" in err


def test_review_answers_cover_and_undo(path, capsys):
    who = _identity_people(path)
    gore = who["al_gore"]
    with Library.open(path, None, create=False) as lib:
        faces = people.person_faces(lib, gore)
        # Two of Gore's photos taken out into a group of their own (no exclusion), as if the
        # grouping had split him; then the user names him.
        for f in faces[-2:]:
            people.move_out(lib, f, log=False)
        with lib.transaction() as cur:
            cur.execute("DELETE FROM face_exclusion")
        people.rename(lib, gore, "Al Gore")
    code, out, _ = _run(capsys, "people", "-L", path, "review")
    queue = _lines(out)
    assert code == 0 and {q["face_id"] for q in queue[:2]} == set(faces[-2:])
    assert {"face_id", "person_id", "name", "distance", "image_path", "box"} <= set(queue[0])
    assert queue[0]["name"] == "Al Gore"
    first, second = queue[0]["face_id"], queue[1]["face_id"]
    assert _run(capsys, "people", "-L", path, "review", "--answer", str(first), "yes")[0] == 0
    assert _run(capsys, "people", "-L", path, "review", "--person", "al gore", "--answer",
                str(second), "no")[0] == 0
    queue = _lines(_run(capsys, "people", "-L", path, "review", "--person", "Al Gore")[1])
    assert not {first, second} & {q["face_id"] for q in queue}
    with Library.open(path, None, create=False) as lib:
        assert people.person_of(lib, [first])[first][0] == gore
        assert people.person_of(lib, [second])[second][0] != gore
    code, _, err = _run(capsys, "people", "-L", path, "review", "--answer", str(first), "maybe")
    assert code == 2 and "yes, no or skip" in err
    assert _run(capsys, "people", "-L", path, "undo")[1] == "Undid the last review answer.\n"
    queue = _lines(_run(capsys, "people", "-L", path, "review", "--person", "Al Gore")[1])
    assert second in {q["face_id"] for q in queue}
    code, out, _ = _run(capsys, "people", "-L", path, "cover", "Al Gore", str(faces[2]))
    assert code == 0
    listed = json.loads(_run(capsys, "people", "-L", path, "--json", "--faces", "1")[1])
    assert [p["faces"][0]["face_id"] for p in listed["people"] if p["id"] == gore] == [faces[2]]


def test_add_face_together_and_searches(path, capsys, tmp_path):
    with Library.open(path, None, create=False) as lib:
        rows = lib.face_rows([f for (f,) in lib.query("SELECT id FROM faces")])
        group = sorted((r for r in rows.values() if "dlib_2008_001322" in r.path),
                       key=lambda r: -r.box[2] * r.box[3])
        owners = people.person_of(lib, [r.face_id for r in group])
        a, b = owners[group[0].face_id][0], owners[group[1].face_id][0]
        people.rename(lib, a, "First")
        people.rename(lib, b, "Second")
        before = lib.face_count()
    code, out, err = _run(capsys, "people", "-L", path, "together", "First", "Second")
    assert code == 0 and [x["image_path"] for x in _lines(out)] == [group[0].path]
    assert "1 photo with all of First, Second" in err
    # A face drawn by hand (the detector's own box of a face, drawn again), named.
    x, y, w, h = group[2].box
    code, out, _ = _run(capsys, "people", "-L", path, "add-face", group[2].path, "--box",
                        f"{x},{y},{w},{h}", "--name", "Third")
    assert code == 0 and "Added face" in out
    with Library.open(path, None, create=False) as lib:
        assert lib.face_count() == before + 1
        named = {n for (n,) in lib.query("SELECT name FROM people WHERE name IS NOT NULL")}
        assert "Third" in named
    code, _, err = _run(capsys, "people", "-L", path, "add-face", group[2].path, "--box", "1,2")
    assert code == 1 and "x,y,w,h" in err
    # Search with two photos of Gore: his other photos come first, either way of combining.
    gore = sorted((FACES / "al_gore").iterdir())[:2]
    for combine in ("any", "mean"):
        code, out, _ = _run(capsys, "search", "-L", path, "--combine", combine, "-k", "5",
                            "--json", *map(str, gore))
        hits = _lines(out)
        assert code == 0 and len(hits) == 5
        assert all("al_gore" in h["image_path"] for h in hits), combine
        # Each result judged as `search --json` judges them: Gore's other photos are "same".
        assert all(h["same_person"] and h["verdict"] == "same person" for h in hits), combine
    who = _identity_people(path)
    with Library.open(path, None, create=False) as lib:
        people.rename(lib, who["bill_clinton"], "Bill")
        mine = set(people.person_faces(lib, who["bill_clinton"]))
    code, out, _ = _run(capsys, "people", "-L", path, "search", "Bill", "-k", "3")
    assert code == 0 and len(_lines(out)) == 3
    assert not mine & {h["face_id"] for h in _lines(out)}
    assert all(h["same_person"] == (h["verdict"] == "same person") for h in _lines(out))


def test_bench_combine(path, capsys):
    code, out, _ = _run(capsys, "bench", "combine", path, "--queries", "1", "2", "--trials",
                        "3", "--json")
    scores = json.loads(out)
    assert code == 0 and {(s["combine"], s["queries"]) for s in scores} == {
        ("any", 1), ("mean", 1), ("any", 2), ("mean", 2)}
    assert all(0.5 < s["map"] <= 1.0 for s in scores)
