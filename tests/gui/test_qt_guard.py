"""The start-up guard against a PySide6 that leaks references to None (issue 8): on Python
< 3.12 the app probes PySide6 once and, if it leaks, says so on stderr and in a warning box
that names the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget

import facefinder.gui.qt_refcounts as qt_refcounts
from helpers import REPO

LEAKY = {"None": -600, "True": 0, "False": 0}  # what quick_probe() gives on 6.12.0 / 3.11

# Runs the real facefinder.gui.app.main() in a fresh process, looks at the windows once the
# event loop runs, and quits. "--fake-leak" replaces the probe's measurement by a leaking one.
APP = textwrap.dedent("""
    import json, sys
    import facefinder.gui.qt_refcounts as q
    expected = q.leaks(q.measure(300)["C++ model, role without data"], 300)
    if "--fake-leak" in sys.argv:
        q.quick_probe = lambda calls=300: {"None": -2 * calls, "True": 0, "False": 0}
        q.COUNTS_MEAN_SOMETHING = True  # as on Python 3.11, also when this runs on 3.12+
        expected = True
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox
    from facefinder.gui.app import create_app, main
    from facefinder.gui.main_window import MainWindow

    app = create_app([])

    def look():
        tops = app.topLevelWidgets()
        boxes = [w for w in tops if isinstance(w, QMessageBox) and w.isVisible()]
        window = next(w for w in tops if isinstance(w, MainWindow))
        print(json.dumps({"expected": expected, "window": window.isVisible(),
                          "boxes": [[b.windowTitle(), b.text(), b.parent() is window]
                                    for b in boxes]}), flush=True)
        window.close()
        app.quit()

    QTimer.singleShot(200, look)
    sys.exit(main([]))
""")


def _run_app(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", APP, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc, json.loads(proc.stdout.strip().splitlines()[-1])


def test_app_warns_once_about_a_leaking_pyside(tmp_path):
    """The real main(): a leaking PySide6 gets a warning box over the main window that names
    the version and the fix, and a line on stderr."""
    proc, seen = _run_app(tmp_path, "--fake-leak")
    assert seen["window"]
    assert len(seen["boxes"]) == 1, seen
    title, text, over_window = seen["boxes"][0]
    version = qt_refcounts.pyside_version()
    assert over_window and version in title and "crash" in title
    assert f"PySide6 {version}" in text and qt_refcounts.FIX in text and "3.12" in text
    warnings = [line for line in proc.stderr.splitlines() if "WARNING: PySide6" in line]
    assert len(warnings) == 1 and qt_refcounts.FIX in warnings[0], proc.stderr[-2000:]


def test_app_probe_matches_the_installed_pyside(tmp_path):
    """Without a fake: the app warns exactly when the installed PySide6 leaks (never on Python
    3.12+, where it cannot crash), so a clean install starts with no box."""
    proc, seen = _run_app(tmp_path)
    expected = seen["expected"] and qt_refcounts.COUNTS_MEAN_SOMETHING
    assert bool(seen["boxes"]) == expected, (seen, proc.stderr[-2000:])
    assert ("WARNING: PySide6" in proc.stderr) == expected


@pytest.fixture
def fresh_guard(monkeypatch):
    monkeypatch.setattr(qt_refcounts, "_warned", False)
    monkeypatch.setattr(qt_refcounts, "COUNTS_MEAN_SOMETHING", True)


def test_guard_says_it_once(qtbot, monkeypatch, capsys, fresh_guard):
    monkeypatch.setattr(qt_refcounts, "quick_probe", lambda calls=300: dict(LEAKY))
    parent = QWidget()
    qtbot.addWidget(parent)
    message = qt_refcounts.warn_if_leaking(parent)
    assert message and qt_refcounts.FIX in message
    box = parent.findChild(QMessageBox, "pyside-leak-warning")
    assert box is not None and box.isVisible() and box.text() == message
    assert "WARNING: PySide6" in capsys.readouterr().err
    assert qt_refcounts.warn_if_leaking(parent) is None  # once per process
    assert capsys.readouterr().err == ""
    box.close()


def test_guard_quiet_for_a_clean_pyside_and_on_new_pythons(qtbot, monkeypatch, capsys,
                                                           fresh_guard):
    calls = []
    monkeypatch.setattr(qt_refcounts, "quick_probe",
                        lambda n=300: calls.append(n) or {"None": 2, "True": 0, "False": 0})
    assert qt_refcounts.warn_if_leaking(None) is None and calls == [300]
    monkeypatch.setattr(qt_refcounts, "quick_probe", lambda calls=300: dict(LEAKY))
    monkeypatch.setattr(qt_refcounts, "COUNTS_MEAN_SOMETHING", False)  # Python 3.12+
    assert qt_refcounts.warn_if_leaking(None) is None
    assert capsys.readouterr().err == ""


def test_quick_probe_agrees_with_the_full_measurement():
    """The real probe (no fake) gives the same verdict as measure()."""
    drifts = qt_refcounts.quick_probe(300)
    full = qt_refcounts.measure(300)["C++ model, role without data"]
    assert qt_refcounts.leaks(drifts, 600) == qt_refcounts.leaks(full, 300)
