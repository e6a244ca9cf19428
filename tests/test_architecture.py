"""The core never imports Qt: checked by import-linter and by running it with Qt blocked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from helpers import REPO

BLOCK_QT = """
import sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt is not installed here (blocked by the test)')
sys.meta_path.insert(0, _NoQt())
"""


@pytest.mark.model  # the import checks below need neither the weights nor the photos
def test_core_and_cli_work_with_qt_absent():
    code = BLOCK_QT + f"""
import pkgutil, importlib, facefinder.core
for m in pkgutil.iter_modules(facefinder.core.__path__):
    importlib.import_module('facefinder.core.' + m.name)
from facefinder.cli import main
sys.exit(main(['compare', {str(helpers.HOPKINS_1)!r}, {str(helpers.HOPKINS_2)!r}, '--json']))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert '"same_person": true' in proc.stdout


def test_import_contracts():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([lint], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KEPT" in proc.stdout and "BROKEN" not in proc.stdout
    # the layers contract (pyproject.toml): the core's imports run one way, with no circle
    assert "the core's imports run one way KEPT" in proc.stdout, proc.stdout


def test_nothing_heavy_is_loaded_at_import_time():
    code = ("import sys, facefinder.cli, facefinder.core.pipeline, facefinder.core.library; "
            "print(sorted(m for m in ('tensorflow', 'mtcnn', 'hnswlib', 'ai_edge_litert', "
            "'PySide6') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
