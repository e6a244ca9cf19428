"""The ablation harness (``facefinder evaluate``) on a small labelled subset: a smoke run of the
real thing (real model, real photos), its report, and its on-disk cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from helpers import REPO, copy_faces

PEOPLE = ["al_gore", "ana_palacio", "andre_agassi", "ari_fleischer", "anthony_hopkins"]


def test_evaluate_quick_reports_every_section_and_caches(tmp_path):
    data = tmp_path / "faces"
    copy_faces(data, PEOPLE, 4)
    cache = tmp_path / "cache"
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "facefinder.cli", "evaluate", str(data), "--quick", "-q",
           "--cache", str(cache), "--json", str(out)]
    t0 = time.perf_counter()
    first = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900,
                           env=dict(os.environ))
    cold = time.perf_counter() - t0
    assert first.returncode == 0, first.stderr
    report = json.loads(out.read_text())
    assert report["photos"] == 18 and report["people"] == 5  # Hopkins has two photos
    names = [r["name"] for r in report["crops"]]
    assert names == ["fixed 44 px (article)", "25% of the box"]
    for row in report["crops"] + report["on_top"]:
        assert 0 <= row["p_at_1"] <= 1 and 0 <= row["map"] <= 1
        assert 0.5 <= row["verification"] <= 1 and 0.4 <= row["threshold"] <= 1.6
        assert row["ms_per_face"] > 0 and row["facenet_passes"] in (1, 2)
    flip = next(r for r in report["on_top"] if "flip, query only" in r["name"])
    assert flip["facenet_passes"] == 1  # flip at query time costs nothing at index time
    assert [r["side"] for r in report["small_faces"]] == [24, 40]
    assert set(report["calibration"]) == {"article", "rel25"}
    assert report["lists"][0]["name"] == "calibrated rule"
    assert 0 <= report["lists"][0]["same_precision"] <= 1
    assert report["shipped_threshold"]["threshold"] == 1.165
    # The tables are printed as they come.
    assert "| variant | P@1 | mAP |" in first.stdout and "badge in top-20 lists" in first.stdout
    # Detections and embeddings were cached: a second run does not detect or embed again.
    assert any(p.name.startswith("detections-") for p in cache.iterdir())
    t0 = time.perf_counter()
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900,
                            env=dict(os.environ))
    assert second.returncode == 0, second.stderr
    assert json.loads(out.read_text())["crops"][1]["p_at_1"] == report["crops"][1]["p_at_1"]
    assert time.perf_counter() - t0 < cold
