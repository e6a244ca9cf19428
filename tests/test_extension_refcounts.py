"""The C extensions the core calls in loops (LiteRT's invoke, hnswlib's add_items and
knn_query, Pillow, pillow-heif) do not lose references to None, True or False, nor memory: the
same class of bug as PySide6 6.12.0's (issue 8), which aborts Python 3.11. Each is called a few
thousand times in a fresh process (tests/extension_probe.py), so that a crash fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import FACES, REPO

def tolerance(calls: int) -> int:
    """How far a count may move over a loop: a leak moves it by about ``calls`` (or more);
    caches and registries the libraries touch move it by a few dozen at most (Pillow's
    loader: -6 to -21 over 1,000 calls)."""
    return max(5, min(100, calls // 10))



RSS_GROWTH_MIB = 4.0  # per loop; ~1 KiB leaked per call would show
INDEX_GROWTH_MIB = 12.0  # add_items: the index itself holds ~1 KiB per vector (5000 added)
EXPECTED = {"LiteRT": 4, "hnswlib": 3, "Pillow": 2, "pillow-heif": 1}


@pytest.mark.slow
def test_extensions_keep_counts_and_memory(tmp_path, shared_data):
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "extension_probe.py"),
                           str(tmp_path), str(FACES)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    cases = [c for c in lines if "case" in c]
    report = "\n".join(json.dumps(c) for c in cases)
    assert proc.returncode == 0, (f"the probe died (status {proc.returncode}):\n{report}\n"
                                  f"{proc.stderr[-2500:]}")
    assert lines[-1] == {"done": True}, report
    expected = dict(EXPECTED)
    if any("skipped" in c for c in lines):  # no pillow-heif here (it is the heif extra)
        expected.pop("pillow-heif")
    for library, n in expected.items():
        assert sum(c["case"].startswith(library + " ") for c in cases) == n, (library, report)
    assert all(c["calls"] >= 1000 for c in cases if "FaceNet" not in c["case"]), report
    for c in cases:
        assert all(abs(d) <= tolerance(c["calls"]) for d in c["drift"].values()), c
        bound = INDEX_GROWTH_MIB if "add_items" in c["case"] else RSS_GROWTH_MIB
        assert c["rss_growth_mib"] <= bound, c
