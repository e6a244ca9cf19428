"""packaging/build.py's choice of the bundle's Python (issue 8): the newest Python 3.12+ on the
machine, in a build environment of its own holding the runtime dependencies pyproject.toml
states; else the project's Python, said plainly. The build itself runs in
packaging/ci-build-and-selftest.sh."""

from __future__ import annotations

import importlib.util
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO


@pytest.fixture
def build():
    spec = importlib.util.spec_from_file_location("facefinder_packaging_build",
                                                  REPO / "packaging" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_python(folder: Path, name: str, version: str) -> Path:
    """An executable that answers the version query like that Python would."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {version.replace('.', ' ')}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_requirements_are_the_runtime_ones_with_the_same_pyside(build):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs = build.bundle_requirements()
    names = [r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].split("!")[0].strip()
             .lower() for r in reqs]
    assert not {"tensorflow", "tensorflow-cpu", "h5py", "mtcnn"} & set(names), reqs
    for needed in ("ai-edge-litert", "numpy", "pillow", "hnswlib", "platformdirs",
                   "pyside6-essentials", "pillow-heif", "pyinstaller"):
        assert needed in names, (needed, reqs)
    # The PySide6 specifier (which keeps out 6.12.0) is the gui extra's, word for word.
    assert project["optional-dependencies"]["gui"][0] in reqs


def test_candidates_are_3_12_and_newer_newest_first(build, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_python(bin_dir, "python3.12", "3.12.4")
    _fake_python(bin_dir, "python3.14", "3.14.1")
    _fake_python(bin_dir, "python3.11", "3.11.9")  # too old, and not a name looked for
    pyenv = tmp_path / "pyenv"
    (pyenv / "versions" / "3.13.2" / "bin").mkdir(parents=True)
    _fake_python(pyenv / "versions" / "3.13.2" / "bin", "python3", "3.13.2")
    (pyenv / "versions" / "3.10.1" / "bin").mkdir(parents=True)
    _fake_python(pyenv / "versions" / "3.10.1" / "bin", "python3", "3.10.1")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(pyenv))
    found = build.python_candidates()
    assert [v for v, _ in found] == [(3, 14, 1), (3, 13, 2), (3, 12, 4)]


def test_the_next_python_is_tried_then_the_projects_with_a_note(build, monkeypatch, capsys):
    tried = []

    def failing(python, version):
        tried.append(version)
        raise subprocess.CalledProcessError(1, ["pip", "install"])

    monkeypatch.setattr(build, "python_candidates",
                        lambda: [((3, 14, 0), "/x/python3.14"), ((3, 13, 0), "/x/python3.13")])
    monkeypatch.setattr(build, "build_venv", failing)
    monkeypatch.setattr(build, "ensure_pyinstaller", lambda python: python)
    monkeypatch.delenv("FACEFINDER_BUNDLE_PYTHON", raising=False)
    assert build.bundle_python(None) == sys.executable
    assert tried == [(3, 14, 0), (3, 13, 0)]
    out = capsys.readouterr().out
    assert "trying the next" in out and "NOTE: no Python 3.12+" in out and "2 tried" in out

    monkeypatch.setattr(build, "build_venv", lambda python, version: f"venv of {python}")
    assert build.bundle_python(None) == "venv of /x/python3.14"
    assert build.bundle_python("project") == sys.executable
