"""The indexing progress panel (the wizard's progress page and the Refresh dialog share it)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QProgressBar, \
    QVBoxLayout, QWidget

STRIP = 10
"""How many of the latest face crops the strip shows."""


def format_eta(seconds: float | None) -> str:
    """'1:05' style, '–' when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class IndexProgressPanel(QWidget):
    """A bar, photos done / total, faces, photos/s, ETA, the current file and a face strip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.photos = QLabel("–")
        self.faces = QLabel("–")
        self.rate = QLabel("–")
        self.eta = QLabel("–")
        self.current = QLabel("")
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.current.setMinimumWidth(100)
        form = QFormLayout()
        form.addRow(self.tr("Photos:"), self.photos)
        form.addRow(self.tr("Faces found:"), self.faces)
        form.addRow(self.tr("Speed:"), self.rate)
        form.addRow(self.tr("Time left:"), self.eta)
        form.addRow(self.tr("Current file:"), self.current)
        self.strip = QFrame()
        self.strip.setFrameShape(QFrame.Shape.StyledPanel)
        self.strip.setMinimumHeight(76)
        self._strip_layout = QHBoxLayout(self.strip)
        self._strip_layout.setContentsMargins(6, 6, 6, 6)
        self._strip_layout.setSpacing(6)
        self._strip_layout.addStretch(1)
        self._thumbs: list[QLabel] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.bar)
        lay.addLayout(form)
        lay.addWidget(QLabel(self.tr("Latest faces:")))
        lay.addWidget(self.strip)
        lay.addStretch(1)
        self.faces_count = 0

    def reset(self, text: str = "") -> None:
        self.bar.setRange(0, 0)
        self.photos.setText(text or self.tr("Looking for photos…"))
        self.faces.setText("0")
        self.rate.setText("–")
        self.eta.setText("–")
        self.current.setText("")
        for t in self._thumbs:
            t.deleteLater()
        self._thumbs.clear()
        self.faces_count = 0

    def update_progress(self, progress, crops: list[QImage]) -> None:
        """Show one :class:`~facefinder.core.scan.IndexProgress` and its face crops."""
        if progress.stage == "scanning":
            self.bar.setRange(0, 0)
            self.photos.setText(self.tr("Looking for photos…"))
            self.current.setText(_elide(self.current, progress.current))
            return
        self.bar.setRange(0, max(progress.total, 1))
        self.bar.setValue(progress.done if progress.total else 1)
        self.photos.setText(self.tr("{done} of {total}").format(done=progress.done,
                                                                 total=progress.total))
        self.faces.setText(str(progress.faces))
        self.faces_count = progress.faces
        self.rate.setText(self.tr("{rate:.1f} photos/s").format(rate=progress.rate)
                          if progress.rate else "–")
        self.eta.setText(format_eta(progress.eta))
        self.current.setText(_elide(self.current, progress.current))
        self.current.setToolTip(progress.current)
        for image in crops:
            self.add_face(image)

    def add_face(self, image: QImage) -> None:
        label = QLabel()
        label.setFixedSize(64, 64)
        label.setPixmap(QPixmap.fromImage(image).scaled(
            64, 64, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        self._strip_layout.insertWidget(0, label)  # newest on the left
        self._thumbs.insert(0, label)
        while len(self._thumbs) > STRIP:
            self._thumbs.pop().deleteLater()

    @property
    def strip_count(self) -> int:
        return len(self._thumbs)


def _elide(label: QLabel, text: str) -> str:
    width = max(label.width(), 360)
    return label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width)
