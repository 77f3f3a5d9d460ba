"""Each load-generating process watches itself: event-loop lag and CPU use (see :mod:`loadgen.selfcheck`).

:class:`LoopMonitor` is a greenlet that asks to wake every ``period_s`` (10 ms) and records
how late it woke: when a reply arrives while the hub runs something else, it waits just as
long, and the wait is timed as the server's. Its own cost per wake is the hub's timer and
switches, a ``perf_counter`` read and one histogram record (docs/results.md).
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
    :param sleep: how to wait (gevent's; tests pass a fake clock's).
    """

    def __init__(self, record: Callable[[float], Any], *, period_s: float = LOOP_LAG_PERIOD_S,
                 clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], Any] = gevent.sleep):
        self._record, self.period_s, self._clock, self._sleep = record, period_s, clock, sleep
        self._greenlet: Any = None

    def run(self) -> None:
        """The monitor's loop (what :meth:`start` spawns): the lag is how much later than
        ``period_s`` after asking the greenlet runs again (never below 0)."""
        clock, sleep, period, record = self._clock, self._sleep, self.period_s, self._record
        while True:
            asked = clock()
            sleep(period)
            record(max(0.0, clock() - asked - period))

    def start(self) -> None:
        self.stop()
        self._greenlet = gevent.spawn(self.run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None


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
