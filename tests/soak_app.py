"""The app's soak run (issue 8), run by tests/test_soak.py in a fresh process so that a crash
fails the test instead of killing pytest.

The real MainWindow on the real model, offscreen: SEARCHES searches through the window (query
photos varied, faces of group photos switched, "People, not photos" toggled, photos without a
face now and then), the results grid repainted and scrolled after each, the People window and
a person's faces repainted and scrolled, the compare dialogs opened and closed.

Usage: python tests/soak_app.py PLAN.json. The plan: ``{"settings": ini path, "library": name in
$FACEFINDER_DATA_DIR, "searches": n, "checkpoint": every n searches, "queries": [paths],
"groups": [paths], "nonfaces": [paths]}``. Prints JSON lines, flushed: ``{"checkpoint":
searches done, "None", "True", "False" (refcounts), "rss_mib", "seconds"}`` and a last line
``{"done": true, ...counts}``.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import os
import sys
import time
from helpers import rss_mib

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
faulthandler.enable()

SEARCH_TIMEOUT_MS = 60_000


def clear_caches() -> None:
    """Empty every functools.lru_cache in the process before counting. Bounded caches fill up
    with entries that hold None/False (numpy's einsum keeps 4,096 parsed shapes, and every photo
    size brings new ones): they would make the counts creep up for a long time, and this test
    is after counts that move for any other reason."""
    import functools

    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper):
            obj.cache_clear()


def main() -> int:
    plan = json.loads(open(sys.argv[1]).read())
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QAbstractItemView

    from facefinder.gui.app import create_app
    from facefinder.gui.main_window import MainWindow

    app = create_app([])
    settings = QSettings(plan["settings"], QSettings.Format.IniFormat)
    settings.setValue("library", plan["library"])
    settings.setValue("search/count", 30)
    window = MainWindow(settings)
    window.resize(1100, 720)
    window.show()
    client = window.client
    t0 = time.perf_counter()

    def wait(signals, trigger, accept=lambda args: True, timeout=SEARCH_TIMEOUT_MS):
        """Call ``trigger`` and run the event loop until one of ``signals`` carries arguments
        that ``accept`` takes; those arguments (None on timeout)."""
        loop = QEventLoop()
        got: list = []

        def seen(*args) -> None:
            if not got and accept(args):
                got.append(args)
                loop.quit()

        for s in signals:
            s.connect(seen)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        timer.start(timeout)
        trigger()
        if not got:
            loop.exec()
        timer.stop()
        for s in signals:
            s.disconnect(seen)
        return got[0] if got else None

    if wait([client.modelReady, client.modelFailed], client.load, timeout=300_000) != ():
        print(json.dumps({"error": "the model did not load"}), flush=True)
        return 2

    def settle(budget_s: float = 2.0) -> None:
        """Let the thumbnails on screen arrive (the loader crops them on the job runner's io
        lane)."""
        deadline = time.perf_counter() + budget_s
        while True:
            app.processEvents()
            if not window.loader._pending or time.perf_counter() > deadline:
                break
            time.sleep(0.02)
        app.processEvents()

    def exercise(view: QAbstractItemView) -> None:
        """Repaint the grid, scroll it to the bottom, the middle and back, repainting."""
        view.viewport().repaint()
        bar = view.verticalScrollBar()
        for value in (bar.maximum(), bar.maximum() // 2, 0):
            bar.setValue(value)
            view.viewport().repaint()
            app.processEvents()
        settle(0.5)
        view.viewport().repaint()

    counts = {"searches": 0, "answered": 0, "failed": 0, "face_switches": 0, "distinct_toggles": 0,
              "people_views": 0, "faces_views": 0, "compares": 0, "compare_windows": 0}

    def search(trigger) -> bool:
        """One search through the window; True when it gave results."""
        answer = wait([client.searchDone, client.searchFailed], trigger,
                      accept=lambda args: args[0] == window.search_id)
        counts["searches"] += 1
        if answer is None:
            raise SystemExit(f"search {counts['searches']} got no answer in time")
        ok = len(answer) == 2
        counts["answered" if ok else "failed"] += 1
        settle()
        exercise(window.results)
        return ok

    def checkpoint() -> None:
        clear_caches()
        gc.collect()
        print(json.dumps({"checkpoint": counts["searches"],
                          **{name: sys.getrefcount(obj)
                             for name, obj in (("None", None), ("True", True),
                                               ("False", False))},
                          "rss_mib": round(rss_mib(), 1),
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)

    def people_round(k: int) -> None:
        """The People window: shown (grouped on first use), repainted and scrolled; a person's
        faces opened, repainted and scrolled; back; closed."""
        first = window.people_view is None
        window.show_people()
        # On first use the window groups the faces on its worker; the answer comes through
        # this thread's event loop, so it cannot arrive before we wait for it.
        if first and wait([window.people_view.peopleLoaded], lambda: None,
                          timeout=120_000) is None:
            raise SystemExit("the People window did not load")
        view = window.people_view
        exercise(view.people_list)
        counts["people_views"] += 1
        groups = view.people_model.groups
        if groups:
            view.open_person(groups[k % len(groups)].id)
            exercise(view.faces_list)
            counts["faces_views"] += 1
            view.show_people()
        view.close()
        app.processEvents()

    queries, groups, nonfaces = plan["queries"], plan["groups"], plan["nonfaces"]
    total, every = plan["searches"], plan["checkpoint"]
    qi = gi = ni = 0
    next_checkpoint = 0
    while counts["searches"] < total:
        n = counts["searches"]
        if n >= next_checkpoint:
            checkpoint()
            next_checkpoint += every
        if n % 40 == 13 and groups:
            # A photo with several faces, then another of its faces (as clicking its box does).
            path = groups[gi % len(groups)]
            gi += 1
            if search(lambda p=path: window.search_files([p])) and window.outcome is not None:
                faces = len(window.outcome.boxes)
                if faces > 1 and counts["searches"] < total:
                    other = (window.outcome.chosen + 1 + gi) % faces
                    search(lambda o=other: window.query_view.faceClicked.emit(o))
                    counts["face_switches"] += 1
        elif n % 50 == 27 and nonfaces:
            path = nonfaces[ni % len(nonfaces)]
            ni += 1
            search(lambda p=path: window.search_files([p]))
        elif n % 10 == 9 and window.query_path:
            search(window.distinct_action.trigger)  # searches again, people or photos
            counts["distinct_toggles"] += 1
        else:
            path = queries[qi % len(queries)]
            qi += 1
            search(lambda p=path: window.search_files([p]))
        if n % 25 == 3 and window.outcome is not None and window.model.rowCount():
            dialog = window.compare(n % window.model.rowCount())
            settle(0.5)
            dialog.repaint()
            dialog.close()
            app.processEvents()
            counts["compares"] += 1
        if n % 100 == 50:
            dialog = window.show_compare()
            app.processEvents()
            dialog.repaint()
            dialog.close()
            counts["compare_windows"] += 1
        if n % 50 == 20:
            people_round(n // 50)
    checkpoint()
    window.close()
    app.processEvents()
    print(json.dumps({"done": True, **counts,
                      "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
