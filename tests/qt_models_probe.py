"""Run by tests/test_qt_refcounts.py in a fresh process: thousands of ``index.data(role)`` calls
for roles without data on a C++ model and on the app's own models, signal emissions and calls
of methods that return nothing, and repaints of the app's views, each measured as the drift of
the refcounts of None, True and False.

Prints JSON lines, flushed as it goes: first ``{"python", "pyside6", "calls", "none_at_start"}``,
then ``{"case": name, "drift": {"None": d, "True": d, "False": d}}`` (or ``{"object": d}`` for an
ordinary object the model hands back) per case, and ``{"done": true}`` last. A leaking PySide6
can make this process abort (``none_dealloc``) part way: the cases measured until then are out.

Usage: python tests/qt_models_probe.py CALLS
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    none_at_start = sys.getrefcount(None)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from facefinder.core.library import FaceRow, Hit
    from facefinder.gui.people_view import FacesModel, Group, PeopleModel, Tile, _grid
    from facefinder.gui.qt_refcounts import drift, measure, pyside_version
    from facefinder.gui.results import BoxRole, GroupSizeRole, PersonRole, ResultsModel, \
        ResultsView, SameRole
    from facefinder.gui.thumbnails import ThumbnailLoader

    app = QApplication.instance() or QApplication([])
    user = int(Qt.ItemDataRole.UserRole)
    print(json.dumps({"python": platform.python_version(), "pyside6": pyside_version(),
                      "calls": calls, "none_at_start": none_at_start}), flush=True)

    class Out(dict):
        def __setitem__(self, case: str, d: dict[str, int]) -> None:
            print(json.dumps({"case": case, "drift": d}), flush=True)

    out = Out()
    # A C++ model (QStandardItemModel) and bare Python models.
    for case, d in measure(calls).items():
        out[case] = d

    # The app's results model: a named face near the query, an unnamed one far from it. The
    # photos do not exist, so thumbnails fail at once and DecorationRole stays empty (None).
    loader = ThumbnailLoader()
    missing = "/nonexistent/facefinder-probe/face_{}.jpg"
    hits = [Hit(i + 1, d, FaceRow(10 + i, 1, missing.format(i), (5, 6, 70, 80), 0.99))
            for i, d in enumerate((0.5, 1.6))]
    results = ResultsModel(loader)
    results.set_hits(hits, people={10: (1, "Ann", 3)})
    near, far = results.index(0), results.index(1)
    out["ResultsModel, a role without data"] = drift(lambda: near.data(user + 50), calls)
    out["ResultsModel, PersonRole of an unnamed face (None)"] = drift(
        lambda: far.data(PersonRole), calls)
    out["ResultsModel, GroupSizeRole (None: photos, not people)"] = drift(
        lambda: near.data(GroupSizeRole), calls)
    out["ResultsModel, SameRole (True)"] = drift(lambda: near.data(SameRole), calls)
    out["ResultsModel, SameRole (False)"] = drift(lambda: far.data(SameRole), calls)
    out["ResultsModel, an invalid index"] = drift(lambda: results.index(99).data(), calls)

    # The box is a tuple the model hands back: an ordinary object, meaningful on every Python.
    box = results.row(0).box
    before = sys.getrefcount(box)
    for _ in range(calls):
        near.data(BoxRole)
    out["ResultsModel, BoxRole (a tuple)"] = {"object": sys.getrefcount(box) - before}

    # The People window's models.
    people = PeopleModel(loader)
    people.set_groups([Group(1, None, 2, [Tile(10, missing.format(0), (5, 6, 70, 80))]),
                       Group(2, "Bo", 1, [])])
    faces = FacesModel(loader)
    faces.set_faces([Tile(10, missing.format(0), (5, 6, 70, 80))])
    p0, p1, f0 = people.index(0), people.index(1), faces.index(0)
    out["PeopleModel, a role without data"] = drift(lambda: p0.data(user + 50), calls)
    out["PeopleModel, DecorationRole of a group without faces (None)"] = drift(
        lambda: p1.data(Qt.ItemDataRole.DecorationRole), calls)
    out["FacesModel, a role without data"] = drift(lambda: f0.data(user + 50), calls)

    # The app's own signal (the thumbnail loader tells the models a crop arrived) and a method
    # of the app's grid that returns nothing.
    key = (missing.format(0), (5, 6, 70, 80), 128)
    out["ThumbnailLoader.ready.emit (to the app's models)"] = drift(
        lambda: loader.ready.emit(key), calls)
    view = ResultsView()
    out["ResultsView.setSpacing (returns nothing)"] = drift(lambda: view.setSpacing(4), calls)

    # The views repainted: every paint asks the model for roles that have no data.
    view.setModel(results)
    view.resize(400, 300)
    view.show()
    grid = _grid(people, multi=True)
    grid.resize(400, 300)
    grid.show()
    for _ in range(50):  # first paints ask for the thumbnails; wait until they have failed
        view.viewport().repaint()
        grid.viewport().repaint()
        app.processEvents()
        if loader.failed(missing.format(0), (5, 6, 70, 80), 128) and \
                loader.failed(missing.format(1), (5, 6, 70, 80), 128):
            break
        time.sleep(0.1)  # the crops are made on the job runner's io lane
    repaints = max(1, calls // 60)  # each repaint makes dozens of data() calls

    def repaint() -> None:
        view.viewport().repaint()
        grid.viewport().repaint()

    out[f"ResultsView and the People grid, {repaints} repaints"] = drift(repaint, repaints)
    view.close()
    grid.close()
    loader.shutdown()

    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
