"""One search with several faces of one person: several photos (File > Search with photos of one
person…) and a person's own faces (People: "Search with this person"). Real model, real photos."""

from __future__ import annotations

from helpers import FACES, copy_faces
from guihelpers import JOB_TIMEOUT, index

PERSON = "elton_john"
OTHERS = ["madonna", "ben_affleck", "jerry_seinfeld"]


def _folder(tmp_path):
    folder = tmp_path / "photos"
    copy_faces(folder, [PERSON] + OTHERS, per_person=6)
    return folder


def test_several_photos_of_one_person_search_as_one(qtbot, window, tmp_path):
    index(qtbot, window, _folder(tmp_path))
    # Not in the library; one of them has no face the detector finds: it is passed over.
    queries = [str(p) for p in sorted((FACES / PERSON).iterdir())[10:13]]
    failed, done = [], []
    window.client.searchFailed.connect(lambda *a: failed.append(a))
    window.client.searchDone.connect(lambda *a: done.append(a))
    window.client.search_photos("default", queries, k=10)
    qtbot.waitUntil(lambda: bool(failed or done), timeout=JOB_TIMEOUT)
    assert not failed
    outcome = done[0][1]
    assert outcome.path in queries and outcome.boxes
    top = [h.face.path for h in outcome.hits[:6]]
    assert sum(PERSON in p for p in top) >= 5, top
    assert all(PERSON in h.face.path for h, v in zip(outcome.hits, _verdicts(outcome)) if v.same)


def _verdicts(outcome):
    return [outcome.judge.verdict(h.distance, min(h.face.box[2:])) for h in outcome.hits]
