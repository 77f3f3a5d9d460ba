"""``--warmup S``: the figures of a run's first S seconds are kept apart from the measured ones.

The master (or the single process) decides when, by its run clock (the one ``duration_s``
is measured with); each piece of metrics is then routed to one phase where it was measured,
so a distributed run splits as exactly as a single process:

- a single process flushes its interval at S s after ``test_start`` (a boundary in the time
  series) and routes every interval it flushes to the warm-up until then, to the measured
  part after;
- the master tells the workers at S s (:data:`END_MESSAGE`); a worker then
  ships a report at once: its reports are tagged (:data:`PHASE_KEY`) ``warmup`` up to and
  including that one, ``measured`` after (a worker that started after the word came ends
  its warm-up by its own clock, :data:`WORKER_GRACE_S` late);
- the master routes each worker report by its tag, whenever it arrives.

Every interval stays in ``timeseries.csv`` and ``histograms.hlog``. The CPU deltas of the
self-check (:mod:`~loadgen.locust_adapter.monitor`) travel and are routed with the metrics
(:data:`CPU_KEY`), and so does the wall-clock span each delta covers (:data:`SPAN_KEY`;
the stability windows count requests where they happened, :mod:`loadgen.reports.stability`). Without ``--warmup`` everything is measured and :attr:`Phases.measured`
equals the run's total.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Optional

import gevent

from loadgen.metrics import Metrics
from loadgen.reports.stability import Span, span_of
from loadgen.selfcheck import CpuTime

log = logging.getLogger("loadgen")
PHASE_KEY = "loadgen_phase"  # in a worker report: "warmup" or "measured"
CPU_KEY = "loadgen_cpu"  # in a worker report: the worker's CpuTime since its last report
SPAN_KEY = "loadgen_span"  # in a worker report: [start, end] epoch s of the time its metrics cover
LOCAL = "local"  # the process id of a single-process run
END_MESSAGE = "loadgen_warmup_end"  # master -> workers: the warm-up is over
WORKER_GRACE_S = 1.0  # a worker ends its warm-up by its own clock only if the master's word is this late


class Phases:
    """A run's metrics split into the warm-up (the first ``warmup_s`` s) and the measured
    part, plus the measured CPU time of each load-generating process and the time span of
    every delta (for the stability windows, :mod:`loadgen.reports.stability`).

    :param wall: epoch seconds (a worker stamps its reports with it).
    """

    def __init__(self, warmup_s: float = 0.0, *, wall: Callable[[], float] = time.time):
        self.wall = wall
        self.interval_s = 1.0  # the report interval of the time series (set when it starts)
        self.reset(warmup_s)

    def reset(self, warmup_s: float) -> None:
        """A new run (``test_start``): nothing recorded; warming up when ``warmup_s`` > 0."""
        self.warmup_s = warmup_s
        self.warming = warmup_s > 0
        self.closing = False  # a worker: the next report is the warm-up's last
        self.warmup, self.measured = Metrics(), Metrics()
        self.cpu: dict[str, CpuTime] = {}  # measured part only, per process
        self.processes: set[str] = set()  # every load-generating process that reported CPU time
        self.stopping_s: Optional[float] = None  # when the stop began, s after test_start (test_stopping)
        self.spans: list[Span] = []  # requests per endpoint of every delta, and when
        self.shipped_at = self.wall()  # a worker: where its next report's span starts

    def add(self, metrics: Metrics, *, warmup: bool, span: Optional[tuple[float, float]] = None) -> None:
        (self.warmup if warmup else self.measured).merge(metrics)
        if span is not None and metrics.entries:
            self.spans.append(span_of(metrics, *span))

    def add_cpu(self, process: str, cpu: CpuTime, *, warmup: bool) -> None:
        self.processes.add(process)
        if not warmup:
            self.cpu.setdefault(process, CpuTime()).add(cpu)


def tag_report(phases: Phases, monitor: Any, data: dict) -> None:
    """Worker, at each report: say which phase the shipped metrics belong to and which wall-clock
    span they cover (since the previous report), and ship the CPU time since then."""
    data[PHASE_KEY] = "warmup" if phases.warming else "measured"
    now = phases.wall()
    data[SPAN_KEY], phases.shipped_at = [phases.shipped_at, now], now
    if phases.closing:  # this report ends the warm-up: later ones are measured
        phases.warming = phases.closing = False
    if monitor is not None:
        data[CPU_KEY] = monitor.cpu.take().encode()


def route_report(phases: Phases, client_id: str, data: Mapping[str, Any], metrics: Optional[Metrics]) -> None:
    """Master: put a worker report's metrics (decoded by the merge) and CPU time into its phase."""
    warmup = data.get(PHASE_KEY) == "warmup"
    if metrics is not None:
        phases.add(metrics, warmup=warmup, span=tuple(data[SPAN_KEY]) if SPAN_KEY in data else None)
    if CPU_KEY in data:
        phases.add_cpu(client_id, CpuTime.decode(data[CPU_KEY]), warmup=warmup)


