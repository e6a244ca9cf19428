"""Drawing a face the detector missed: the photo, the faces facefinder knows on it, and a
rectangle the user drags over the missed face (issue 14). The box is given back in the photo's
pixels (as the library stores boxes); the People view adds the face
(:func:`facefinder.core.corrections.add_face`)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QCompleter, QDialog, QDialogButtonBox, QFormLayout, QLabel, \
    QLineEdit, QVBoxLayout, QWidget

MAX_SIDE = 900
"""The photo is shown at most this many pixels on its longest side."""


class PhotoCanvas(QWidget):
    """A photo scaled to fit, the known faces' boxes, and the rectangle being drawn. ``drawn``:
    the rectangle in photo pixels (x, y, w, h) after each drag."""

    drawn = Signal(tuple)

    def __init__(self, image: QImage, photo_size: tuple[int, int], boxes: list[tuple],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo_size = photo_size
        shown = image.scaled(QSize(MAX_SIDE, MAX_SIDE), Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
        self.pixmap = QPixmap.fromImage(shown)
        self.scale = self.pixmap.width() / max(photo_size[0], 1)  # widget px per photo px
        self.boxes = boxes
        self._start: QPoint | None = None
        self.rect = QRect()
        self.setFixedSize(self.pixmap.size())
        self.setCursor(Qt.CursorShape.CrossCursor)

    def box(self) -> tuple[int, int, int, int] | None:
        """The drawn rectangle in photo pixels, or None."""
        if self.rect.isNull() or self.rect.width() < 2 or self.rect.height() < 2:
            return None
        s = self.scale
        return (round(self.rect.x() / s), round(self.rect.y() / s),
                round(self.rect.width() / s), round(self.rect.height() / s))

    def set_box(self, box: tuple) -> None:
        """Draw a rectangle from photo pixels (keyboard users and tests)."""
        s = self.scale
        self.rect = QRect(round(box[0] * s), round(box[1] * s), round(box[2] * s),
                          round(box[3] * s))
        self.update()
        self.drawn.emit(self.box())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._start = event.position().toPoint()
            self.rect = QRect(self._start, self._start)
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            self.rect = QRect(self._start, event.position().toPoint()).normalized() \
                .intersected(QRect(QPoint(0, 0), self.size()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._start is not None and event.button() == Qt.MouseButton.LeftButton:
            self.mouseMoveEvent(event)
            self._start = None
            self.drawn.emit(self.box())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.drawPixmap(0, 0, self.pixmap)
        s = self.scale
        p.setPen(QPen(QColor(255, 255, 255, 200), 1, Qt.PenStyle.DashLine))
        for x, y, w, h in self.boxes:
            p.drawRect(QRect(round(x * s), round(y * s), round(w * s), round(h * s)))
        if not self.rect.isNull():
            p.setPen(QPen(QColor(255, 200, 0), 2))
            p.drawRect(self.rect)
        p.end()


class DrawFaceDialog(QDialog):
    """The photo to draw on, and the name of the face drawn (optional)."""

    def __init__(self, path: str, boxes: list[tuple], names: list[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from ..core.images import load_photo
        from .service import pil_to_qimage

        self.setWindowTitle(self.tr("Draw a missed face"))
        photo = load_photo(path, max_side_hint=MAX_SIDE)
        self.path = path
        self.canvas = PhotoCanvas(pil_to_qimage(photo.image), (photo.width, photo.height),
                                  boxes, self)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("optional"))
        if names:
            self.name_edit.setCompleter(QCompleter(sorted(set(names)), self))
        hint = QLabel(self.tr("Drag a rectangle over the face facefinder missed (dashed boxes: "
                              "the faces it found)."))
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Add face"))
        ok.setEnabled(False)
        self.canvas.drawn.connect(lambda box: ok.setEnabled(box is not None))
        form = QFormLayout()
        form.addRow(self.tr("Name:"), self.name_edit)
        lay = QVBoxLayout(self)
        lay.addWidget(hint)
        lay.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignCenter)
        lay.addLayout(form)
        lay.addWidget(self.buttons)

    def box(self) -> tuple[int, int, int, int] | None:
        return self.canvas.box()

    def name(self) -> str:
        return self.name_edit.text().strip()
