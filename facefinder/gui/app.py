"""Starting the desktop app: ``facefinder-gui`` or ``facefinder gui``.

The window is shown first; the face model then loads as a job on a background thread (the
status bar says "Loading face model…"), so the window is on screen at once. Indexing runs in a
worker process the app starts (:mod:`facefinder.worker`).
"""

from __future__ import annotations

import logging
import sys
import traceback

log = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None):
    """The QApplication (existing or new) with names, icon and translations set."""
    from PySide6.QtWidgets import QApplication

    from .resources import app_icon, install_translator

    app = QApplication.instance()
    if app is None:
        app = QApplication(["facefinder", *(argv or [])])
    app.setApplicationName("facefinder")
    app.setOrganizationName("facefinder")
    app.setApplicationDisplayName("facefinder")
    app.setDesktopFileName("facefinder")
    app.setWindowIcon(app_icon())
    if not getattr(app, "_facefinder_translator", None):
        app._facefinder_translator = install_translator(app) or True
    return app


def _excepthook(window):
    """Unexpected errors are logged and shown in the status bar: nothing crashes the app."""

    def hook(exc_type, exc, tb) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        try:
            window.statusBar().showMessage(f"{exc_type.__name__}: {exc}", 10_000)
        except Exception:
            pass

    return hook


def _close_on_signals(window) -> None:
    """Ctrl+C or SIGTERM in a terminal closes the window the normal way (the job stops, the
    index is saved). Python only sees signals between bytecodes, so a timer wakes it."""
    import signal

    from PySide6.QtCore import QTimer

    def close(*_args) -> None:
        window.close()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, close)
        except (ValueError, OSError):  # not the main thread, or not on this platform
            pass
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def main(argv: list[str] | None = None) -> int:
    """Open the main window; photos named in ``argv`` are searched once the model is ready. When
    the app is already open (same user and data folder), the photos go to its window instead
    and this start ends (:mod:`facefinder.gui.single_instance`)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if argv is None:
        argv = sys.argv[1:]
    import os

    from PySide6.QtCore import QTimer

    from . import single_instance

    photos = [os.path.abspath(a) for a in argv if not a.startswith("-")]
    app = create_app(argv)
    if single_instance.hand_over(photos):
        log.info("facefinder is already open: %d file(s) handed to its window", len(photos))
        return 0
    from .main_window import MainWindow

    window = MainWindow()
    window.show()
    window.instance_server = single_instance.InstanceServer(window)
    window.instance_server.pathsReceived.connect(window.open_paths)
    window.instance_server.listen()
    from .qt_refcounts import warn_if_leaking

    warn_if_leaking(window)  # PySide6 6.12.0 on Python < 3.12 would crash the app (issue 8)
    sys.excepthook = _excepthook(window)
    _close_on_signals(window)
    QTimer.singleShot(0, window.client.load)  # after the window is painted
    if photos:
        window.open_paths(photos)
    code = app.exec()
    # Closing the window shut the background work down already; a quit that closed no window
    # (QApplication.quit(), the session ending) must not leave a worker or the model server.
    window.client.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
