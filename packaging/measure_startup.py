"""Measure the packaged app's start-up: seconds from launch to the main window's first paint.

    .venv/bin/python packaging/measure_startup.py [--runs 3] [--wait-model] [--app PATH]

Runs ``dist/facefinder/facefinder --startup-probe`` (see packaging/entry.py) ``--runs`` times and
prints each time and the median. The clock starts just before the process is launched
(FACEFINDER_PROBE_T0), so the bootloader and Python's start count. Without a $DISPLAY it starts
Xvfb (apt-get install xvfb) for a real X11 window; ``--offscreen`` uses Qt's offscreen platform
instead. ``--wait-model`` also reports when the face model is loaded and ready.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default=str(ROOT / "dist" / "facefinder" / "facefinder"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wait-model", action="store_true")
    parser.add_argument("--offscreen", action="store_true")
    parser.add_argument("--limit", type=float, default=5.0, help="fail above this median (s)")
    args = parser.parse_args()

    env = dict(os.environ)
    xvfb = None
    if args.offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
    elif not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        if not shutil.which("Xvfb"):
            print("no display and no Xvfb: install xvfb or pass --offscreen", file=sys.stderr)
            return 2
        display = ":97"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten",
                                 "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        env["DISPLAY"] = display
        env.pop("QT_QPA_PLATFORM", None)
    shown, ready = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="facefinder-startup-") as tmp:
            # A fresh data folder (no libraries) and settings, like a first start.
            env["FACEFINDER_DATA_DIR"] = str(Path(tmp) / "data")
            env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
            for i in range(args.runs):
                cmd = [args.app, "--startup-probe"] + (["--wait-model"] if args.wait_model else [])
                env["FACEFINDER_PROBE_T0"] = repr(time.time())
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
                out = proc.stdout + proc.stderr
                m = re.search(r"main window painted ([\d.]+) s", out)
                if proc.returncode != 0 or not m:
                    print(f"run {i + 1}: failed (exit {proc.returncode})\n{out}", file=sys.stderr)
                    return 1
                shown.append(float(m.group(1)))
                r = re.search(r"face model ready ([\d.]+) s", out)
                if r:
                    ready.append(float(r.group(1)))
                print(f"run {i + 1}: window painted after {shown[-1]:.3f} s"
                      + (f", model ready after {ready[-1]:.3f} s" if r else ""), flush=True)
                if "tensorflow was imported" in out:
                    print("tensorflow was imported!", file=sys.stderr)
                    return 1
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    median = statistics.median(shown)
    platform = "offscreen" if args.offscreen else ("Xvfb" if xvfb else "display")
    print(f"median of {len(shown)} runs ({platform}): window painted after {median:.3f} s"
          + (f", model ready after {statistics.median(ready):.3f} s" if ready else ""))
    return 0 if median < args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
