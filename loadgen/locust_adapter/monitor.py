"""Each load-generating process watches itself: event-loop lag and CPU use (see :mod:`loadgen.selfcheck`).

:class:`LoopMonitor` is a timer on gevent's hub that asks to fire every ``period_s`` (10 ms)
and records how late it fired: when a reply arrives while the hub runs something else, it
waits just as long, and the wait is timed as the server's. The timer calls back on the hub
itself, as the switch into a reply's greenlet happens, so a wake costs the loop's timer, a
``perf_counter`` read and one histogram record: no greenlet and no switch (a greenlet that
slept in a loop measured the same lag for ~40% more CPU: docs/performance.md).
:class:`CpuMeter` reads the process's CPU time against wall time; it is read once per
report interval (a worker) or flush (a single process), never per request.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import gevent

from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG, LOOP_LAG_PERIOD_S, CpuTime


class LoopMonitor:
    """Records the event loop's lag, in s, through ``record`` every ``period_s`` s.

    :param clock: a monotonic clock in s (tests pass a fake one).
    :param loop: the event loop whose ``timer(after, repeat)`` fires :meth:`wake` (default:
        gevent's hub loop at :meth:`start`; tests pass a fake one).
    """

    def __init__(self, record: Callable[[float], Any], *, period_s: float = LOOP_LAG_PERIOD_S,
                 clock: Callable[[], float] = time.perf_counter, loop: Any = None):
        self._record, self.period_s, self._clock, self._loop = record, period_s, clock, loop
        self._timer: Any = None
        self._asked = 0.0  # the clock when the timer was last asked to fire in period_s

    def wake(self) -> None:
        """The timer's callback: the lag is how much later than ``period_s`` after asking it
        fired (never below 0); then ask again, ``period_s`` from now."""
        try:
            self._record(max(0.0, self._clock() - self._asked - self.period_s))
        finally:  # whatever the record did: the next lag is measured from this wake, not an old one
            self._asked = self._clock()
            self._timer.again(self.wake)  # re-armed from now, not on a fixed schedule: no catch-up wakes

    def start(self) -> None:
        self.stop()
        loop = self._loop if self._loop is not None else gevent.get_hub().loop
        # Repeating, so that again() can re-arm it; each wake re-arms it from its own time.
        self._timer = loop.timer(self.period_s, self.period_s)
        self._asked = self._clock()
        self._timer.start(self.wake)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.close()
            self._timer = None


class CpuMeter:
    """This process's CPU time (``process_time``: user + system of all threads) and wall time
    (``perf_counter``), handed out as :class:`CpuTime` deltas since the last :meth:`take`."""

    def __init__(self, *, cpu: Callable[[], float] = time.process_time, wall: Callable[[], float] = time.perf_counter):
        self._cpu, self._wall = cpu, wall
        self._last = (cpu(), wall())
        self._stopped: Optional[tuple[float, float]] = None

    def take(self) -> CpuTime:
        """CPU and wall seconds since the previous take (up to :meth:`stop` when stopped)."""
        now = self._stopped or (self._cpu(), self._wall())
        delta = CpuTime(cpu_s=now[0] - self._last[0], wall_s=now[1] - self._last[1])
        self._last = now
        return delta

    def stop(self) -> None:
        """Stop the meter: time after this (e.g. waiting to quit) is not counted."""
        if self._stopped is None:
            self._stopped = (self._cpu(), self._wall())


class ProcessMonitor:
    """Loop lag into the interval metrics of ``intervals`` (key ``generator:loop_lag``) plus
    the CPU meter: what a load-generating process runs from ``test_start`` to ``test_stop``."""

    def __init__(self, intervals: Any):
        self.loop = LoopMonitor(lambda lag: intervals.current.add_time(GENERATOR_TYPE, LOOP_LAG, lag))
        self.cpu = CpuMeter()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.cpu.stop()
