"""What keeps a large library fast and small: the model leaves memory before the index comes in,
and ``facefinder bench scale`` runs end to end (its figures are the README's, not asserted here).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import HOPKINS_1, HOPKINS_2, REPO, copy_faces


def test_unloading_the_model_frees_it_and_the_next_query_loads_it_again(engine):
    from facefinder.core.pipeline import Engine

    mine = Engine()
    _, faces, _ = mine.query_face(HOPKINS_1)
    mine.unload()
    assert not mine.loaded
    _, again, _ = mine.query_face(HOPKINS_1)
    assert mine.loaded
    np.testing.assert_allclose(again[0].embedding, faces[0].embedding, atol=1e-6)


@pytest.mark.slow
def test_bench_scale_runs_and_reports_every_figure(tmp_path):
    data = tmp_path / "data"
    copy_faces(data / "faces", ["al_gore", "bill_clinton", "david_beckham"], per_person=4)
    (data / "faces" / "anthony_hopkins").mkdir()
    for photo in (HOPKINS_1, HOPKINS_2):
        (data / "faces" / "anthony_hopkins" / photo.name).write_bytes(photo.read_bytes())
    keep = tmp_path / "kept"
    cmd = [sys.executable, "-m", "facefinder.cli", "bench", "scale", "--faces", "300",
           "--keep", str(keep), "--json", "--queries", "20", "--data", str(data)]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    for key in ("faces", "build_faces_per_s", "disk_mb", "cold_search_s", "cold_rss_mb",
                "p50_ms", "p99_ms", "recall_at_10", "same_person_recall", "people_first_s",
                "people_first_rss_mb", "people_new10_s"):
        assert key in report, key
    # (Statistics from 14 photos make odd people: only the plumbing is checked here.)
    assert report["faces"] == 300 and report["people_grouped_faces"] == 300
    assert 0 < report["recall_at_10"] <= 1 and 0 <= report["people_new10_joined"] <= 10
    assert report["cold_rss_mb"] > 100 and report["people_first_s"] > 0
    # A second run reuses the kept library.
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900)
    assert again.returncode == 0, again.stderr
    assert "reusing the library" in again.stderr
