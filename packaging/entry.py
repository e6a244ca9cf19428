"""The packaged app's entry point (PyInstaller runs this file as ``__main__``).

    facefinder                  the desktop app (facefinder.gui.app.main); photo paths to search
    facefinder --self-test      no window: load the models, index the bundled sample faces into a
                                temporary library, search it, print the result; exit 0 or 1
    facefinder --startup-probe  open the main window, print the seconds from process start to
                                its first paint (and, with --wait-model, to "model ready"), quit;
                                --screenshot FILE saves the window as it was then; then
                                imports every facefinder.gui module (exit 3 if one fails)
    facefinder --version        print the version
    facefinder --worker         the worker process the app starts for indexing and refresh
                                (facefinder.worker: a job in on stdin, JSON lines out on stdout)

Keep this file small: everything it imports at the top is paid for at every start.
"""

from __future__ import annotations

import os
import sys
import time

_T_ENTRY = time.time()


def _process_start() -> tuple[float, str]:
    """When this process was launched: $FACEFINDER_PROBE_T0 (epoch seconds, set by whoever
    launches us, so the bootloader's time counts), else the kernel's start time on Linux, else
    the moment this module ran."""
    env = os.environ.get("FACEFINDER_PROBE_T0")
    if env:
        try:
            return float(env), "launcher"
        except ValueError:
            pass
    try:  # Linux: field 22 of /proc/self/stat is the start time in clock ticks after boot
        with open("/proc/self/stat") as f:
            ticks = float(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK"), "kernel"
    except (OSError, ValueError, IndexError, AttributeError):
        return _T_ENTRY, "entry"


def startup_probe(argv: list[str]) -> int:
    """Open the real main window, print the time to its first paint and quit."""
    t0, source = _process_start()
    wait_model = "--wait-model" in argv
    from PySide6.QtCore import QEvent, QObject, QTimer

    from facefinder.gui.app import create_app
    from facefinder.gui.main_window import MainWindow

    app = create_app([])
    window = MainWindow()
    times: dict[str, float] = {}

    shot = argv[argv.index("--screenshot") + 1] if "--screenshot" in argv[:-1] else None

    def finish(code: int = 0) -> None:
        if not finish.done:
            finish.done = True
            if shot:  # what the window looked like (checks fonts, icons, layout in CI)
                window.grab().save(shot)
            window.close()
            app.exit(code)
    finish.done = False

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
            if event.type() == QEvent.Type.Paint and "shown" not in times:
                times["shown"] = time.time() - t0
                print(f"startup: main window painted {times['shown']:.3f} s after process start "
                      f"(clock: {source})", flush=True)
                if wait_model:
                    QTimer.singleShot(0, window.client.load)
                else:
                    QTimer.singleShot(0, finish)
            return False

    def model_ready() -> None:
        times["model"] = time.time() - t0
        print(f"startup: face model ready {times['model']:.3f} s after process start", flush=True)
        finish()

    def model_failed(*args) -> None:
        print(f"startup: face model failed: {args}", flush=True)
        finish(1)

    window.client.modelReady.connect(model_ready)
    window.client.modelFailed.connect(model_failed)
    window.client.weightsMissing.connect(lambda: model_failed("weights missing"))
    probe = FirstPaint(window)
    window.installEventFilter(probe)
    window.show()
    QTimer.singleShot(120_000, lambda: (print("startup: timed out", flush=True), finish(2)))
    code = app.exec()
    if "tensorflow" in sys.modules:
        print("startup: tensorflow was imported", flush=True)
    # Every GUI module, including those imported only when a dialog opens: an import the bundle
    # lacks (a Qt module excluded in the spec, say) fails here rather than in a user's hands.
    count, broken = _import_all("facefinder.gui")
    print(f"startup: imported {count} facefinder.gui modules, {len(broken)} failed", flush=True)
    for name, error in broken:
        print(f"startup: cannot import {name}: {error}", flush=True)
    return code or (3 if broken else 0)


def _import_all(package: str) -> tuple[int, list[tuple[str, str]]]:
    import importlib
    import pkgutil

    broken = []
    count = 0
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        count += 1
        try:
            importlib.import_module(info.name)
        except Exception as exc:
            broken.append((info.name, f"{type(exc).__name__}: {exc}"))
    return count, broken


def main() -> int:
    argv = sys.argv[1:]
    if getattr(sys, "frozen", False):
        # The packaged app ships LiteRT and the converted models only (no TensorFlow): a
        # FACEFINDER_BACKEND=tf left in the environment by a source install must not break it.
        os.environ["FACEFINDER_BACKEND"] = "lite"
    if argv[:1] == ["--worker"]:  # first: the app starts many of these; no Qt, no window
        from facefinder.worker import main as worker_main

        return worker_main(argv[1:])
    if "--self-test" in argv:
        from facefinder.selftest import main as selftest_main

        if sys.stdout is None:  # a windowed build (Windows): no console to print to
            import tempfile

            path = os.path.join(tempfile.gettempdir(), "facefinder-self-test.txt")
            sys.stdout = sys.stderr = open(path, "w", encoding="utf-8")
        return selftest_main(argv)
    if "--startup-probe" in argv:
        return startup_probe(argv)
    if "--version" in argv:
        from facefinder import __version__

        print(f"facefinder {__version__}")
        return 0
    from facefinder.gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
