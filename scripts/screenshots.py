#!/usr/bin/env python
"""Screenshots of the real app: the main window with results, the wizard's progress page, the
People window and the Compare two photos dialog.

Runs the app under Xvfb (started here when there is no ``$DISPLAY``; needs the ``xvfb`` package,
plus ``libxcb-cursor0`` and ``libxkbcommon-x11-0`` for Qt's xcb plugin), indexes a small folder of
``../shared/data`` faces into a throw-away library, searches with a photo that is not in it, opens
the People window and names the query's person, and writes ``first-run.png`` (the empty
library's guidance), ``main-window.png``, ``wizard-progress.png``, ``people.png`` and
``compare.png`` in ``docs/screenshots``.

    python scripts/screenshots.py [--data ../shared/data] [--out docs/screenshots] [--lang ja]
                                  [--dark] [--suffix -dark-ja]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Five people with many web photos (celeb5), plus a few LFW people for contrast.
PEOPLE = {"jerry_seinfeld": 8, "madonna": 5, "ben_affleck": 5, "elton_john": 5,
          "mindy_kaling": 5, "al_gore": 3, "bill_clinton": 3, "angelina_jolie": 3}
QUERY = ("jerry_seinfeld", 10)  # the 11th photo: not in the library
NAME = "Jerry Seinfeld"  # given to the query's group in the People window
COMPARE = (("madonna", 0), ("madonna", 4))  # two photos of one person


def start_xvfb() -> subprocess.Popen | None:
    """Start Xvfb on a free display unless one is set already."""
    if os.environ.get("DISPLAY") or os.environ.get("SCREENSHOTS_NO_XVFB"):
        return None
    if not shutil.which("Xvfb"):
        raise SystemExit("Xvfb not found: apt-get install xvfb libxcb-cursor0 libxkbcommon-x11-0")
    for n in range(99, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.1)
    os.environ["DISPLAY"] = f":{n}"
    return proc


def dark_palette(app) -> None:
    """A dark Fusion palette, to check that the app draws with palette roles only."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2e", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e20", QPalette.ColorRole.AlternateBase: "#35353a",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#3a3a3f",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d8fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#45454a",
        QPalette.ColorRole.ToolTipText: "#f0f0f0", QPalette.ColorRole.PlaceholderText: "#8a8a90",
        QPalette.ColorRole.Light: "#d0d0d0", QPalette.ColorRole.Mid: "#5a5a60",
        QPalette.ColorRole.Dark: "#202022",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#75757b"))
    app.setPalette(pal)


def make_folder(data: Path, dest: Path) -> Path:
    for person, count in PEOPLE.items():
        (dest / person).mkdir(parents=True, exist_ok=True)
        for f in sorted((data / "faces" / person).iterdir())[:count]:
            shutil.copyfile(f, dest / person / f.name)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", default="", help="a locale such as ja (default: English)")
    parser.add_argument("--dark", action="store_true", help="Fusion style with a dark palette")
    parser.add_argument("--suffix", default="", help="added to the file names")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="facefinder-shots-"))
    try:
        return run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)


