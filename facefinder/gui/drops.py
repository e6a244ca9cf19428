"""Turning drops and pastes into photo files to search.

A drop can carry local files, a folder, an image from a web browser (image data, a local URL or
only a remote link) or text holding a path. Image data is written to a temporary PNG so it can
be searched like any file.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QMimeData, QUrl
from PySide6.QtGui import QImage


class MimeDropTarget:
    """Mixin for a widget that takes dropped files, URLs, images and text: it accepts them while
    ``accepts_drops()`` is true and hands what was dropped to ``take_drop(mime)``. Put it before
    the Qt class in the bases, so its event handlers override the widget's."""

    def accepts_drops(self) -> bool:
        return True

    def take_drop(self, mime: QMimeData) -> None:  # pragma: no cover - each widget overrides
        raise NotImplementedError

    def drag_highlight(self, on: bool) -> None:
        """Show (or stop showing) that a drop here would be taken; widgets may override."""

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if self.accepts_drops() and (mime.hasUrls() or mime.hasImage() or mime.hasText()):
            event.acceptProposedAction()
            self.drag_highlight(True)

    def dragMoveEvent(self, event) -> None:
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.drag_highlight(False)

    def dropEvent(self, event) -> None:
        event.acceptProposedAction()
        self.drag_highlight(False)
        self.take_drop(event.mimeData())


@dataclass
class DropContent:
    """What a drop held: ``files`` to search in order, a ``folder`` to index, or a ``problem``
    (a sentence for the user) when nothing usable came."""

    files: list[str] = field(default_factory=list)
    folder: str | None = None
    problem: str | None = None


def _local(url: QUrl) -> str | None:
    return url.toLocalFile() if url.isLocalFile() else None


def read_mime(mime: QMimeData, temp_dir: str) -> DropContent:
    """Interpret ``mime``; image data is saved as a PNG under ``temp_dir``."""
    out = DropContent()
    remote = False
    missing = False
    urls = list(mime.urls()) if mime.hasUrls() else []
    if not urls and mime.hasText():  # a path or a file:// URL pasted as text
        for line in mime.text().splitlines():
            line = line.strip()
            if not line:
                continue
            url = QUrl(line) if "://" in line else QUrl.fromLocalFile(line)
            urls.append(url)
    for url in urls:
        path = _local(url)
        if path is None:
            remote = remote or url.scheme() in ("http", "https", "ftp", "data")
            continue
        if os.path.isdir(path):
            if out.folder is None and not out.files:
                out.folder = path
            continue
        if not os.path.exists(path):
            missing = True
            continue
        out.files.append(path)
    if out.files or out.folder:
        return out
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            out.files.append(save_image(image, temp_dir))
            return out
    if remote:
        out.problem = QCoreApplication.translate(
            "Drops", "The browser sent only a web link, not the picture. Save the picture "
                     "first, or drag the image itself.")
    elif missing:
        out.problem = QCoreApplication.translate("Drops", "That file cannot be found.")
    else:
        out.problem = QCoreApplication.translate(
            "Drops", "There is no photo in what was dropped or pasted.")
    return out


def save_image(image: QImage, temp_dir: str) -> str:
    """Write ``image`` as a PNG in ``temp_dir``; returns the path."""
    path = os.path.join(temp_dir, f"pasted-{uuid.uuid4().hex[:8]}.png")
    if not image.save(path, "PNG"):
        raise OSError(f"cannot write {path}")
    return path
