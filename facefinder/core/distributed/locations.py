"""Where a library lives, opening it with the right vector store, and copying it across kinds.

A library is named by ``--library`` as one of:

- a name (a folder in the data folder) or a folder path: the embedded library (SQLite catalog
  + hnswlib index in that folder), or a Qdrant-backed one if its catalog says so (below);
- ``qdrant://HOST[:PORT]/COLLECTION`` (``qdrants://`` for TLS; port 6333 by default; the API
  key, if the server wants one, from ``QDRANT_API_KEY``): the vectors in that Qdrant collection;
- ``qdrant+path:///DIR/COLLECTION``: the same in Qdrant's local mode, the collection stored in
  the folder DIR (no server; one process at a time; exact search), for tests and one machine.
  Local mode writes every point in its own SQLite transaction (about 60 faces/s here);
- ``qdrant+memory:///COLLECTION``: local mode in memory, for one process (benchmarks): the
  collection is built again from the catalog whenever a process opens the library.

Either address may end in ``?catalog=FOLDER``; by default a Qdrant-backed library's catalog
(photos, boxes, embeddings, people: the source of truth) is the folder
``COLLECTION@HOST-PORT`` (``COLLECTION@local-XXXXXXXX`` in local mode) in the data folder. The
catalog records its address and a store id (``meta.vector_store``), so that the folder's name
opens it too (``--library COLLECTION@HOST-PORT``, the app's library list) and one catalog is
never pointed at two collections, nor one collection shared by two catalogs.

:func:`migrate_library` copies a library to a new one of either kind: the catalog is copied as
it is (face ids, photos, people and names kept) under a new library id, and the new vector
store is built from it.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import urllib.parse
import uuid
import zlib
from pathlib import Path

from ..errors import FacefinderError, LibraryError, os_error_sentence
from ..library import Library, resolve_library_path
from ..library_files import CATALOG, foreign_entries
from ..paths import libraries_dir
from .qdrant_store import (PERSON_OBJECTS, PERSON_SEQ_META, STORE_META, QdrantLocation,
                           QdrantVectors, store_meta)

SCHEMES = ("qdrant", "qdrants", "qdrant+path", "qdrant+memory")
_COLLECTION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MIGRATING = CATALOG + ".part-migrate"
"""The catalog being copied by a migration (renamed into place when complete)."""


def is_store_url(spec) -> bool:
    """Whether ``--library`` names a Qdrant collection (rather than a name or a folder)."""
    return isinstance(spec, str) and spec.split("://", 1)[0].lower() in SCHEMES \
        and "://" in spec


def parse_location(url: str) -> tuple[QdrantLocation, Path | None]:
    """``(location, catalog folder or None)`` of a ``qdrant://`` address; FacefinderError with
    the expected forms when it is malformed."""
    forms = ("qdrant://HOST:PORT/COLLECTION or qdrant+path:///DIR/COLLECTION "
             "(optionally ?catalog=FOLDER)")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    query = urllib.parse.parse_qs(parts.query)
    unknown = set(query) - {"catalog"}
    if scheme not in SCHEMES or unknown or parts.fragment:
        raise FacefinderError(f"{url}: not a library address; use {forms}.")
    catalog = Path(os.path.expanduser(query["catalog"][-1])).absolute() \
        if query.get("catalog") else None
    if scheme == "qdrant+memory":
        collection = parts.path.strip("/")
        if parts.netloc:
            raise FacefinderError(f"{url}: use qdrant+memory:///COLLECTION (three slashes).")
        _check_collection(url, collection)
        return QdrantLocation(f"qdrant+memory:///{collection}", collection,
                              path=":memory:"), catalog
    if scheme == "qdrant+path":
        if parts.netloc not in ("", "localhost"):
            raise FacefinderError(f"{url}: a local Qdrant folder has no host; use "
                                  "qdrant+path:///DIR/COLLECTION (three slashes).")
        full = urllib.parse.unquote(parts.path)
        folder, collection = os.path.split(full.rstrip("/"))
        if not folder or not os.path.isabs(full):
            raise FacefinderError(f"{url}: give the folder as an absolute path: "
                                  "qdrant+path:///DIR/COLLECTION.")
        folder = os.path.abspath(os.path.expanduser(folder))
        _check_collection(url, collection)
        return QdrantLocation(f"qdrant+path://{folder}/{collection}", collection,
                              path=folder), catalog
    try:
        host, port = parts.hostname, parts.port or 6333
    except ValueError:
        raise FacefinderError(f"{url}: the port is not a number; use {forms}.") from None
    collection = parts.path.strip("/")
    if not host:
        raise FacefinderError(f"{url}: no host; use {forms}.")
    _check_collection(url, collection)
    return QdrantLocation(f"{scheme}://{host}:{port}/{collection}", collection, host=host,
                          port=port, https=scheme == "qdrants"), catalog


def _check_collection(url: str, name: str) -> None:
    if not _COLLECTION.match(name or ""):
        raise FacefinderError(f"{url}: say which collection, a name of letters, digits, '_', "
                              "'-' and '.' (for example qdrant://localhost:6333/faces).")


def default_catalog(loc: QdrantLocation) -> Path:
    """The catalog folder of a Qdrant-backed library, in the data folder."""
    if loc.path == ":memory:":
        key = "memory"
    elif loc.local:
        key = f"local-{zlib.adler32(loc.path.encode()):08x}"
    else:
        key = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', loc.host)}-{loc.port}"
    return libraries_dir() / f"{loc.collection}@{key}"


def catalog_folder(spec) -> Path:
    """The folder holding the catalog of the library ``spec`` names."""
    if is_store_url(spec):
        loc, catalog = parse_location(spec)
        return catalog or default_catalog(loc)
    return resolve_library_path(spec)


def library_exists(spec) -> bool:
    return (catalog_folder(spec) / CATALOG).is_file()


def peek_store(folder: Path) -> dict | None:
    """The ``vector_store`` record of the catalog in ``folder``, read without writing; None
    for an embedded library or where there is no readable catalog."""
    catalog = Path(folder) / CATALOG
    if not catalog.is_file():
        return None
    uri = "file:" + urllib.parse.quote(os.fsencode(os.path.abspath(catalog))) + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (STORE_META,)).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    try:
        data = json.loads(row[0]) if row else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("url") and data.get("id") else None


class QdrantLibrary(Library):
    """A library whose vectors live in Qdrant (:mod:`.qdrant_store`); the catalog is the
    embedded one. Open it with :func:`open_library`."""

    location: QdrantLocation

    def attach(self, location: QdrantLocation, store_id: str) -> None:
        self.location = location
        self.vectors = QdrantVectors(location, self, store_id)

    @property
    def index_path(self):  # where the vectors are, as notices name it
        return self.location.url

    def stats(self) -> dict:
        st = super().stats()
        st["vectors"] = self.location.url
        return st

    def close(self) -> None:
        try:
            super().close()
        finally:
            closer = getattr(self.vectors, "close", None)
            if closer is not None:
                closer()


def open_library(spec=None, fingerprint: str | None = None, create: bool = True) -> Library:
    """Open the library ``spec`` names (module docstring) with its vector store."""
    if not is_store_url(spec):
        path = resolve_library_path(spec)
        meta = peek_store(path)
        if meta is None:
            return Library(path, fingerprint, create)
        loc, _ = parse_location(meta["url"])
        lib = QdrantLibrary(path, fingerprint, create=False)
        lib.attach(loc, meta["id"])
        return lib
    loc, catalog = parse_location(spec)
    path = catalog or default_catalog(loc)
    if not create and not (path / CATALOG).is_file():
        raise LibraryError(f"No library at {loc.url} (its catalog would be {path}); index a "
                           "folder into it first.")
    lib = QdrantLibrary(path, fingerprint, create)
    try:
        meta = store_meta(lib)
        if meta is None:
            if lib.face_count() or lib.meta("index_record"):
                raise LibraryError(
                    f"{path} is an embedded library (its vectors are in faces.hnsw); copy it "
                    f"with `facefinder library migrate {path} {loc.url}`.")
            meta = {"url": loc.url, "id": uuid.uuid4().hex}
            lib.set_meta(STORE_META, json.dumps(meta))
        elif meta["url"] != loc.url:
            raise LibraryError(f"The catalog {path} keeps its vectors at {meta['url']}, not "
                               f"{loc.url}; give ?catalog=FOLDER for another library.")
    except BaseException:
        Library.close(lib)
        raise
    lib.attach(loc, meta["id"])
    return lib


def store_url(library: Library) -> str | None:
    """The Qdrant address of an open library, or None for an embedded one."""
    return library.location.url if isinstance(library, QdrantLibrary) else None


# -- migrate ----------------------------------------------------------------------------------
def migrate_library(src_spec, dest_spec) -> dict:
    """Copy the library ``src_spec`` into a new library ``dest_spec`` of either kind (module
    docstring). Returns ``{"src", "dest", "faces", "photos", "people", "catalog"}``."""
    src = open_library(src_spec, None, create=False)
    try:
        dest_folder = catalog_folder(dest_spec)
        if os.path.realpath(dest_folder) == os.path.realpath(src.path):
            raise LibraryError("The source and the destination are the same library.")
        if (dest_folder / CATALOG).exists():
            raise LibraryError(f"{dest_folder} already holds a library; migrate copies into a "
                               "new one (remove it first, or choose another name).")
        if foreign_entries(dest_folder):
            raise LibraryError(f"{dest_folder} is not empty and is not a facefinder library; "
                               "choose a new or empty folder.")
        dest_url = None
        if is_store_url(dest_spec):
            loc, _ = parse_location(dest_spec)
            dest_url = loc.url
            probe = QdrantVectors(loc, None, "")
            try:
                if probe.call("look up the collection", probe.client.collection_exists,
                              loc.collection):
                    raise LibraryError(f"The Qdrant collection {loc.url} already exists; "
                                       "migrate copies into a new collection.")
            finally:
                probe.close()
        try:
            dest_folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FacefinderError(os_error_sentence(exc, "cannot create the library")) from None
        tmp = dest_folder / MIGRATING
        if tmp.exists():
            tmp.unlink()  # left by a migration that was killed: ours, and incomplete
        _copy_catalog(src.path / CATALOG, tmp, dest_url)
        os.replace(tmp, dest_folder / CATALOG)
        faces, photos = src.state().faces, src.stats()["photos"]
        people = src.query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'people'")[0][0]
        n_people = src.query("SELECT COUNT(*) FROM people")[0][0] if people else 0
    finally:
        src.close()
    dest = open_library(dest_spec if dest_url else dest_folder, None, create=False)
    try:
        dest.load_index()  # builds the new vector store from the copied catalog
        dest.save_index(force=True)
        if dest.state().faces != faces:
            raise LibraryError("The copy does not hold every face of the source; nothing was "
                               "changed in the source.")
    finally:
        dest.close()
    return {"src": str(src_spec), "dest": str(dest_url or dest_folder), "faces": faces,
            "photos": photos, "people": n_people, "catalog": str(dest_folder)}


def _copy_catalog(source: Path, target: Path, dest_url: str | None) -> None:
    """A consistent copy of the catalog ``source`` into ``target`` (SQLite's backup), made a new
    library: a new id, no vector-store records or journal, and the new store's address."""
    uri = "file:" + urllib.parse.quote(os.fsencode(os.path.abspath(source))) + "?mode=ro"
    src = sqlite3.connect(uri, uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        with dst:
            dst.execute("DELETE FROM meta WHERE key IN ('library_id', 'index_record', "
                        "'index_pending', 'changes_pruned_upto', ?, ?)",
                        (STORE_META, PERSON_SEQ_META))
            dst.execute("DELETE FROM face_changes")
            for name in PERSON_OBJECTS[:-1]:
                dst.execute(f"DROP TRIGGER IF EXISTS {name}")
            dst.execute(f"DROP TABLE IF EXISTS {PERSON_OBJECTS[-1]}")
            dst.execute("INSERT INTO meta(key, value) VALUES ('library_id', ?)",
                        (uuid.uuid4().hex,))
            if dest_url:
                dst.execute("INSERT INTO meta(key, value) VALUES (?, ?)",
                            (STORE_META, json.dumps({"url": dest_url, "id": uuid.uuid4().hex})))
    except sqlite3.Error as exc:
        raise FacefinderError(f"Could not copy the catalog {source} ({exc}).") from None
    finally:
        src.close()
        dst.close()