def run(args, tmp: Path) -> int:
    os.environ["FACEFINDER_DATA_DIR"] = str(tmp / "data")
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    if args.lang:
        os.environ["LANGUAGE"] = args.lang
        os.environ["LC_ALL"] = {"ja": "ja_JP.UTF-8"}.get(args.lang, args.lang)
    from PySide6.QtCore import QLocale, QSettings, QTimer

    if args.lang:
        QLocale.setDefault(QLocale(args.lang))
    from facefinder.gui import resources
    from facefinder.gui.app import create_app
    from facefinder.gui.main_window import MainWindow

    if args.lang:  # the locale set above, not the system's
        resources_install = resources.install_translator
        resources.install_translator = lambda app, locale=None: resources_install(
            app, QLocale(args.lang))
    folder = make_folder(args.data, tmp / "Photos")
    query = sorted((args.data / "faces" / QUERY[0]).iterdir())[QUERY[1]]
    app = create_app([])
    if args.dark:
        dark_palette(app)
    window = MainWindow(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.move(40, 40)
    window.show()
    state = {"wizard_shot": False, "ok": False, "named": False, "searches": 0}
    client = window.client

    def shoot(widget, name: str) -> None:
        app.processEvents()
        path = args.out / name.replace(".png", f"{args.suffix}.png")
        widget.grab().save(str(path))
        print("wrote", path)

    def start_wizard() -> None:
        wizard = window.show_wizard(str(folder))
        wizard.move(200, 120)
        wizard.folder_page.library.setCurrentText("Family photos")
        wizard.next()

        def counted() -> None:
            if wizard.options_page.count > 0:
                wizard.next()  # Index
            else:
                QTimer.singleShot(100, counted)

        QTimer.singleShot(300, counted)

    def progress(req, p, crops) -> None:
        wizard = window.wizard
        if (not state["wizard_shot"] and p.total and p.done >= p.total * 0.55
                and wizard.progress_page.panel.strip_count >= 4):
            state["wizard_shot"] = True
            shoot(wizard, "wizard-progress.png")

    def indexed(req, summary) -> None:
        QTimer.singleShot(500, finish_wizard)

    def finish_wizard() -> None:
        window.wizard.accept()
        window.library_box.setCurrentText("Family photos")
        window.search_files([str(query)])

    def searched(req, outcome) -> None:
        state["searches"] += 1
        window.results.viewport().repaint()
        if state["searches"] == 1:  # name the query's person; that searches again
            QTimer.singleShot(300, open_people)
        elif state["named"]:
            QTimer.singleShot(2500, shoot_main)

    def open_people() -> None:
        view = window.show_people()
        view.move(120, 80)
        view.peopleLoaded.connect(people_loaded)

    def people_loaded(count: int) -> None:
        view = window.people_view
        if not state["named"]:
            state["named"] = True
            top = window.model.row(0).face_id
            group = next((g for g in view.people_model.groups
                          if top in [t.face_id for t in g.faces]), view.people_model.groups[0])
            view.rename(group.id, NAME)

    def shoot_main() -> None:
        window.results.viewport().repaint()
        shoot(window, "main-window.png")
        window.people_view.people_list.viewport().repaint()
        QTimer.singleShot(1500, shoot_people)

    def shoot_people() -> None:
        view = window.people_view
        view.people_list.viewport().repaint()
        shoot(view, "people.png")
        view.hide()
        dialog = window.show_compare()
        dialog.move(300, 160)
        client.compareDone.connect(lambda *_: QTimer.singleShot(500, shoot_compare))
        a, b = (sorted((args.data / "faces" / p).iterdir())[i] for p, i in COMPARE)
        dialog.compare_files(str(a), str(b))

    def shoot_compare() -> None:
        shoot(window.compare_dialog, "compare.png")
        final()

    def final() -> None:
        state["ok"] = state["wizard_shot"]
        window.close()
        app.quit()

    def failed(req, kind, message) -> None:
        print("search failed:", message, file=sys.stderr)
        window.close()
        app.quit()

    def first_run() -> None:
        shoot(window, "first-run.png")  # the empty library: what to do first
        QTimer.singleShot(200, start_wizard)

    client.modelReady.connect(lambda: QTimer.singleShot(500, first_run))
    client.indexProgress.connect(progress)
    client.indexDone.connect(indexed)
    client.searchDone.connect(searched)
    client.searchFailed.connect(failed)
    client.compareFailed.connect(lambda req, which, kind, message: failed(req, kind, message))
    QTimer.singleShot(0, client.load)
    QTimer.singleShot(300_000, app.quit)  # never hang
    app.exec()
    if not state["ok"]:
        print("screenshots incomplete", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
