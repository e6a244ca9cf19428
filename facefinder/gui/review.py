"""The review queue (issue 14): unnamed faces nearest a named person, one at a time, answered
Yes / No / Skip from the keyboard (Y, N, S); each answer is kept as a correction
(:func:`facefinder.core.corrections.answer`) and can be undone (Ctrl+Z)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

FACE = 192
"""Side of the two face crops, in pixels."""


class ReviewDialog(QDialog):
    """One face at a time: "Is this NAME?" with the person's cover face beside it.

    Signals: ``queueLoaded(int)`` (items in the queue), ``answered(int, str)`` (face id and
    answer, once kept), ``finished_queue()`` (no more faces)."""

    queueLoaded = Signal(int)
    answered = Signal(int, str)
    finishedQueue = Signal()

    def __init__(self, view, person_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent or view)
        self.view = view
        self.person_id = person_id
        self.items: list = []
        self.pos = 0
        self.answers: list[tuple[int, str]] = []
        self.setWindowTitle(self.tr("Review faces"))
        self.question = QLabel()
        self.question.setObjectName("title")
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question.setWordWrap(True)
        self.known = QLabel()
        self.candidate = QLabel()
        for label in (self.known, self.candidate):
            label.setFixedSize(FACE, FACE)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setFrameShape(QLabel.Shape.StyledPanel)
        self.known_caption = QLabel()
        self.candidate_caption = QLabel()
        for c in (self.known_caption, self.candidate_caption):
            c.setAlignment(Qt.AlignmentFlag.AlignCenter)
            c.setWordWrap(True)
            c.setMaximumWidth(FACE + 40)
        self.progress = QLabel()
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.yes_button = QPushButton(self.tr("&Yes (Y)"))
        self.no_button = QPushButton(self.tr("&No (N)"))
        self.skip_button = QPushButton(self.tr("&Skip (S)"))
        self.undo_button = QPushButton(self.tr("Undo"))
        self.close_button = QPushButton(self.tr("Close"))
        self.yes_button.clicked.connect(lambda: self.reply("yes"))
        self.no_button.clicked.connect(lambda: self.reply("no"))
        self.skip_button.clicked.connect(lambda: self.reply("skip"))
        self.undo_button.clicked.connect(self.undo)
        self.close_button.clicked.connect(self.accept)
        for key, reply in (("Y", "yes"), ("N", "no"), ("S", "skip")):
            QShortcut(QKeySequence(key), self, lambda r=reply: self.reply(r))
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo)

        faces = QHBoxLayout()
        for label, caption in ((self.known, self.known_caption),
                               (self.candidate, self.candidate_caption)):
            col = QVBoxLayout()
            col.addWidget(label, 0, Qt.AlignmentFlag.AlignCenter)
            col.addWidget(caption)
            faces.addLayout(col)
        buttons = QHBoxLayout()
        for b in (self.yes_button, self.no_button, self.skip_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.question)
        lay.addLayout(faces)
        lay.addWidget(self.progress)
        lay.addLayout(buttons)
        view.loader.ready.connect(lambda _key: self._show_faces())
        self._show()

    # -- the queue --------------------------------------------------------------------------
    def load(self) -> int:
        """Read the queue (on the library lane)."""
        from ..core.corrections import review_queue

        pid = self.person_id
        self.question.setText(self.tr("Finding faces to review…"))
        self._enable(False)
        return self.view._run(lambda lib: review_queue(lib, pid, limit=100), self._loaded)

    def _loaded(self, items: list) -> None:
        self.items = list(items)
        self.pos = 0
        self._show()
        self.queueLoaded.emit(len(self.items))

    @property
    def current(self):
        return self.items[self.pos] if 0 <= self.pos < len(self.items) else None

    def reply(self, answer: str) -> None:
        """Keep ``answer`` ('yes', 'no', 'skip') for the face shown, and show the next one."""
        from ..core.corrections import answer as keep

        item = self.current
        if item is None:
            return
        self.pos += 1
        self.answers.append((item.face_id, answer))
        face, pid = item.face_id, item.person_id
        self.view._run(lambda lib: keep(lib, face, pid, answer),
                       lambda _r: self.answered.emit(face, answer))
        self._show()
        if self.current is None:
            self.finishedQueue.emit()

    def undo(self) -> None:
        """Take back the last answer (its correction) and show that face again."""
        if not self.answers:
            return
        self.answers.pop()
        self.pos = max(0, self.pos - 1)
        self.view.undo(quiet=True)
        self._show()

    # -- showing ------------------------------------------------------------------------------
    def _enable(self, on: bool) -> None:
        for b in (self.yes_button, self.no_button, self.skip_button):
            b.setEnabled(on)
        self.undo_button.setEnabled(bool(self.answers))

    def _show(self) -> None:
        item = self.current
        self._enable(item is not None)
        if item is None:
            self.question.setText(self.tr("No more faces to review.") if self.items or
                                  self.answers else self.tr("No faces to review: name a person "
                                                            "first, or every face near the "
                                                            "named people is answered."))
            self.progress.setText(self.tr("{n} answered").format(n=len(self.answers))
                                  if self.answers else "")
            self.known.clear()
            self.candidate.clear()
            self.known_caption.clear()
            self.candidate_caption.clear()
            return
        self.question.setText(self.tr("Is this {name}?").format(name=item.name))
        self.progress.setText(self.tr("Face {i} of {n} (distance {d:.2f})").format(
            i=self.pos + 1, n=len(self.items), d=item.distance))
        self.known_caption.setText(item.name)
        import os

        self.candidate_caption.setText(os.path.basename(item.path))
        self.candidate_caption.setToolTip(item.path)
        self._show_faces()

    def _show_faces(self) -> None:
        item = self.current
        if item is None:
            return
        g = self.view.group(item.person_id)
        known = self.view.loader.get(g.faces[0].path, g.faces[0].box, FACE) \
            if g is not None and g.faces else None
        cand = self.view.loader.get(item.path, tuple(item.box), FACE)
        for label, pix in ((self.known, known), (self.candidate, cand)):
            if pix is None:
                label.setText("…")
            else:
                label.setPixmap(pix if isinstance(pix, QPixmap) else QPixmap.fromImage(pix))
