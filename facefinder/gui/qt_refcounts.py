"""Does the installed PySide6 lose references to None, True or False? (issue 8)

PySide6-Essentials 6.12.0 drops one reference to ``None`` on every ``QModelIndex.data()`` that
has no data for the role, and on every call of a method that returns nothing (``setText``,
``setEnabled``, ...), and one to ``True`` on every ``Signal.emit()``. On Python 3.11 and older
that counts them down to zero, and the interpreter aborts with ``Fatal Python error:
none_dealloc`` (or ``bool_dealloc``) minutes into a session: every repaint of a view asks for
roles that have no data. Python 3.12 made None, True and False immortal (PEP 683): their
counts no longer move, so the leak is harmless there and cannot be seen by counting.

This module only imports PySide6 and the standard library, so it runs in any environment that
has PySide6 (``python -m facefinder.gui.qt_refcounts`` prints the measurement as JSON). The app
runs :func:`quick_probe` at start-up (:func:`facefinder.gui.app.main`); the tests run
:func:`measure` in a fresh process.
"""

from __future__ import annotations

import gc
import sys
from typing import Callable

SINGLETONS: dict[str, object] = {"None": None, "True": True, "False": False}

COUNTS_MEAN_SOMETHING = sys.version_info < (3, 12)
"""Whether refcounts of None/True/False can move (before PEP 683's immortal objects)."""

FIX = 'pip install "PySide6-Essentials>=6.7,<6.12"'
"""What the user should run to get a PySide6 without the leak (see README, Supported versions)."""


def refcounts() -> dict[str, int]:
    """``sys.getrefcount`` of None, True and False, after a full collection."""
    gc.collect()
    return _counts()


def _counts() -> dict[str, int]:
    # No arguments: a bool argument would itself be a reference to True or False while counting.
    return {name: sys.getrefcount(obj) for name, obj in SINGLETONS.items()}


CHUNK = 100
"""Calls between two readings of the counts: a loss is given back after each chunk, so that a
leaking build (which loses one reference per call) never reaches zero while being measured."""


def drift(fn: Callable[[], object], calls: int, collect: bool = True) -> dict[str, int]:
    """Change of each singleton's refcount over ``calls`` calls of ``fn`` (0: no leak;
    ``-calls``: one reference lost per call). Whatever is lost is given back as it goes, so
    measuring never brings a crash nearer.

    ``collect``: a full garbage collection before and after (tens of milliseconds in the app).
    The collector is paused during the calls, so that garbage freed meanwhile cannot pass for a
    leak."""
    enabled = gc.isenabled()
    if collect:
        gc.collect()
    total = {name: 0 for name in SINGLETONS}
    gc.disable()
    try:
        done = 0
        while done < calls:
            n = min(CHUNK, calls - done)
            before = _counts()
            for _ in range(n):
                fn()
            after = _counts()
            for name in SINGLETONS:
                d = after[name] - before[name]
                total[name] += d
                if d < 0:
                    _give_back(SINGLETONS[name], -d)
            done += n
        if collect:  # the calls' own garbage, freed now, is part of their balance
            before = _counts()
            gc.collect()
            after = _counts()
            for name in SINGLETONS:
                total[name] += after[name] - before[name]
    finally:
        if enabled:
            gc.enable()
    return total


def _give_back(obj: object, n: int) -> None:
    """Add ``n`` references to ``obj`` that are never released: what a leak took. (References
    held in a list would not do: the list is freed when the interpreter shuts down, and the
    count would reach zero then.)"""
    import ctypes

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for _ in range(n):
        incref(obj)


def _cpp_index(role_value=None, role: int | None = None):
    """A QStandardItemModel (the model is C++ code) with one item: its index and the model."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel

    model = QStandardItemModel(1, 1)
    item = QStandardItem("text")
    if role is not None:
        item.setData(role_value, role)
    model.setItem(0, 0, item)
    model._keep = item  # the item belongs to the model; keep its wrapper alive with it
    return model.index(0, 0), model


def _python_model(value: object):
    """A QAbstractListModel written in Python whose data() always returns ``value``."""
    from PySide6.QtCore import QAbstractListModel, QModelIndex

    class Model(QAbstractListModel):
        def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
            return 0 if parent.isValid() else 1

        def data(self, index, role=0):
            return value

    return Model()


def _emitter():
    """A QObject with a signal ``fired`` (no arguments), connected to nothing."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal()

    return Emitter()


