"""``facefinder bench``'s indexing figures: photos a second and peak memory, start-up included.

Every figure comes from a fresh ``facefinder index`` process on the same camera-size photos
(:func:`facefinder.synthetic.make_camera_corpus`: 4000x3000 JPEGs, 1-4 real faces each, their
places known), and is set against a baseline run in the same benchmark:

- ``facefinder``: the CLI as it is (photo workers, one per core);
- ``baseline``: the single pipeline it replaced, one photo at a time, detecting on a 1280 px
  copy (``FACEFINDER_WORKERS=1 facefinder index --detect-size 1280``);
- ``app``: the desktop app's indexing of the same photos (:func:`bench_app_index`), on a quiet
  machine and with two CPU-burning programs running.

Memory is that of the indexing process and every process it starts, together: each one's
``VmHWM`` (its own peak), summed, and the largest sum of ``VmRSS`` seen while sampling.

Start-up is measured as an installed facefinder starts: with its modules compiled to bytecode
(``pip install`` compiles them; :func:`compile_package` does it first for a source checkout in
an environment with ``PYTHONDONTWRITEBYTECODE`` set, where every start would compile the
package again: 0.3 s of each process's start-up, measured).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASELINE_ENV = {"FACEFINDER_WORKERS": "1"}
BASELINE_ARGS = ("--detect-size", "1280")


def compile_package() -> None:
    """Compile facefinder's modules to bytecode where they are not yet (as ``pip install``
    does), so that each measured process starts as an installed one; silent where the package's
    folder cannot be written."""
    import compileall

    try:
        compileall.compile_dir(str(Path(__file__).resolve().parent), quiet=2)
    except OSError:
        pass


def _status_kib(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    """Fields of ``/proc/PID/status`` in KiB (missing when the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in keys:
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children...), from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def run_measured(args: list[str], env: dict) -> tuple[float, dict, subprocess.CompletedProcess]:
    """Run ``facefinder ARGS`` in a fresh process; returns (wall seconds, memory, result), where
    memory is ``{"sum_vmhwm_mib", "peak_rss_mib", "processes"}`` over the process and all its
    descendants (sampled every 50 ms; new processes are looked for every half second), plus
    ``"cpu_s"``, the CPU time (user + system) it used: unlike wall time, hardly changed by other
    work on the machine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "facefinder.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    hwm: dict[int, int] = {}
    peak_rss = 0
    tree = {proc.pid}
    tick = 0
    usage = None
    while usage is None:
        # wait4 rather than poll: it also gives the child's CPU time (its descendants' only
        # once they have been waited for, which a worker process's parent does).
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            usage = rusage
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if tick % 10 == 0:
            tree |= _descendants(proc.pid)
        rss = 0
        for pid in tree:
            status = _status_kib(pid, ("VmHWM", "VmRSS"))
            if status:
                hwm[pid] = max(hwm.get(pid, 0), status.get("VmHWM", 0))
                rss += status.get("VmRSS", 0)
        peak_rss = max(peak_rss, rss)
        tick += 1
        time.sleep(0.05)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"facefinder {' '.join(args)} failed: {err[-2000:]}")
    memory = {"sum_vmhwm_mib": round(sum(hwm.values()) / 1024),
              "peak_rss_mib": round(peak_rss / 1024), "processes": len(hwm),
              "cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}
    return wall, memory, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def library_boxes(library_path: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """{file name: face boxes} of a library."""
    from .core.library import Library

    boxes: dict[str, list] = {}
    with Library(library_path, None, create=False) as opened:
        for path, box, _, _ in opened.export_rows():
            boxes.setdefault(Path(path).name, []).append(box)
    return boxes


def measure_cli_index(corpus: Path, truth: dict, library: Path, env: dict,
                      extra_args: tuple[str, ...] = ()) -> dict:
    """One ``facefinder index`` run over ``corpus`` into a new ``library``: its rate (start-up
    included), memory, and how many of the known faces it found."""
    from .synthetic import found

    wall, memory, _ = run_measured(["index", str(corpus), "--library", str(library), "-q",
                                    *extra_args], env)
    cpu = memory.pop("cpu_s")
    boxes = library_boxes(library)
    hit, total, _ = found(truth, boxes)
    return {"photos_per_s": round(len(truth) / wall, 2), "wall_s": round(wall, 1),
            "cpu_s": cpu, "cpu_s_per_photo": round(cpu / len(truth), 3),
            "faces_found": f"{hit}/{total}", "faces_indexed": sum(map(len, boxes.values())),
            "peak_memory_mib": memory}


def bench_app_index(corpus: Path, truth: dict, work: Path, env: dict, name: str = "lib-app",
                    burn: int = 0) -> dict:
    """The desktop app's indexing of the same photos, as its users get it: ``ServiceClient.index``
    until ``indexDone`` in a fresh offscreen process (:mod:`facefinder.gui.bench_app`: the
    worker process's start-up and model load included, the model server already started as
    the window does at start), with the keys of :func:`measure_cli_index` where they apply, the
    GUI thread's worst wait, and the memory of the app, its worker and its model server.
    ``burn``: CPU-burning programs run meanwhile (another program loading the machine)."""
    from .synthetic import found

    library = work / name
    proc = subprocess.run([sys.executable, "-m", "facefinder.gui.bench_app", str(corpus),
                           str(library), "--burn", str(burn)], capture_output=True, text=True,
                          env=dict(env, QT_QPA_PLATFORM="offscreen"))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the app path failed: {proc.stdout[-1000:]} {proc.stderr[-2000:]}")
    out = json.loads(lines[-1])
    boxes = library_boxes(library)
    hit, total, _ = found(truth, boxes)
    out["faces_found"] = f"{hit}/{total}"
    out["faces_indexed"] = sum(map(len, boxes.values()))
    return out


def bench_index(data: Path, work: Path, n_photos: int, baseline: bool = True,
                app: bool = True) -> dict:
    """The indexing figures on ``n_photos`` camera-size photos (see the module docstring);
    ``baseline`` / ``app``: also the single pipeline's / the app's (quiet and with two
    CPU-burning programs), on the same photos."""
    from .synthetic import make_camera_corpus

    corpus = work / "camera"
    truth = make_camera_corpus(data, corpus, n_photos)
    compile_package()
    env = dict(os.environ, FACEFINDER_DATA_DIR=str(work / "data"))
    report: dict = {
        "photos": n_photos, "photo_size": "4000x3000 JPEG",
        "faces_pasted": sum(len(r) for r in truth.values()),
        "corpus": "facefinder.synthetic.make_camera_corpus (real scenes and faces, grain)",
    }
    report["load_average"] = [round(x, 1) for x in os.getloadavg()]
    report["started"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    report["facefinder"] = measure_cli_index(corpus, truth, work / "lib-cli", env)
    if app:
        # The app right after the CLI, on the same photos: the ratio is what the README quotes.
        quiet = bench_app_index(corpus, truth, work, env)
        quiet["rate_vs_cli"] = round(quiet["photos_per_s"]
                                     / report["facefinder"]["photos_per_s"], 3)
        report["app"] = {"quiet": quiet,
                         "loaded": bench_app_index(corpus, truth, work, env, "lib-app-loaded",
                                                   burn=2)}
    if baseline:
        report["baseline"] = measure_cli_index(corpus, truth, work / "lib-baseline",
                                               dict(env, **BASELINE_ENV), BASELINE_ARGS)
        report["baseline"]["what"] = ("one photo at a time, detection on a 1280 px copy: "
                                      "FACEFINDER_WORKERS=1 facefinder index --detect-size 1280")
        report["speedup"] = round(report["facefinder"]["photos_per_s"]
                                  / report["baseline"]["photos_per_s"], 2)
    report["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    return report


def bench_profile(data: Path, work: Path, n_photos: int) -> dict:
    """Thread CPU time of each stage of indexing, per photo (see :mod:`facefinder.profiling`)."""
    from .profiling import profile_index
    from .synthetic import make_camera_corpus

    corpus = work / "camera-profile"
    make_camera_corpus(data, corpus, n_photos)  # the first photos of the index benchmark's
    return profile_index(sorted(corpus.iterdir()), work / "lib-profile")
