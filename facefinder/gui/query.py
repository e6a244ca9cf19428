"""The query photo with every detected face boxed; clicking a box picks that face."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen, \
    QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


class QueryView(QWidget):
    """Paints the photo scaled to fit and its face boxes (photo pixels, (x, y, w, h)).

    The chosen face is drawn in the palette's highlight colour, the others dashed; each box is
    numbered 1.. (largest first). ``faceClicked(index)`` fires when the user clicks a box, or
    picks one from the keyboard: the view takes focus with Tab; the arrow keys step through the
    faces and the digits 1-9 pick one. Enter or Space on an empty view asks to open a photo
    (``openRequested``).
    """

    faceClicked = Signal(int)
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._photo_size = QSize()
        self._scale = 1.0  # pixmap px per photo px
        self._boxes: list[tuple[int, int, int, int]] = []
        self._chosen = -1
        self._busy = False
        self._drag_over = False
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(self.tr("Query photo"))
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)

    # -- state ---------------------------------------------------------------------------------
    def set_photo(self, image: QImage, width: int, height: int, scale: float,
                  boxes: list[tuple[int, int, int, int]], chosen: int) -> None:
        """Show ``image`` (``scale`` image px per photo px) of a ``width`` x ``height`` photo."""
        self._pixmap = QPixmap.fromImage(image)
        self._photo_size = QSize(width, height)
        self._scale = scale
        self._boxes = list(boxes)
        self._chosen = chosen
        self._busy = False
        self._update_tooltip()
        self.update()

    def set_chosen(self, chosen: int) -> None:
        self._chosen = chosen
        self.update()

    def choose(self, i: int) -> bool:
        """Pick face ``i`` (wrapping around) as a click on it would; False when there is no
        other face to pick."""
        n = len(self._boxes)
        if n < 2:
            return False
        i %= n
        if i == self._chosen:
            return False
        self._chosen = i
        self.update()
        self.faceClicked.emit(i)
        return True

    def set_drag_over(self, on: bool) -> None:
        """Highlight the view while something is dragged over the window."""
        self._drag_over = on
        self.update()

    @property
    def drag_over(self) -> bool:
        return self._drag_over

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.update()

    def clear(self) -> None:
        self._pixmap = None
        self._boxes = []
        self._chosen = -1
        self._busy = False
        self._update_tooltip()
        self.update()

    @property
    def boxes(self) -> list[tuple[int, int, int, int]]:
        return list(self._boxes)

    @property
    def chosen(self) -> int:
        return self._chosen

    def _update_tooltip(self) -> None:
        if len(self._boxes) > 1:
            self.setToolTip(self.tr("Click a face to search with it (or Tab here, then the "
                                    "arrow keys or 1-9)."))
        else:
            self.setToolTip("")

    # -- geometry ------------------------------------------------------------------------------
    def _target(self) -> QRectF:
        """Where the photo is drawn, in widget coordinates (kept in proportion, centred)."""
        if self._pixmap is None or self._photo_size.isEmpty():
            return QRectF()
        pw, ph = self._photo_size.width(), self._photo_size.height()
        s = min((self.width() - 8) / pw, (self.height() - 8) / ph)
        # Never larger than the decoded image (device pixels): an upscaled photo is blurred.
        dpr = self._pixmap.devicePixelRatio() or 1.0
        s = min(s, self._pixmap.width() / dpr / pw)
        w, h = pw * s, ph * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def box_rect(self, i: int) -> QRectF:
        """Face ``i``'s box in widget coordinates."""
        t = self._target()
        if t.isEmpty():
            return QRectF()
        s = t.width() / self._photo_size.width()
        x, y, w, h = self._boxes[i]
        return QRectF(t.x() + x * s, t.y() + y * s, w * s, h * s)

    def face_at(self, pos: QPointF) -> int:
        """The smallest box under ``pos`` (boxes can nest), or -1."""
        found = [(self._boxes[i][2] * self._boxes[i][3], i) for i in range(len(self._boxes))
                 if self.box_rect(i).contains(pos)]
        return min(found)[1] if found else -1

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    # -- events --------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        k = Qt.Key
        if key in (k.Key_Right, k.Key_Down):
            self.choose(self._chosen + 1)
        elif key in (k.Key_Left, k.Key_Up):
            self.choose(self._chosen - 1)
        elif k.Key_1 <= key <= k.Key_9 and key - k.Key_1 < len(self._boxes):
            self.choose(key - k.Key_1)
        elif key in (k.Key_Return, k.Key_Enter, k.Key_Space) and self._pixmap is None:
            self.openRequested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self.face_at(event.position()) >= 0 and len(self._boxes) > 1
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            i = self.face_at(event.position())
            if i >= 0 and i != self._chosen:
                self._chosen = i
                self.update()
                self.faceClicked.emit(i)
        super().mouseReleaseEvent(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        if self.hasFocus():  # a clear focus ring: the keyboard user sees where they are
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            p.drawRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))
        if self._pixmap is None:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            f = p.font()
            f.setPointSizeF(f.pointSizeF() * 1.25)
            p.setFont(f)
            p.drawText(self.rect().adjusted(16, 16, -16, -16),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.tr("Drop a photo of a face here\nor press Ctrl+O to open one"))
            # The border in the text's colour: visible in light and dark themes alike.
            border = QColor(pal.color(QPalette.ColorRole.Highlight) if self._drag_over
                            else pal.color(QPalette.ColorRole.WindowText))
            if not self._drag_over:
                border.setAlpha(150)
            p.setPen(QPen(border, 3 if self._drag_over else 2, Qt.PenStyle.DashLine))
            p.drawRoundedRect(QRectF(self.rect()).adjusted(8, 8, -8, -8), 12, 12)
            return
        target = self._target()
        p.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        for i in range(len(self._boxes)):
            r = self.box_rect(i)
            chosen = i == self._chosen
            # Boxes are drawn over the photo, not the window: fixed white-on-black for the
            # others (visible on any photo, in any theme), the highlight for the chosen one.
            color = pal.color(QPalette.ColorRole.Highlight) if chosen else QColor("white")
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(QColor(0, 0, 0, 170), 5 if chosen else 4))
            p.drawRect(r)
            p.setPen(QPen(color, 3 if chosen else 2,
                          Qt.PenStyle.SolidLine if chosen else Qt.PenStyle.DashLine))
            p.drawRect(r)
            if len(self._boxes) > 1:  # number the faces so the choice is visible
                tag = QRectF(r.x(), r.y() - 18 if r.y() > target.y() + 18 else r.y(), 20, 18)
                p.fillRect(tag, color if chosen else QColor(0, 0, 0, 190))
                p.setPen(pal.color(QPalette.ColorRole.HighlightedText) if chosen
                         else QColor("white"))
                p.drawText(tag, Qt.AlignmentFlag.AlignCenter, str(i + 1))
        if self._drag_over:
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 4))
            p.drawRect(QRectF(self.rect()).adjusted(2, 2, -2, -2))
        if self._busy:
            veil = QColor(pal.color(QPalette.ColorRole.Window))
            veil.setAlpha(140)  # dim the photo while the search runs
            p.fillRect(target, veil)
