"""Where facefinder keeps its files.

The platform's conventions come from platformdirs (``~/.local/share/facefinder`` and
``~/.cache/facefinder`` on Linux). ``FACEFINDER_DATA_DIR`` and ``FACEFINDER_CACHE_DIR`` override
them, which the tests use to keep every run in a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "facefinder"


def data_dir() -> Path:
    """Folder for libraries (created on demand)."""
    env = os.environ.get("FACEFINDER_DATA_DIR")
    path = Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Folder for the model weights and their fast form (created on demand; a folder that cannot
    be created is reported when something has to be written there)."""
    env = os.environ.get("FACEFINDER_CACHE_DIR")
    path = Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    return path


def libraries_dir() -> Path:
    path = data_dir() / "libraries"
    path.mkdir(parents=True, exist_ok=True)
    return path
