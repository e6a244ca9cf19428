"""The Refresh dialog: index again, in every folder of the library, only what changed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, \
    QWidget

from .progress import IndexProgressPanel
from .messages import ask_yes_no


class RefreshDialog(QDialog):
    """Modeless; shows the same progress as the wizard. ``indexed(library)`` when it ends."""

    indexed = Signal(str)

    def __init__(self, client, library: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.library = library
        self.setWindowTitle(self.tr("Refresh library “{name}”").format(name=library))
        self.intro = QLabel(self.tr("New, changed and deleted photos in the library's folders "
                                    "are brought up to date."))
        self.intro.setWordWrap(True)
        self.panel = IndexProgressPanel()
        self.result = QLabel()
        self.result.setObjectName("result")
        self.result.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        self.resume = QPushButton(self.tr("Resume"))
        self.resume.clicked.connect(self.start)
        self.resume.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addWidget(self.panel, 1)
        lay.addWidget(self.result)
        lay.addWidget(self.resume)
        lay.addWidget(self.buttons)
        svc = client
        svc.indexProgress.connect(self._progress)
        svc.indexDone.connect(self._done)
        svc.indexFailed.connect(self._failed)
        self.job: int | None = None
        self.summary = None
        self.resize(560, 440)

    def start(self) -> None:
        """Refresh (or, after the worker died, resume: what was committed is kept)."""
        self.resume.hide()
        self.result.clear()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Cancel)
        self.panel.reset()
        self.job = self.client.index(self.library, "")

    def _progress(self, req: int, progress, crops) -> None:
        if req == self.job:
            self.panel.update_progress(progress, crops)

    def _ended(self, text: str) -> None:
        self.job = None
        self.result.setText(text)
        self.panel.bar.setRange(0, 1)
        self.panel.bar.setValue(1)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def _done(self, req: int, summary) -> None:
        if req != self.job:
            return
        self.summary = summary
        text = self.tr("{processed} photos indexed, {faces} faces found, {unchanged} unchanged, "
                       "{removed} deleted photos forgotten, {skipped} skipped.").format(
            processed=summary.processed, faces=summary.faces_added,
            unchanged=summary.unchanged, removed=summary.removed,
            skipped=len(summary.skipped))
        if summary.cancelled:
            text = self.tr("Cancelled; what was done so far is kept. Refresh again (F5) to "
                           "finish.") + " " + text
        self._ended(text)
        self.indexed.emit(self.library)

    def _failed(self, req: int, message: str) -> None:
        if req == self.job:
            self._ended(message)
            self.resume.setVisible(self.client.can_resume(req))

    def confirm_stop(self) -> bool:
        """Ask whether to stop the running refresh (tests replace this)."""
        return ask_yes_no(
            self, self.tr("Stop refreshing?"),
            self.tr("The library is still being refreshed. Stop it? What was done so far is "
                    "kept; refresh again (F5) to finish."))

    def reject(self) -> None:
        """Cancel or Esc while it runs: ask, then stop after the current photo and stay open
        for the summary (Close then closes)."""
        if self.job is not None:
            if self.confirm_stop() and self.job is not None:
                self.client.cancel_index()
                self.panel.current.setText(self.tr("Stopping…"))
            return
        super().reject()