def flush(session: Any, *, local: bool, close: bool = False, gauges: Optional[dict[str, int]] = None) -> None:
    """Flush the current interval (``close``: and close the time series; ``gauges``: users and
    requests in flight at its end); a single process (``local``) routes the flushed interval
    and its CPU time to the current phase. The parts of requests go into Locust's rows first."""
    session.log_parts()
    interval, started = session.intervals.current, session.intervals.started_at  # flush() replaces both
    if close:
        session.intervals.close_series()
    else:
        session.intervals.flush(gauges=gauges)
    if local:
        phases = session.phases
        phases.add(interval, warmup=phases.warming, span=(started, session.intervals.started_at))
        if session.monitor is not None:
            phases.add_cpu(LOCAL, session.monitor.cpu.take(), warmup=phases.warming)


def arm(session: Any, *, role: str, send_report: Optional[Callable[[], Any]] = None,
        tell_workers: Optional[Callable[[], Any]] = None) -> None:
    """At ``test_start``: end the warm-up ``--warmup`` seconds after the run clock started
    (building the request pools counts, as in ``duration_s``). ``role``: ``local``, ``master``
    (``tell_workers`` sends them :data:`END_MESSAGE`) or ``worker`` (``send_report`` ships a
    report at once; its own clock is only the fallback, :data:`WORKER_GRACE_S` later)."""
    disarm(session)
    if session.phases.warming:
        grace = WORKER_GRACE_S if role == "worker" else 0.0
        session.warmup_end = gevent.spawn(_end_in_time, session, grace, lambda: end(
            session, role=role, send_report=send_report, tell_workers=tell_workers))


def _end_in_time(session: Any, grace_s: float, end_now: Callable[[], None]) -> None:
    # gevent.sleep reads the clock afresh (spawn_later's timer starts from the loop's cached
    # time, which lags after busy work and would end the warm-up early); never before time.
    while (left := session.phases.warmup_s + grace_s - session.clock.duration_s) > 0:
        gevent.sleep(left)
    session.warmup_end = None
    end_now()


def disarm(session: Any) -> None:
    if session.warmup_end is not None:
        session.warmup_end.kill(block=False)
        session.warmup_end = None


def end(session: Any, *, role: str, send_report: Optional[Callable[[], Any]] = None,
        tell_workers: Optional[Callable[[], Any]] = None) -> None:
    """The warm-up is over: a worker ships the rest of it; a single process flushes it; the
    master tells the workers. Once only."""
    phases = session.phases
    if not phases.warming or phases.closing:
        return  # over already (a worker: by the master's word, or by its own clock)
    if role == "worker":
        phases.closing = True
        send_report()
        return
    if role == "local":  # a boundary in the time series (a master's intervals follow the worker reports)
        flush(session, local=True)
    phases.warming = False
    if role == "master" and tell_workers is not None:
        tell_workers()
    log.info("warm-up over after %g s: measuring from now on", phases.warmup_s)
