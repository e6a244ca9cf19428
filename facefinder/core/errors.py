"""Errors that carry a message meant for the user, and notices about repairs.

Every error a person can cause or fix (a missing file, a photo with no face, no network for the
model, a damaged or full disk) is a :class:`FacefinderError` whose ``str()`` is one plain sentence.
The CLI prints it on stderr and exits 1; the GUI shows it in the window. Anything else is a bug.

:func:`os_error_sentence` and :func:`db_error` turn the operating system's and SQLite's exceptions
into such sentences, so every front end says the same thing about a full disk or a damaged file.

:func:`notice` reports something facefinder noticed and repaired on its own (a damaged index
rebuilt, a damaged converted model made again): one line, through the ``facefinder.notice``
logger, which the CLI prints on stderr and the app shows in its status bar.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3

NOTICE_LOGGER = "facefinder.notice"


class FacefinderError(Exception):
    """Base class: ``str(err)`` is a complete sentence for the user."""


class ModelUnavailableError(FacefinderError):
    """The FaceNet weights are not cached and could not be fetched."""


class ModelDamagedError(ModelUnavailableError):
    """A model file is damaged. ``path``: the file, when known (the engine then makes it again
    from the weights where it can)."""

    def __init__(self, message: str, path=None) -> None:
        super().__init__(message)
        self.path = path


class ModelMismatchError(FacefinderError):
    """A library was built with other weights than the ones loaded now."""


class ImageError(FacefinderError):
    """A file could not be read as a photo (missing, empty, truncated, not an image, too big)."""


class NoFaceError(FacefinderError):
    """A query photo holds no face that the detector finds."""


class LibraryError(FacefinderError):
    """A library is missing, empty, or cannot be opened."""


class LibraryDamagedError(LibraryError):
    """The library's catalog (the source of truth) is damaged; ``library repair`` salvages it."""


class StorageError(FacefinderError):
    """The disk is full, read-only, or refuses access; nothing committed is lost."""


def notice(message: str) -> None:
    """Say, in one line, that facefinder noticed and repaired something on its own."""
    logging.getLogger(NOTICE_LOGGER).warning(message)


_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (the disk may be failing)",
    errno.EFBIG: "the file is too large",
}


def os_error_sentence(exc: OSError, action: str = "") -> str:
    """``"PATH: reason"`` for an OSError, in plain words (``action``, e.g. "cannot write", is
    put before the reason when given)."""
    reason = _OS_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".")
    where = exc.filename if exc.filename is not None else ""
    if isinstance(where, bytes):
        where = os.fsdecode(where)
    text = f"{action} ({reason})" if action else reason
    return f"{where}: {text}" if where else text


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.Error) and "full" in str(exc).lower()


def db_error(exc: sqlite3.Error, where: os.PathLike | str) -> FacefinderError:
    """The user-facing error for an SQLite exception raised on the catalog at ``where``."""
    text = str(exc)
    low = text.lower()
    if "malformed" in low or "not a database" in low or "disk i/o error" in low \
            or "database corrupt" in low:
        return LibraryDamagedError(
            f"The library catalog {where} is damaged ({text}); run `facefinder library repair` "
            "on it to keep everything that can still be read (your photos are not touched).")
    if "full" in low:
        return StorageError(
            f"The disk holding {where} is full ({text}); free some space and try again. "
            "Everything saved before is kept.")
    if "readonly" in low or "read-only" in low:
        return StorageError(f"{where} is read-only; facefinder needs to write to its library.")
    if "unable to open" in low:
        return StorageError(
            f"{where} cannot be opened (the folder is read-only, missing, or not accessible).")
    if "locked" in low or "busy" in low:
        return LibraryError(
            f"The library {where} is busy: another facefinder process has been writing to it "
            "for a long time; try again when it has finished.")
    return LibraryError(f"The library {where} cannot be used ({text}).")
