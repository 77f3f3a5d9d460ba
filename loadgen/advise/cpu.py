"""How busy this machine's cores were while a topology was measured.

On one machine every replica, the gateway and the load generator share the same cores: a
replica that needs CPU helps only while a core is free. :class:`CpuMeter` reads the
operating system's CPU counters (psutil) at the start and the end of a measurement -- two
reads, nothing while the load runs -- and gives the share of all cores that was busy
(anything but idle and I/O wait) and how many cores the Flow's own processes used.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import psutil

from loadgen.observe.processes import flow_processes


@dataclass(frozen=True)
class CpuUse:
    """``busy``: share of all ``cores`` busy (0..1); ``flow_cores``: cores the Flow's
    processes used on average (None when they could not be read)."""

    busy: float
    flow_cores: Optional[float]
    cores: int


class CpuMeter:
    """Start it before the load, :meth:`stop` after; ``flow_pid`` is the Flow's parent process."""

    def __init__(self, flow_pid: Optional[int] = None):
        self.flow_pid = flow_pid
        self.started = time.monotonic()
        self.machine = psutil.cpu_times()
        self.flow = _flow_cpu_s(flow_pid)

    def stop(self) -> CpuUse:
        """The CPU use since the meter started."""
        wall = max(1e-9, time.monotonic() - self.started)
        before, after = self.machine, psutil.cpu_times()
        total = sum(after) - sum(before)
        idle = (after.idle - before.idle) + (getattr(after, "iowait", 0.0) - getattr(before, "iowait", 0.0))
        busy = min(1.0, max(0.0, 1 - idle / total)) if total > 0 else 0.0
        flow_after = _flow_cpu_s(self.flow_pid)
        flow_cores = None if self.flow is None or flow_after is None else max(0.0, flow_after - self.flow) / wall
        return CpuUse(busy=busy, flow_cores=flow_cores, cores=psutil.cpu_count() or 1)


def _flow_cpu_s(pid: Optional[int]) -> Optional[float]:
    """CPU seconds (user + system) of the Flow's processes so far, None when unknown."""
    if pid is None:
        return None
    total = 0.0
    for process in flow_processes(pid):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total or None
