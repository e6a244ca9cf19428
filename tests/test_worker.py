"""The worker process (facefinder.worker) on its own, with Qt blocked: the job in on stdin, JSON
lines out on stdout, cancel by message, end of input as cancel, the library upgrade killed and
resumed, the core's notices forwarded, and the model server's answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from helpers import REPO, copy_faces
from test_architecture import BLOCK_QT

PEOPLE = ["al_gore", "bill_clinton", "condoleezza_rice"]


def _start(env_dir) -> subprocess.Popen:
    code = BLOCK_QT + "from facefinder.worker import main\nsys.exit(main())\n"
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(env_dir), PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _send(proc, obj) -> None:
    proc.stdin.write(json.dumps(obj) + "\n")
    proc.stdin.flush()


def test_worker_indexes_and_reports_in_json_lines(tmp_path):
    folder = tmp_path / "photos"
    copy_faces(folder, PEOPLE, per_person=2)
    proc = _start(tmp_path / "data")
    _send(proc, {"job": "index", "library": "w", "params": {"folder": str(folder)}})
    lines = [json.loads(line) for line in proc.stdout]  # every stdout line is a JSON object
    proc.stdin.close()
    assert proc.wait(60) == 0, proc.stderr.read()
    types = [m["type"] for m in lines]
    assert types[0] == "hello" and lines[0]["pid"] == proc.pid
    assert types[-1] == "done" and "progress" in types
    progress = [m["data"] for m in lines if m["type"] == "progress"]
    assert progress[-1]["done"] == 6 and progress[-1]["total"] == 6
    assert any(p["last_faces"] for p in progress)
    path, box = next(p["last_faces"][0] for p in progress if p["last_faces"])
    assert os.path.isfile(path) and len(box) == 4
    summary = lines[-1]["summary"]
    assert lines[-1]["kind"] == "IndexSummary"
    assert summary["processed"] == 6 and summary["faces_added"] >= 6
    assert not summary["cancelled"] and lines[-1]["stats"]["photos"] == 6


def test_worker_stops_after_the_batch_when_cancelled_or_left(tmp_path):
    folder = tmp_path / "photos"
    copy_faces(folder, ["abdullah_gul", "adrien_brody", "alejandro_toledo", "ali_naimi"],
               per_person=6)
    for how in ("cancel", "eof"):
        proc = _start(tmp_path / "data")
        _send(proc, {"job": "index", "library": how, "params": {"folder": str(folder)}})
        done = None
        for line in proc.stdout:
            m = json.loads(line)
            if m["type"] == "progress" and m["data"]["done"] >= 2 and not proc.stdin.closed:
                if how == "cancel":
                    _send(proc, {"op": "cancel"})
                proc.stdin.close()  # "eof": the app went away
            if m["type"] == "done":
                done = m
        assert proc.wait(60) == 0, proc.stderr.read()
        assert done is not None and done["summary"]["cancelled"], how
        assert 2 <= done["summary"]["processed"] < 24
        assert done["stats"]["photos"] == done["summary"]["processed"]


def test_worker_reports_errors_by_class(tmp_path):
    proc = _start(tmp_path / "data")
    _send(proc, {"job": "index", "library": "x", "params": {"folder": str(tmp_path / "nope")}})
    t0 = time.monotonic()
    lines = [json.loads(line) for line in proc.stdout]
    proc.stdin.close()
    assert proc.wait(60) == 1 and time.monotonic() - t0 < 60
    assert lines[-1]["type"] == "error" and lines[-1]["error"] == "FacefinderError"
    assert "not a folder" in lines[-1]["message"]


def test_model_server_answers_faces_exactly_as_the_engine(tmp_path, engine):
    import numpy as np

    from helpers import HOPKINS_1

    proc = _start(tmp_path / "data")
    _send(proc, {"job": "serve"})
    lines = iter(proc.stdout)
    m = json.loads(next(lines))
    while m["type"] != "ready":
        assert m["type"] in ("hello", "status"), m
        m = json.loads(next(lines))
    _send(proc, {"op": "faces", "path": str(HOPKINS_1)})
    answer = json.loads(next(lines))
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    _send(proc, {"op": "faces", "path": str(text)})
    error = json.loads(next(lines))
    proc.stdin.close()  # end of input ends the server
    assert proc.wait(60) == 0
    photo, faces = engine.faces_in_file(HOPKINS_1)
    assert answer["type"] == "faces" and (answer["width"], answer["height"]) == \
        (photo.width, photo.height)
    assert [f["box"] for f in answer["faces"]] == [list(f.box) for f in faces]
    got = np.asarray(answer["faces"][0]["embedding"], np.float32)
    assert np.array_equal(got, faces[0].embedding)  # float32 survives JSON exactly
    assert error["type"] == "error" and error["error"] == "ImageError"


def _old_library(folder, path, engine) -> int:
    """A library as an earlier facefinder left it (the article's crop, no record); its faces."""
    from facefinder.core.library import Library
    from facefinder.core.pipeline import Engine
    from facefinder.core.scan import index_folder

    with Library(path, engine.fingerprint) as lib:
        for _ in index_folder(lib, Engine(pipeline="article"), folder):
            pass
        with lib.transaction() as cur:
            cur.execute("DELETE FROM meta WHERE key='pipeline'")
        return lib.face_count()


def test_worker_upgrades_a_library_and_a_killed_upgrade_resumes(tmp_path, engine):
    from facefinder.core.library import Library
    from facefinder.core.upgrade import library_pipeline

    folder = tmp_path / "photos"
    copy_faces(folder, PEOPLE, per_person=3)
    library = tmp_path / "lib"
    faces = _old_library(folder, library, engine)
    proc = _start(tmp_path / "data")
    _send(proc, {"job": "upgrade", "library": str(library), "params": {"commit_every": 1}})
    for line in proc.stdout:
        m = json.loads(line)
        if m["type"] == "progress" and m["data"]["done"] >= 3:
            assert m["kind"] == "UpgradeProgress" and m["data"]["total"] == faces
            proc.kill()  # kill -9 mid-job: what was committed stays
            break
    proc.wait(60)
    with Library(library, None, create=False) as lib:
        assert library_pipeline(lib) == "article" and lib.face_count() == faces

    proc = _start(tmp_path / "data")
    _send(proc, {"job": "upgrade", "library": str(library), "params": {}})
    lines = [json.loads(line) for line in proc.stdout]
    proc.stdin.close()
    assert proc.wait(60) == 0, proc.stderr.read()
    done = lines[-1]
    assert done["type"] == "done" and done["kind"] == "UpgradeSummary", lines[-3:]
    s = done["summary"]
    assert s["switched"] and s["source"] == "article" and s["target"] == "rel25"
    assert s["resumed"] >= 3 and s["resumed"] + s["reembedded"] == faces == done["stats"]["faces"]
    with Library(library, None, create=False) as lib:
        assert library_pipeline(lib) == "rel25" and lib.face_count() == faces


def test_worker_forwards_the_cores_notices(tmp_path):
    """A repair the core makes in the worker (here a damaged index rebuilt) reaches the app as a
    ``notice`` line, which the app shows in its status bar."""
    folder = tmp_path / "photos"
    for damage, person in ((False, PEOPLE[0]), (True, PEOPLE[1])):
        copy_faces(folder, [person], per_person=2)  # new photos: the index is opened
        if damage:
            (tmp_path / "lib" / "faces.hnsw").write_bytes(b"not an index" * 100)
        proc = _start(tmp_path / "data")
        _send(proc, {"job": "index", "library": str(tmp_path / "lib"),
                     "params": {"folder": str(folder)}})
        lines = [json.loads(line) for line in proc.stdout]
        proc.stdin.close()
        assert proc.wait(60) == 0, proc.stderr.read()
        notices = [m["message"] for m in lines if m["type"] == "notice"]
        if damage:
            assert any("faces.hnsw" in n and "rebuilt" in n for n in notices), lines
        else:
            assert notices == []


def test_model_server_embeds_with_the_pipeline_asked(tmp_path, engine):
    """A search embeds the query the way the library was built: the request names the
    pipeline (an older library's article crop); none asked: the default."""
    import numpy as np

    from helpers import HOPKINS_1

    proc = _start(tmp_path / "data")
    _send(proc, {"job": "serve"})
    lines = iter(proc.stdout)
    while json.loads(next(lines))["type"] != "ready":
        pass
    answers = {}
    for pipeline in ("article", None):
        _send(proc, {"op": "faces", "path": str(HOPKINS_1), "pipeline": pipeline})
        answers[pipeline] = json.loads(next(lines))
    proc.stdin.close()
    assert proc.wait(60) == 0
    for pipeline, answer in answers.items():
        with engine.using(pipeline):
            _, faces = engine.faces_in_file(HOPKINS_1)
        got = np.asarray(answer["faces"][0]["embedding"], np.float32)
        assert np.array_equal(got, faces[0].embedding), pipeline
    a, b = (np.asarray(answers[p]["faces"][0]["embedding"]) for p in ("article", None))
    assert not np.allclose(a, b)
