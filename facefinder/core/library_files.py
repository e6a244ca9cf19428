"""The files of a library folder: which ones are facefinder's, proving a folder is a library,
removing one safely, and salvaging a damaged catalog.

A library folder holds only these files (:data:`OWN_FILES`, plus the index's temporary files)::

    facefinder-library.json   marker written at creation: {"app": "facefinder", "id": UUID}
    catalog.sqlite (+ -wal, -shm, -journal)   the catalog; its meta table holds the same id
    faces.hnsw                the derived HNSW index

A folder is *proved* to be a library when its catalog is a facefinder catalog (it has
facefinder's tables and meta keys; it is opened read-only to find out) and, where a marker
exists, the marker's id matches the catalog's. Removing a library deletes only those files, one
by one, never following links and never touching anything else; the folder itself goes only
when nothing else is left in it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FacefinderError, LibraryDamagedError, LibraryError, os_error_sentence

CATALOG = "catalog.sqlite"
INDEX = "faces.hnsw"
MARKER = "facefinder-library.json"
OWN_FILES = frozenset({
    MARKER, CATALOG, CATALOG + "-wal", CATALOG + "-shm", CATALOG + "-journal", INDEX,
})
OWN_PATTERNS = (".faces-*.hnsw", MARKER + ".part", CATALOG + ".damaged-*", CATALOG + ".part-*")
"""Temporary files of a save killed midway, damaged catalogs kept aside by a repair, and a
catalog being copied by ``library migrate``."""
_FACEFINDER_TABLES = {"meta", "photos", "faces"}
_FACEFINDER_KEYS = ("model", "library_id", "schema")


def is_own_file(name: str) -> bool:
    return name in OWN_FILES or any(fnmatch.fnmatchcase(name, p) for p in OWN_PATTERNS)


def read_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("app") == "facefinder" else None


def write_marker(folder: Path, library_id: str) -> None:
    """Write the marker (atomically). Failure to write it is not fatal: the catalog proves the
    library too."""
    data = {"app": "facefinder", "kind": "library", "id": library_id,
            "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "note": "A facefinder library. `facefinder library remove` deletes only its files."}
    tmp = folder / (MARKER + ".part")
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, folder / MARKER)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def catalog_identity(catalog: Path) -> dict[str, str] | None:
    """The facefinder meta keys of a catalog, opened read-only (nothing is written to it), or
    None when the file is not a facefinder catalog (another program's database, an empty file).
    Raises LibraryDamagedError when SQLite cannot read it."""
    uri = "file:" + urllib.parse.quote(os.fsencode(os.path.abspath(catalog))) + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise LibraryError(f"{catalog} cannot be opened ({exc}).") from None
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if not _FACEFINDER_TABLES <= tables:
            return None
        keys = dict(con.execute(
            f"SELECT key, value FROM meta WHERE key IN ({','.join('?' * len(_FACEFINDER_KEYS))})",
            _FACEFINDER_KEYS).fetchall())
        return keys or None
    except sqlite3.DatabaseError as exc:
        low = str(exc).lower()
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            raise LibraryDamagedError(
                f"The library catalog {catalog} is damaged ({exc}); run `facefinder library "
                "repair` on it to keep everything that can still be read.") from None
        raise LibraryError(f"{catalog} cannot be read ({exc}).") from None
    finally:
        con.close()


def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that are not facefinder's own files (sorted)."""
    try:
        return sorted(n for n in os.listdir(folder) if not is_own_file(n))
    except FileNotFoundError:
        return []


@dataclass
class Removal:
    folder: Path
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # other files, never touched
    folder_removed: bool = False


def check_removable(folder: Path) -> dict[str, str]:
    """Prove ``folder`` is a facefinder library that may be removed; returns its catalog's
    identity. Raises FacefinderError with the reason otherwise."""
    folder = Path(folder)
    shown = os.fspath(folder)
    if folder.name in ("", ".", "..") or os.fspath(folder) in (".", ".."):
        raise FacefinderError(f"{shown}: give the library's name or its folder, not '.' or '..'.")
    if os.path.islink(folder):
        raise FacefinderError(f"{shown} is a symbolic link; give the library folder itself.")
    if not folder.is_dir():
        raise FacefinderError(f"No library at {shown}.")
    real = Path(os.path.realpath(folder))
    protected = {Path(os.path.realpath(p)) for p in (os.getcwd(), Path.home(), "/")}
    cwd = Path(os.path.realpath(os.getcwd()))
    if real in protected or real in cwd.parents:
        raise FacefinderError(
            f"{shown} is the current folder, one of its parents, or your home folder; "
            "facefinder never removes those.")
    catalog = folder / CATALOG
    if not catalog.is_file() or catalog.is_symlink():
        raise FacefinderError(f"{shown} is not a facefinder library (no catalog.sqlite).")
    identity = catalog_identity(catalog)
    if identity is None:
        raise FacefinderError(
            f"{shown} holds a catalog.sqlite that facefinder did not make; it is left alone.")
    marker = read_marker(folder)
    if marker is not None and identity.get("library_id") not in (None, marker.get("id")):
        raise FacefinderError(
            f"{shown}: the library marker does not match its catalog; facefinder will not "
            "remove it (delete the files yourself if you are sure).")
    return identity


def remove_library(folder: Path) -> Removal:
    """Delete the library files in ``folder`` (after :func:`check_removable`), one by one; the
    folder goes too when nothing else is left in it."""
    folder = Path(folder)
    check_removable(folder)
    out = Removal(folder)
    # The catalog last: until it is gone, the folder is still provably a library.
    names = sorted((n for n in os.listdir(folder) if is_own_file(n)),
                   key=lambda n: (n.startswith(CATALOG), n == CATALOG, n))
    for name in names:
        path = folder / name
        try:
            if path.is_symlink() or path.is_file():
                path.unlink()
                out.removed.append(name)
            else:
                out.kept.append(name)  # a folder named like one of ours: not ours
        except OSError as exc:
            raise FacefinderError(os_error_sentence(exc, "cannot remove")) from None
    out.kept += foreign_entries(folder)
    out.kept = sorted(set(out.kept))
    if not out.kept:
        try:
            folder.rmdir()
            out.folder_removed = True
        except OSError:
            pass
    return out


# -- salvaging a damaged catalog -------------------------------------------------------------------
@dataclass
class Salvage:
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (kept, lost)
    damaged_copy: Path | None = None


def salvage_rows(con: sqlite3.Connection, table: str, columns: list[str]
                 ) -> tuple[list[tuple], int]:
    """Every row of ``table`` that SQLite can still read, by rowid ranges: a range that fails is
    split in halves until the unreadable rows are isolated. Returns ``(rows, ranges lost)``."""
    cols = ", ".join(f'"{c}"' for c in columns)
    try:
        lo, hi = con.execute(f'SELECT MIN(rowid), MAX(rowid) FROM "{table}"').fetchone()
    except sqlite3.DatabaseError:
        lo, hi = None, None
    if lo is None:
        # The table's root or its ends are unreadable: walk it until it fails.
        rows: list[tuple] = []
        try:
            for row in con.execute(f'SELECT {cols} FROM "{table}"'):
                rows.append(row)
        except sqlite3.DatabaseError:
            return rows, 1
        return rows, 0
    rows, lost = [], 0
    stack = [(lo, hi)]
    while stack:
        a, b = stack.pop()
        try:
            part = con.execute(f'SELECT {cols} FROM "{table}" WHERE rowid BETWEEN ? AND ? '
                               "ORDER BY rowid", (a, b)).fetchall()
        except sqlite3.DatabaseError:
            if a == b:
                lost += 1
                continue
            mid = (a + b) // 2
            stack += [(mid + 1, b), (a, mid)]
            continue
        rows += part
    return rows, lost
