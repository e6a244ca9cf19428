"""The one-click offer to upgrade an older library to the current pipeline.

A bar above the results: "This library was made with an older face crop. Upgrade (N faces,
about M min)". The button runs :func:`facefinder.core.upgrade.upgrade_library` in a worker
process (``ServiceClient.upgrade``), the way indexing runs; searches keep working meanwhile (with
the library's old pipeline until the switch at the end). Stopping (or quitting) keeps what was
done; the next upgrade continues, also after the worker crashed or was killed (the bar says so
and offers the button again).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton


class UpgradeBar(QFrame):
    """Shown while the current library is not on the current pipeline."""

    upgraded = Signal(str)
    """The library (name) was upgraded."""

    def __init__(self, client, parent=None) -> None:
        super().__init__(parent)
        self.client = client
        self.library: str | None = None
        self.req: int | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.button = QPushButton(self.tr("Upgrade"))
        self.button.clicked.connect(self.start)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.hide()
        self.bar = QProgressBar()
        self.bar.hide()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.button)
        lay.addWidget(self.stop_button)
        client.upgradeProgress.connect(self._progress)
        client.upgradeDone.connect(self._done)
        client.upgradeFailed.connect(self._failed)
        self.hide()

    def offer(self, library: str, state: dict | None) -> None:
        """Show or hide the offer for ``library`` from its ``upgrade_state`` (None: hide)."""
        if self.req is not None:
            return  # a job is running: it says how it goes
        self.library = library
        if not state or state.get("current", True):
            self.hide()
            return
        minutes = max(1, round(state["seconds"] / 60))
        left = state["faces"] - state.get("done", 0)
        self.text.setText(self.tr(
            "This library was made with an older face crop; results are better with the "
            "current one. Upgrading re-embeds its {faces} faces from the stored boxes (about "
            "{minutes} min); names and groups are kept.").format(faces=left, minutes=minutes))
        self.button.setEnabled(True)
        self.show()

    def start(self) -> int | None:
        if self.library is None or self.client.indexing:
            return None
        self.req = self.client.upgrade(self.library)
        self.button.hide()
        self.stop_button.show()
        self.bar.setRange(0, 0)
        self.bar.show()
        self.text.setText(self.tr("Upgrading the library…"))
        return self.req

    def stop(self) -> None:
        if self.req is not None:
            self.client.cancel_index()

    def _progress(self, req: int, progress) -> None:
        if req != self.req:
            return
        self.bar.setRange(0, max(1, progress.total))
        self.bar.setValue(progress.done)
        eta = "" if progress.eta is None else self.tr(", about {s} s left").format(
            s=int(progress.eta))
        self.text.setText(self.tr("Upgrading the library: {done} of {total} faces{eta}")
                          .format(done=progress.done, total=progress.total, eta=eta))

    def _ended(self, req: int) -> bool:
        """Whether ``req`` is this bar's upgrade; if so the bar goes back to its button."""
        if req != self.req:
            return False
        self.req = None
        self.bar.hide()
        self.stop_button.hide()
        self.button.show()
        return True

    def _done(self, req: int, summary) -> None:
        if not self._ended(req):
            return
        if summary is not None and summary.switched:
            self.hide()
            self.upgraded.emit(self.library or "")
        else:
            self.text.setText(self.tr("Upgrade stopped; what was done is kept. Upgrade again "
                                      "to continue."))

    def _failed(self, req: int, message: str) -> None:
        if not self._ended(req):
            return
        if self.client.can_resume(req):  # the worker died: the message says to upgrade again
            self.text.setText(message)
        else:
            self.text.setText(self.tr("The upgrade failed: {reason}").format(reason=message))


def install(window) -> UpgradeBar:
    """Put an :class:`UpgradeBar` above the main window's results and wire it to the library
    the window shows."""
    bar = UpgradeBar(window.client, window)
    layout = window.results.parentWidget().layout()
    layout.insertWidget(0, bar)

    def stats(name: str, st: dict) -> None:
        if name == window.library:
            bar.offer(name, (st or {}).get("upgrade"))

    def upgraded(name: str) -> None:
        window.client.library_info(name)
        if window.query_path and name == window.library:
            window._search_again()

    window.client.libraryStats.connect(stats)
    bar.upgraded.connect(upgraded)
    return bar
