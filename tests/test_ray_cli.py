"""`facefinder index FOLDER --ray`: a driver killed mid-run resumes, and leaves no Ray behind.

Runs the real CLI in a fresh process, which starts its own private local Ray (one worker). A
separate module from test_ray.py so that the two Rays never run at once on the 2-core machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from helpers import (FACES, GROUPS, REPO, assert_same_contents, committed_photos,
                     library_contents, require_extra)

require_extra("ray", "ray")
psutil = pytest.importorskip("psutil")

from facefinder.core.library import Library  # noqa: E402
from facefinder.core.scan import index_folder  # noqa: E402

pytestmark = pytest.mark.slow


def _cli(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "facefinder.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_ray_driver_resumes_and_leaves_no_ray_running(tmp_path, engine):
    folder = tmp_path / "photos"
    folder.mkdir()
    for src in sorted(GROUPS.iterdir()):
        shutil.copyfile(src, folder / src.name)
    # 36 photos: more than two of the workers' chunks (16), so that commits come in steps.
    people = sorted(p for p in FACES.iterdir() if p.name.islower() and "_" in p.name)
    for person in [p for p in people if len(list(p.iterdir())) >= 4][:8]:
        for src in sorted(person.iterdir())[:4]:
            shutil.copyfile(src, folder / src.name)
    total = len(list(folder.iterdir()))
    with Library(tmp_path / "plain", engine.fingerprint) as lib:
        for _ in index_folder(lib, engine, folder):
            pass
        plain = library_contents(lib)

    env = dict(os.environ, PYTHONPATH=str(REPO), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
               RAY_USAGE_STATS_ENABLED="0")
    lib_path = tmp_path / "ray-lib"
    args = ("index", str(folder), "--ray", "--ray-workers", "1", "-L", str(lib_path), "-q")
    proc = _cli(*args, env=env)
    catalog = lib_path / "catalog.sqlite"
    deadline = time.monotonic() + 240
    try:
        while committed_photos(catalog, timeout=1) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()}"
        ray_processes = psutil.Process(proc.pid).children(recursive=True)
        assert ray_processes, "the driver started no Ray processes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = committed_photos(catalog, timeout=1)
    assert 1 <= done_before < total

    killed_at = time.monotonic()

    # The next run continues where the killed one stopped and ends like the plain run.
    again = _cli(*args[:-1], env=env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert "Indexing on a local Ray: 1 worker" in err
    assert f"{done_before} unchanged" in out
    with Library(lib_path, None, create=False) as lib:
        assert_same_contents(plain, library_contents(lib))

    # Ray's processes go with their killed driver: the raylet and the workers at once, its two
    # agents once they have given up reporting to the (dead) control store.
    gone, alive = psutil.wait_procs(ray_processes,
                                    timeout=max(1.0, 150 - (time.monotonic() - killed_at)))
    assert not alive, f"Ray processes left running after the driver was killed: {alive}"
    print(f"Ray processes of the killed driver all gone {time.monotonic() - killed_at:.0f} s "
          "after the kill")
