"""Runs the real app (:func:`facefinder.gui.app.main`) in this process and plays a short user
session on it, for tests that must see the process itself end (its exit status, its stderr).

``python tests/gui/app_driver.py SCENARIO [PHOTO...]``; the environment gives the data folder
(``FACEFINDER_DATA_DIR``) and the settings folder (``XDG_CONFIG_HOME``). Keys are sent to the
window in front (:meth:`QApplication.activeWindow`), as a keyboard would. One JSON line
``{"pids": [...]}`` on stdout names the helper processes the app started (model server,
worker), so the test can check that none outlives the app.

Scenarios:

* ``start``: Ctrl+Q while the face model is still loading.
* ``windows``: search with ``PHOTO``, open People and Compare, Ctrl+Q with Compare in front.
* ``indexing``: index the folder ``PHOTO``; Ctrl+Q at the first progress.
* ``search-close``: search with ``PHOTO``, close the window (the title bar's button), then
  press Ctrl+Q again while it is closing.
* ``cli-gui``: start the app as ``facefinder gui PHOTO...`` does; when the search of the first
  photo is done, report what was searched and queued (``searched``, ``queued``), then Ctrl+Q.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from facefinder.gui import app as app_module
from facefinder.gui.main_window import MainWindow

PIDS: set[int] = set()
REPORT: dict = {}


def _ctrl_q() -> None:
    target = QApplication.activeWindow() or _window()
    QTest.keyClick(target, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)


def _window() -> MainWindow:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))


def _note_pids(w: MainWindow) -> None:
    proc = w.client.models.server.proc
    if proc is not None:
        PIDS.add(proc.pid)
    worker = w.client.worker
    if worker is not None and worker.process.processId():
        PIDS.add(int(worker.process.processId()))


def _play(scenario: str, args: list[str]) -> None:
    w = _window()
    w.activateWindow()
    if scenario == "start":
        QTimer.singleShot(200, _ctrl_q)
    elif scenario == "windows":
        def searched(*_a) -> None:
            _note_pids(w)
            w.show_people()
            dialog = w.show_compare()
            dialog.activateWindow()
            QTimer.singleShot(300, _ctrl_q)

        w.client.searchDone.connect(searched)
        w.client.searchFailed.connect(lambda *a: print("search failed", a, file=sys.stderr))
    elif scenario == "indexing":
        def progress(*_a) -> None:
            _note_pids(w)
            if not getattr(w, "_quit_sent", False):
                w._quit_sent = True
                _ctrl_q()

        w.client.indexProgress.connect(progress)
        w.client.modelReady.connect(lambda: w.client.index("default", args[0]))
    elif scenario == "search-close":
        def searched(*_a) -> None:
            _note_pids(w)
            QTimer.singleShot(0, _ctrl_q)  # queued: arrives while the window is closing
            w.close()

        w.client.searchDone.connect(searched)
    elif scenario == "cli-gui":
        def searched(_req, outcome) -> None:
            REPORT.update(searched=outcome.path, faces=len(outcome.boxes),
                          results=w.model.rowCount(), queued=list(w.queue))
            QTimer.singleShot(0, _ctrl_q)

        def failed(_req, kind, message) -> None:
            REPORT.update(failed=kind, message=message)
            QTimer.singleShot(0, _ctrl_q)

        w.client.searchDone.connect(searched)
        w.client.searchFailed.connect(failed)
    else:
        raise SystemExit(f"unknown scenario {scenario}")


def main() -> int:
    scenario, *args = sys.argv[1:]
    app = app_module.create_app([])  # noqa: F841 (main() finds it)
    QTimer.singleShot(0, lambda: _play(scenario, args))
    photos = args if scenario in ("windows", "search-close") else []
    if scenario == "cli-gui":
        from facefinder import cli

        code = cli.main(["gui", *args])
    else:
        code = app_module.main(photos)
    print(json.dumps({"pids": sorted(PIDS), **REPORT}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
