"""The menu entry and "Open with" (issue 13, major 5): ``resources/facefinder.desktop`` starts
the app (not the CLI); ``facefinder gui PHOTO...`` opens it searching with those photos; a start
while the app is open hands its files to the open window and ends, instead of opening a second
app."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import GROUPS, HOPKINS_1, HOPKINS_2

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DESKTOP = REPO / "resources" / "facefinder.desktop"


def _env() -> dict[str, str]:
    env = dict(os.environ)  # FACEFINDER_DATA_DIR: the test's own (the same as the window's)
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return env


@pytest.fixture
def listening(window):
    """The open app: a window with its model, listening for later starts as app.main does."""
    from facefinder.gui.single_instance import InstanceServer

    server = InstanceServer(window)
    server.pathsReceived.connect(window.open_paths)
    assert server.listen()
    window.instance_server = server
    return window


def _start(qtbot, args: list[str], timeout: float = 120) -> subprocess.Popen:
    """Start ``args`` and let this process's event loop (the open app) run until it ends."""
    proc = subprocess.Popen(args, cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=int(timeout * 1000))
    proc.stderr_text = proc.stderr.read()
    return proc


def test_the_desktop_entry_runs_the_app_and_hands_files_to_the_open_window(
        qtbot, listening):
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(DESKTOP, encoding="utf-8")
    exec_line = entry["Desktop Entry"]["Exec"]
    command, *rest = shlex.split(exec_line)
    assert rest == ["%F"], exec_line
    # The command is the app's own script, not the CLI (which only prints its usage).
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'{command} = "facefinder.gui.app:main"' in pyproject
    program = shutil.which(command, path=os.path.dirname(sys.executable))
    assert program, f"{command} is not installed next to {sys.executable} (pip install -e .)"
    assert entry["Desktop Entry"]["TryExec"] == command
    proc = _start(qtbot, [program, str(HOPKINS_1), str(HOPKINS_2)])
    assert proc.returncode == 0, proc.stderr_text
    assert "already open" in proc.stderr_text
    qtbot.waitUntil(lambda: listening.query_path == str(HOPKINS_1), timeout=10_000)
    assert listening.queue == [str(HOPKINS_2)]


def test_facefinder_gui_with_a_folder_on_the_open_app_opens_the_wizard(
        qtbot, listening, small_folder):
    proc = _start(qtbot, [sys.executable, "-m", "facefinder.cli", "gui", str(small_folder)])
    assert proc.returncode == 0, proc.stderr_text
    assert listening.wizard is not None and listening.wizard.isVisible()
    assert listening.wizard.folder_page.folder.text() == str(small_folder)
    listening.wizard.reject()


def test_a_second_start_without_files_only_raises_the_open_window(qtbot, listening):
    started = time.monotonic()
    proc = _start(qtbot, [sys.executable, "-m", "facefinder.cli", "gui"])
    assert proc.returncode == 0, proc.stderr_text
    assert time.monotonic() - started < 60  # it did not open (and then close) an app itself
    assert listening.query_path is None and listening.isVisible()


def test_facefinder_gui_photo_opens_the_app_searching_with_it(tmp_path):
    """No app open: ``facefinder gui PHOTO PHOTO`` opens one, searching with the first photo
    (here a library made from the test photos) and queuing the second."""
    env = _env()
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in (HOPKINS_1, HOPKINS_2):
        shutil.copyfile(p, photos / p.name)
    out = subprocess.run([sys.executable, "-m", "facefinder.cli", "index", str(photos)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    group = GROUPS / "dlib_2008_001322.jpg"
    proc = subprocess.run([sys.executable, str(HERE / "app_driver.py"), "cli-gui", str(group),
                           str(HOPKINS_1)], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    report = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    assert report.get("searched") == str(group), report
    assert report["faces"] > 1 and report["results"] >= 2
    assert report["queued"] == [str(HOPKINS_1)]
