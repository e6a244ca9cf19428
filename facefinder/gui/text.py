"""Small text helpers the app's windows share: HTML escaping and the photo file-dialog filter."""

from __future__ import annotations

import html

from ..core.images import photo_globs


def esc(text: str) -> str:
    """``text`` safe inside Qt rich text (``&``, ``<`` and ``>`` escaped; quotes are left as they
    are, since no attribute value is built from it)."""
    return html.escape(text, quote=False)


def qt_filter(photos: str, all_files: str) -> str:
    """A ``QFileDialog`` name filter: photos first (every extension facefinder reads, from
    :data:`facefinder.core.images.PHOTO_SUFFIXES`), then all files. ``photos`` and ``all_files``
    are the translated words, e.g. ``qt_filter(self.tr("Photos"), self.tr("All files"))``."""
    return f"{photos} ({photo_globs()});;{all_files} (*)"
