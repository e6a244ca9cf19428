"""The app path's indexing, measured: ``python -m facefinder.gui.bench_app FOLDER LIBRARY``.

What ``facefinder bench`` runs to compare the app with the CLI on the same photos. Offscreen, in
a fresh process: a :class:`~facefinder.gui.client.ServiceClient` loads the face model (as the
window does at start; not timed), then ``index(LIBRARY, FOLDER)`` is timed until ``indexDone``,
which includes starting the worker process and its model load, as the CLI's time includes its
start-up. Meanwhile a 10 ms timer measures the GUI thread's waits (see
:mod:`facefinder.gui.heartbeat`) and every 50 ms the resident memory of this process, its
indexing worker and its model server (for searches) is summed; the peak of that sum is "all
processes together". ``--burn N`` runs N
CPU-burning programs during the job (another program loading the machine). Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("library")
    parser.add_argument("--burn", type=int, default=0, help="CPU-burning programs to run")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .client import ServiceClient
    from .heartbeat import Heartbeat

    app = QApplication(["facefinder-bench"])
    client = ServiceClient()
    state: dict = {}

    def stop(*_a) -> None:
        app.quit()

    client.modelReady.connect(stop)
    client.weightsMissing.connect(lambda: (state.update(error="weights missing"), stop()))
    client.modelFailed.connect(lambda k, m: (state.update(error=m), stop()))
    client.load()
    app.exec()
    if "error" in state:
        print(json.dumps(state))
        return 1

    beat = Heartbeat()
    mem = {"peak_sum_kib": 0, "app_hwm_kib": 0, "worker_hwm_kib": 0, "server_hwm_kib": 0}
    workers: set[int] = set()

    def sample() -> None:
        me = _status_kib(os.getpid(), "VmRSS")
        total = me
        w = client.worker
        if w is not None and w.pid:
            workers.add(w.pid)
            total += _status_kib(w.pid, "VmRSS")
            mem["worker_hwm_kib"] = max(mem["worker_hwm_kib"], _status_kib(w.pid, "VmHWM"))
        server = client.models.server.proc  # the model server (searches): it lives on
        if server is not None:
            total += _status_kib(server.pid, "VmRSS")
            mem["server_hwm_kib"] = max(mem["server_hwm_kib"],
                                        _status_kib(server.pid, "VmHWM"))
        mem["peak_sum_kib"] = max(mem["peak_sum_kib"], total)

    sampler = QTimer()
    sampler.setInterval(50)
    sampler.timeout.connect(sample)

    def done(req, summary) -> None:
        state["seconds"] = time.perf_counter() - state["t0"]
        state["summary"] = summary
        app.quit()

    client.indexDone.connect(done)
    client.indexFailed.connect(lambda req, m: (state.update(error=m), app.quit()))
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(args.burn)]
    try:
        beat.start()
        sampler.start()
        state["t0"] = time.perf_counter()
        client.index(args.library, args.folder)
        app.exec()
        beat.stop()
        sampler.stop()
    finally:
        for p in burners:
            p.kill()
            p.wait()
    mem["app_hwm_kib"] = _status_kib(os.getpid(), "VmHWM")
    client.shutdown()
    if "error" in state:
        print(json.dumps({"error": state["error"]}))
        return 1
    s = state["summary"]
    g = beat.worst_gap
    print(json.dumps({
        "photos": s.processed, "faces": s.faces_added, "seconds": round(state["seconds"], 2),
        "photos_per_s": round(s.processed / state["seconds"], 3),
        "gui_worst_wait_ms": round(beat.worst * 1000, 1),
        "gui_worst_wait_cpu_queue_ms": round(g.cpu_wait * 1000, 1) if g.cpu_wait >= 0 else None,
        "gui_worst_wait_not_for_cpu_ms": round(beat.worst_own * 1000, 1),
        "gui_ticks": beat.ticks, "burners": args.burn, "worker_processes": len(workers),
        "peak_mib_all_processes": round(mem["peak_sum_kib"] / 1024),
        "peak_mib_app": round(mem["app_hwm_kib"] / 1024),
        "peak_mib_worker": round(mem["worker_hwm_kib"] / 1024),
        "peak_mib_model_server": round(mem["server_hwm_kib"] / 1024),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
