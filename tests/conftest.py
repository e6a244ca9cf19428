"""Fixtures for every test: real photos from ../shared/data, the real model, libraries in tmp
folders; and the ``model`` marker (plain helpers and constants are in helpers.py).

The FaceNet weights must be in the cache (``facefinder model fetch``; ``.ci/run`` does it).
Each test gets its own data folder (libraries) through ``FACEFINDER_DATA_DIR``.

``model`` marks the tests that need the weights and the photos, applied here: a test that uses
one of :data:`MODEL_FIXTURES`, or whose module uses the photos (imports one of
``helpers.PHOTO_NAMES``) or says ``pytestmark = pytest.mark.model``. ``pytest -m "not model"``
runs the others, in seconds.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import helpers
from helpers import FACES, PHOTO_NAMES, SHARED_DATA

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODEL_FIXTURES = frozenset({"engine", "shared_data", "window", "small_folder"})
"""Fixtures that load the model or copy the test photos."""


def needs_model(item: pytest.Item) -> bool:
    """Whether a collected test needs the weights and the photos (see the module docstring)."""
    if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    module = getattr(item, "module", None)
    return module is not None and any(
        getattr(module, name, None) is getattr(helpers, name) for name in PHOTO_NAMES)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if needs_model(item):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not FACES.is_dir():
        pytest.fail(f"test photos not found at {SHARED_DATA} (set FACEFINDER_TEST_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Libraries made by a test live in its tmp folder, never in the user's data folder."""
    monkeypatch.setenv("FACEFINDER_DATA_DIR", str(tmp_path / "facefinder-data"))


@pytest.fixture(scope="session")
def engine():
    """The real engine (MTCNN + FaceNet), loaded once per test session."""
    from facefinder.core.pipeline import Engine

    eng = Engine()
    eng.load()
    return eng


@pytest.fixture
def no_leftover_threads():
    """Fails the test if it leaves non-daemon threads running."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate()
                if t not in before and t.is_alive() and not t.daemon]
    for t in leftover:
        t.join(timeout=5)
    leftover = [t for t in leftover if t.is_alive()]
    assert not leftover, f"threads left running: {leftover}"