def measure(calls: int = 2000) -> dict[str, dict[str, int]]:
    """Refcount drift of None/True/False for each way the app reads item data.

    Returns ``{case: {"None": d, "True": d, "False": d}}``; a clean PySide6 gives 0 (or a
    handful) everywhere, a leaking one about ``-calls`` where that singleton passes through.
    Needs no QApplication. ``"object"`` is the drift of a plain Python object returned by a
    Python model (not immortal: it means something on every Python)."""
    from PySide6.QtCore import Qt

    user = int(Qt.ItemDataRole.UserRole)
    results: dict[str, dict[str, int]] = {}
    index, model = _cpp_index()
    results["C++ model, role without data"] = drift(lambda: index.data(user + 7), calls)
    results["C++ model, DisplayRole (a string)"] = drift(lambda: index.data(), calls)
    index_t, model_t = _cpp_index(True, user + 1)
    results["C++ model, a role holding True"] = drift(lambda: index_t.data(user + 1), calls)
    index_f, model_f = _cpp_index(False, user + 1)
    results["C++ model, a role holding False"] = drift(lambda: index_f.data(user + 1), calls)
    for label, value in (("None", None), ("True", True), ("False", False), ("a string", "s")):
        m = _python_model(value)
        i = m.index(0)
        results[f"Python model returning {label}"] = drift(lambda i=i: i.data(user), calls)
    token = ("a", "tuple", "kept", "alive")  # a Python object the model hands back as is
    m = _python_model(token)
    i = m.index(0)
    gc.collect()
    before = sys.getrefcount(token)
    for _ in range(calls):
        i.data(user)
    gc.collect()
    results["Python model returning a Python object"] = {"object": sys.getrefcount(token) - before}
    emitter = _emitter()
    results["Signal.emit() (returns True)"] = drift(emitter.fired.emit, calls)
    results["a method returning nothing (QObject.setObjectName)"] = drift(
        lambda: emitter.setObjectName("probe"), calls)
    results["QObject.property of an unset name (None)"] = drift(
        lambda: emitter.property("unset"), calls)
    return results


def quick_probe(calls: int = 300) -> dict[str, int]:
    """A cheap check for the app's start-up (about a millisecond): the drift of None, True and
    False over ``calls`` empty ``data()`` calls on a C++ model, on a Python model, ``calls``
    signal emissions and ``calls`` calls of a method that returns nothing, added up per
    singleton. Always zeros on Python 3.12+ (the counts do not move there)."""
    from PySide6.QtCore import Qt

    user = int(Qt.ItemDataRole.UserRole)
    index, model = _cpp_index()
    m = _python_model(None)
    i = m.index(0)
    emitter = _emitter()
    total = {name: 0 for name in SINGLETONS}
    for fn in (lambda: index.data(user + 7), lambda: i.data(user), emitter.fired.emit,
               lambda: emitter.setObjectName("probe")):
        for name, d in drift(fn, calls, collect=False).items():
            total[name] += d
    return total


def leaks(drifts: dict[str, int], calls: int) -> bool:
    """Whether a drift measured over ``calls`` calls is a leak: a loss of at least one reference
    in every four calls (a clean build moves by a handful at most). Only losses count: they are
    what brings a crash; PySide6 6.10 and 6.11 keep one reference to None too many per widget
    they destroy, which None (never freed) does not mind."""
    return any(d <= -max(1, calls // 4) for d in drifts.values())


_warned = False


def warn_if_leaking(parent=None, calls: int = 300) -> str | None:
    """The app's start-up guard: on Python < 3.12, probe the installed PySide6 (:func:`quick_probe`,
    a few milliseconds) and, if it leaks, say so once per process: a line on stderr and a
    non-modal warning box over ``parent`` (a widget, or None for a box of its own). Returns the
    message, or None when there is nothing to say (a clean PySide6, Python 3.12+, or said
    already)."""
    global _warned
    if _warned or not COUNTS_MEAN_SOMETHING:
        return None
    drifts = quick_probe(calls)
    if not leaks(drifts, calls):
        return None
    _warned = True
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QMessageBox

    version = pyside_version()
    python = ".".join(map(str, sys.version_info[:3]))
    message = QCoreApplication.translate(
        "PySideCheck",
        "facefinder runs on PySide6 {version} with Python {python}. This PySide6 loses "
        "references to None and True on ordinary calls (every time a list is drawn, for "
        "one), and the app will crash after a few minutes of use (\"Fatal Python error: "
        "none_dealloc\"). Install a PySide6 without "
        "this bug, then start facefinder again:\n\n    {fix}\n\n(or run facefinder on "
        "Python 3.12 or newer).").format(version=version, python=python, fix=FIX)
    print(f"facefinder: WARNING: PySide6 {version} loses references to None/True/False "
          f"(drifts {drifts} over {calls} calls of each of four kinds): the app will crash "
          f"on Python {python}. Fix: {FIX}", file=sys.stderr, flush=True)
    box = QMessageBox(QMessageBox.Icon.Warning,
                      QCoreApplication.translate("PySideCheck", "PySide6 {version} will crash "
                                                 "facefinder").format(version=version),
                      message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("pyside-leak-warning")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()  # not exec(): the window stays usable and start-up goes on
    return message


def pyside_version() -> str:
    import PySide6

    return PySide6.__version__


def main() -> int:
    """Print the measurement as JSON: Python and PySide6 versions, drift per case, verdict."""
    import json
    import platform

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    results = measure(calls)
    leaking = any(leaks({k: v for k, v in d.items() if k in SINGLETONS}, calls)
                  or d.get("object", 0) < -calls // 4 for d in results.values())
    print(json.dumps({
        "python": platform.python_version(),
        "pyside6": pyside_version(),
        "calls": calls,
        "counts_mean_something": COUNTS_MEAN_SOMETHING,
        "drift": results,
        "leaks": leaking,
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
