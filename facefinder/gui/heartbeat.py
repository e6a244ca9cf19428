"""How long the GUI thread waits: a 10 ms timer and the longest gap between its ticks.

Used by the GUI tests and by ``facefinder bench`` (the app path). On Linux each tick also reads
the thread's scheduler statistics (``/proc/thread-self/schedstat``: CPU time and time spent
waiting for a CPU), so the worst gap can be split into "waiting for a CPU" (other programs, or
the worker, had the cores) and the rest (this process's own work on the GUI thread, or a lock
such as the GIL held by another thread of the app).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QTimer


def _schedstat() -> tuple[float, float] | None:
    """(CPU seconds, run-queue wait seconds) of the calling thread; None where unknown."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            cpu, wait, _ = f.read().split()
        return int(cpu) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return None


@dataclass
class Gap:
    """The longest wait between two ticks: ``seconds`` in all, of which ``cpu_wait`` waiting
    for a CPU and ``cpu`` running (-1: unknown)."""

    seconds: float = 0.0
    cpu_wait: float = -1.0
    cpu: float = -1.0


class Heartbeat:
    """A 10 ms QTimer on the GUI thread; ``worst`` is the longest gap between ticks (s)."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last: float | None = None
        self._last_stat = None
        self.worst = 0.0
        self.worst_gap = Gap()
        self.worst_own = 0.0
        """The longest gap less the time spent waiting for a CPU in it (s): what this process
        itself kept the GUI thread from ticking (its own work, or a lock such as the GIL held
        by another of its threads). Equals ``worst`` where schedstat is unknown."""
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        stat = _schedstat()
        if self.last is not None:
            gap = now - self.last
            waited = (stat[1] - self._last_stat[1]
                      if stat is not None and self._last_stat is not None else 0.0)
            self.worst_own = max(self.worst_own, gap - waited)
            if gap > self.worst:
                self.worst = gap
                if stat is not None and self._last_stat is not None:
                    self.worst_gap = Gap(gap, stat[1] - self._last_stat[1],
                                         stat[0] - self._last_stat[0])
                else:
                    self.worst_gap = Gap(gap)
        self.last = now
        self._last_stat = stat
        self.ticks += 1

    def start(self) -> None:
        self.last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def describe(self) -> str:
        g = self.worst_gap
        text = f"{g.seconds * 1000:.0f} ms"
        if g.cpu_wait >= 0:
            text += (f" ({g.cpu_wait * 1000:.0f} ms of it waiting for a CPU, "
                     f"{g.cpu * 1000:.0f} ms running); longest wait not for a CPU "
                     f"{self.worst_own * 1000:.0f} ms")
        return text
