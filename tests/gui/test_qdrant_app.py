"""The app searches a library whose vectors are in Qdrant, and says indexing it is CLI-only."""

from __future__ import annotations

from helpers import HOPKINS_1, require_extra
from guihelpers import drop, file_mime

require_extra("qdrant_client", "qdrant")

from facefinder.core.distributed.locations import QdrantLibrary, open_library  # noqa: E402
from facefinder.core.scan import index_folder  # noqa: E402
from facefinder.core.search import search_photo  # noqa: E402

TIMEOUT = 60_000


def test_the_app_searches_a_qdrant_library_and_leaves_indexing_to_the_cli(
        qtbot, window, small_folder, engine, tmp_path):
    url = f"qdrant+path://{tmp_path}/qdrant/faces"
    with open_library(url, engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, small_folder):
            pass
        name = lib.path.name  # its catalog folder in the data folder: the app lists it
        expected = [(h.face.path, round(h.distance, 4))
                    for h in search_photo(lib, engine, HOPKINS_1, k=50).hits]
    window._refresh_libraries(select=name)
    assert window.library == name
    with qtbot.waitSignal(window.client.searchDone, timeout=TIMEOUT):
        drop(window, file_mime(HOPKINS_1))
    model = window.model
    got = [(model.row(i).path, round(model.row(i).distance, 4)) for i in range(model.rowCount())]
    assert len(got) >= 10 and got == expected[:len(got)]
    assert "hopkins" in got[0][0].lower()
    assert isinstance(window.client.libraries.opened(name), QdrantLibrary)

    with qtbot.waitSignal(window.client.indexFailed, timeout=TIMEOUT) as blocker:
        window.client.index(name, str(small_folder))
    assert "command line" in blocker.args[1] and "Qdrant" in blocker.args[1]
