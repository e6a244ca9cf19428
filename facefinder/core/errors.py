"""Errors that carry a message meant for the user.

Every error a person can cause or fix (a missing file, a photo with no face, no network for the
model) is a :class:`FacefinderError` whose ``str()`` is one plain sentence. The CLI prints it on
stderr and exits 1; the GUI shows it in the window. Anything else is a bug.
"""

from __future__ import annotations


class FacefinderError(Exception):
    """Base class: ``str(err)`` is a complete sentence for the user."""


class ModelUnavailableError(FacefinderError):
    """The FaceNet weights are not cached and could not be fetched."""


class ModelMismatchError(FacefinderError):
    """A library was built with other weights than the ones loaded now."""


class ImageError(FacefinderError):
    """A file could not be read as a photo (missing, empty, truncated, not an image, too big)."""


class NoFaceError(FacefinderError):
    """A query photo holds no face that the detector finds."""


class LibraryError(FacefinderError):
    """A library is missing, empty, or cannot be opened."""
