"""The run's metrics interval by interval: the current interval, the total, and the time series.

Users add to :attr:`Intervals.current`. On the master (or a single process) a
:class:`Ticker` flushes it every ``--report-interval`` seconds: its rows go to
``timeseries.csv`` and ``histograms.hlog`` (:class:`loadgen.reports.series.TimeSeriesWriter`)
and it is merged into :attr:`Intervals.total`. A worker never flushes: it ships its current
interval to the master as a delta (:mod:`~loadgen.locust_adapter.distributed`).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Optional

import gevent

from loadgen.metrics import Metrics
from loadgen.reports.series import TimeSeriesWriter

log = logging.getLogger("loadgen")


class Intervals:
    """Metrics of the current interval and of everything flushed before it.

    :param clock: wall-clock seconds since the epoch (interval bounds in the time series).
    """

    def __init__(self, *, clock: Callable[[], float] = time.time):
        self._clock = clock
        self.current = Metrics()
        self.total = Metrics()
        self.started_at = clock()  # start of the current interval, epoch seconds
        self.series: Optional[TimeSeriesWriter] = None

    def reset(self) -> None:
        """A new run: forget every figure; the first interval starts now."""
        self.current, self.total = Metrics(), Metrics()
        self.started_at = self._clock()

    def take(self) -> Metrics:
        """The current interval's metrics, replaced by empty ones (a worker's delta)."""
        taken, self.current = self.current, Metrics()
        return taken

    def live(self) -> Metrics:
        """Everything so far, the total plus the current interval, as a read-only
        :meth:`~loadgen.metrics.Metrics.sum_view`: nothing is copied, so a web UI poll
        costs a load-generating hub well under a millisecond. Use it before yielding."""
        return Metrics.sum_view(self.total, self.current)

    def open_series(self, directory: Path) -> None:
        """Start ``timeseries.csv`` and ``histograms.hlog`` in ``directory``; a directory
        that cannot be written costs the time series, not the run (logged)."""
        self.close_series()
        try:
            self.series = TimeSeriesWriter(directory, start_epoch=self.started_at)
        except OSError as exc:
            log.error("cannot write the time series to %s: %s", directory, exc)

    def flush(self, *, gauges: Optional[dict[str, int]] = None) -> None:
        """Move the current interval into the total and write its time-series rows;
        ``gauges`` (``users``, ``inflight``) are the values at its end."""
        now = self._clock()
        if self.series is not None and self.current.entries:
            try:
                self.series.write_interval(self.current, start_epoch=self.started_at, end_epoch=now, gauges=gauges)
            except OSError as exc:  # e.g. a full disk: keep measuring, say so once
                log.error("time series stopped: %s", exc)
                self.series = None
        self.total.merge(self.current)
        self.current, self.started_at = Metrics(), now

    def close_series(self) -> None:
        """Flush the last interval and close the files (the last rows may not fit a full disk: logged)."""
        self.flush()
        if self.series is not None:
            try:
                self.series.close()
            except OSError as exc:
                log.error("time series incomplete: %s", exc)
            self.series = None


class Ticker:
    """Calls ``work`` every ``interval_s`` seconds in a greenlet of its own until stopped.

    :param sleep: how to wait (gevent's; tests pass a fake clock's).
    """

    def __init__(self, interval_s: float, work: Callable[[], Any], *, sleep: Callable[[float], Any] = gevent.sleep):
        self.interval_s, self._work, self._sleep = interval_s, work, sleep
        self._greenlet: Any = None

    def run(self) -> None:
        """The ticker's loop (what :meth:`start` spawns)."""
        while True:
            self._sleep(self.interval_s)
            self._work()

    def start(self) -> None:
        self.stop()
        self._greenlet = gevent.spawn(self.run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None


class RunClock:
    """Seconds from ``test_start`` to ``test_stop`` (``perf_counter``; so far, while running),
    and the wall-clock epoch seconds of both ends (``started_at``, ``ended_at``)."""

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter, wall: Callable[[], float] = time.time):
        self._clock, self._wall = clock, wall
        self._started: Optional[float] = None
        self._duration_s = 0.0
        self.started_at = self.ended_at = wall()

    def start(self) -> None:
        self._started = self._clock()
        self.started_at = self._wall()

    def stop(self) -> None:
        if self._started is not None:
            self._duration_s = self._clock() - self._started
            self._started = None
            self.ended_at = self._wall()

    @property
    def duration_s(self) -> float:
        return self._clock() - self._started if self._started is not None else self._duration_s
