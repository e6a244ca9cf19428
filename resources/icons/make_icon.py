"""Draw the facefinder app icon with QPainter and write it at every size the app uses.

Run from the repository root: ``python resources/icons/make_icon.py``. Writes
``facefinder/gui/resources/icons/facefinder-<size>.png`` (installed with the package) and
``resources/icons/facefinder.png`` (512 px, for the .desktop file and packaging).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, \
    QPainterPath, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def draw(size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 256, size / 256)
    # Tile: a rounded square, deep blue to teal.
    grad = QLinearGradient(0, 0, 256, 256)
    grad.setColorAt(0, QColor("#2b59c3"))
    grad.setColorAt(1, QColor("#1fa59a"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(grad))
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 52, 52)
    # A face: head and shoulders, in white.
    white = QColor("#ffffff")
    p.setBrush(white)
    p.drawEllipse(QRectF(62, 44, 84, 100))
    body = QPainterPath()
    body.moveTo(30, 224)
    body.cubicTo(34, 170, 70, 150, 104, 150)
    body.cubicTo(138, 150, 172, 170, 178, 224)
    body.closeSubpath()
    p.drawPath(body)
    # A magnifying glass over it: the search.
    ring = QColor("#ffd166")
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(0, 0, 0, 60), 22, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawEllipse(QPointF(168, 150), 42, 42)
    p.setPen(QPen(ring, 16, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawEllipse(QPointF(166, 148), 42, 42)
    p.setPen(QPen(ring, 22, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(198, 180), QPointF(228, 212))
    glass = QColor(255, 255, 255, 70)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(glass)
    p.drawEllipse(QPointF(166, 148), 34, 34)
    p.end()
    return img


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts and image plugins need it)
    out = ROOT / "facefinder" / "gui" / "resources" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    for size in (16, 24, 32, 48, 64, 128, 256):
        draw(size).save(str(out / f"facefinder-{size}.png"))
    draw(512).save(str(ROOT / "resources" / "icons" / "facefinder.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
