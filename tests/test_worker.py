"""The worker process (facefinder.worker) on its own, with Qt blocked: the job in on stdin, JSON
lines out on stdout, cancel by message, and end of input as cancel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import REPO, copy_faces
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

    from conftest import HOPKINS_1

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
