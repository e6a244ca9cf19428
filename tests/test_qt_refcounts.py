"""Issue 8: PySide6-Essentials 6.12.0 loses a reference to None on every ``index.data(role)``
that has no data (and on every call of a method that returns nothing, and one to True on every
``Signal.emit()``), and on Python 3.11 the app then aborts (``none_dealloc``) within minutes.

Each test runs in a fresh process (a crash fails the test instead of killing pytest). These
fail with PySide6 6.12.0 on Python 3.11 and pass with a clean release (README, "Supported
versions").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import REPO
from facefinder.gui.qt_refcounts import COUNTS_MEAN_SOMETHING

CALLS = 3000
TOLERANCE = 20
"""How far a count may move over a case: a clean PySide6 moves None by 0 to 2 (a dictionary
made on the way); a leaking one by about -CALLS."""

CASES = 25  # what tests/qt_models_probe.py measures


def run_child(args: list[str], timeout: int) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run a script with this interpreter and this checkout first on the path; its JSON lines."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc, lines


def test_empty_data_calls_keep_none_true_false_counts():
    """Thousands of data() calls for roles without data, on a C++ model, on Python models and
    on the app's ResultsModel, PeopleModel and FacesModel, signal emissions, methods returning
    nothing, and repaints of the results grid and the People grid: the refcounts of None, True
    and False stay where they were."""
    proc, lines = run_child([str(REPO / "tests" / "qt_models_probe.py"), str(CALLS)], 300)
    header, cases = lines[0], {c["case"]: c["drift"] for c in lines if "case" in c}
    report = "\n".join(f"  {k}: {v}" for k, v in cases.items())
    where = f"Python {header['python']}, PySide6 {header['pyside6']}"
    # No crash, and every case measured (6.12.0 can abort part way on Python 3.11).
    assert proc.returncode == 0, (f"{where}: the probe died (status {proc.returncode}) after "
                                  f"{len(cases)} cases:\n{report}\n{proc.stderr[-1500:]}")
    assert lines[-1] == {"done": True} and len(cases) == CASES, report
    # Ordinary objects the models hand back keep their counts on every Python.
    objects = {k: v["object"] for k, v in cases.items() if "object" in v}
    assert len(objects) == 2 and all(d == 0 for d in objects.values()), objects
    if COUNTS_MEAN_SOMETHING:
        leaking = {k: v for k, v in cases.items()
                   if any(abs(v.get(n, 0)) > TOLERANCE for n in ("None", "True", "False"))}
        assert not leaking, (f"{where} loses references to None/True/False (drift over "
                             f"{CALLS} calls per case):\n"
                             + "\n".join(f"  {k}: {v}" for k, v in leaking.items()))
    else:
        # Python 3.12+: None, True and False are immortal, their counts never move, and the
        # leak cannot crash; what means something is that the process survived (above).
        assert all(v.get("None", 0) == 0 for v in cases.values()), report


def test_probe_module_agrees(tmp_path):
    """``python -m facefinder.gui.qt_refcounts`` (the README's measurement) reports no leak."""
    proc = subprocess.run([sys.executable, "-m", "facefinder.gui.qt_refcounts", str(CALLS)],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, QT_QPA_PLATFORM="offscreen",
                                   PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr[-1500:]
    result = json.loads(proc.stdout)
    assert result["calls"] == CALLS and len(result["drift"]) == 12
    assert result["leaks"] is False, json.dumps(result["drift"], indent=1)
