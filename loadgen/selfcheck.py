"""The load generator checks itself: is its own process the bottleneck?

A load generator whose process is overloaded reports its own delay as the server's: a reply
that arrives while the gevent hub is busy elsewhere is timed when the hub gets to it. Each
load-generating process therefore measures (see :mod:`loadgen.locust_adapter.monitor`):

- its **event-loop lag**: a timer on the hub asks to fire every 10 ms and records how late it fired,
  in s, in a :class:`~loadgen.metrics.LatencyHistogram` under the :class:`~loadgen.metrics.Metrics`
  key ``(GENERATOR_TYPE, LOOP_LAG)``; that key is not a request (reports leave it out of every
  request count, see :data:`loadgen.reports.summary.BREAKDOWN_TYPES`), but it travels, merges
  and lands in the time series like one;
- its **CPU use**: process CPU seconds (all threads, user + system) against wall seconds,
  as :class:`CpuTime` deltas.

:func:`generator_summary` turns the merged figures into ``summary.json``'s ``generator``
and decides ``saturated`` against :data:`LIMITS`, thresholds chosen by measurement
(docs/results.md, "Is the load generator the bottleneck?").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from loadgen.metrics import LatencyHistogram

GENERATOR_TYPE = "generator"  # the Metrics request_type of the generator's own figures (not requests)
LOOP_LAG = "loop_lag"  # ... and the name of its event-loop lag (values: seconds late)
# How often the monitor asks to wake. Not less often: the lag a wake measures depends on the
# period when the hub is saturated (its deadline falls inside the long loop iteration that
# delays it). Measured (benchmarks/bench_selfcheck.py, docs/performance.md): the saturated
# case's lag p99 read 55.9 ms at 10 ms but 17-18 ms at 50 ms, under the 20 ms limit, which
# was chosen by measurement at 10 ms. Each wake costs the process ~90 µs of CPU on the
# test VM, mostly the wake itself (bench_selfcheck.py --monitor-cost: 0.86-0.94% of a core).
LOOP_LAG_PERIOD_S = 0.010


@dataclass(frozen=True, kw_only=True)
class SaturationLimits:
    """When a load generator counts as saturated: event-loop lag p99 above ``lag_p99_ms``
    (ms), or any process's CPU at or above ``cpu_pct`` (percent of one core)."""

    lag_p99_ms: float
    cpu_pct: float


# Measured on the 2-core box (docs/results.md, benchmarks/bench_selfcheck.py): healthy processes
# on a quiet machine lag p99 1.1-12.4 ms at <= 84% CPU; processes asked for more than their core
# 56-433 ms, at 100% CPU when they had a core to themselves. 90% is Locust's own CPU warning.
LIMITS = SaturationLimits(lag_p99_ms=20.0, cpu_pct=90.0)
STARVED_CPU_PCT = 50.0  # lagging while using less than this: the process waited for a CPU, or blocked


@dataclass
class CpuTime:
    """CPU seconds a process used (``cpu_s``: user + system, all threads) during ``wall_s``
    wall-clock seconds; adds up across deltas of the same process."""

    cpu_s: float = 0.0
    wall_s: float = 0.0

    def add(self, other: "CpuTime") -> None:
        self.cpu_s += other.cpu_s
        self.wall_s += other.wall_s

    @property
    def pct(self) -> float:
        """CPU use in percent of one core (above 100 when native threads worked in parallel)."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def encode(self) -> dict[str, float]:
        return {"cpu_s": self.cpu_s, "wall_s": self.wall_s}

    @classmethod
    def decode(cls, data: Mapping[str, Any]) -> "CpuTime":
        return cls(cpu_s=float(data.get("cpu_s", 0.0)), wall_s=float(data.get("wall_s", 0.0)))


def generator_summary(lag: LatencyHistogram, cpu: Mapping[str, CpuTime], *, processes: int,
                      limits: SaturationLimits = LIMITS) -> dict[str, Any]:
    """``summary.json``'s ``generator``: ``processes`` that generated load, the highest CPU
    use of one of them over the run (``cpu_pct_max``, percent of a core), the merged
    event-loop lag (``loop_lag_ms``: p50, p99, max in ms), ``saturated`` and its ``reason``
    (None when not saturated).

    :param lag: the event-loop lag of every process, merged (values in s).
    :param cpu: CPU time per process over the measured part of the run.
    """
    max_ms = lag.max_s * 1000.0
    values = lag.percentiles_ms([50.0, 99.0])
    loop = {"p50": round(min(values[50.0], max_ms), 3), "p99": round(min(values[99.0], max_ms), 3),
            "max": round(max_ms, 3)}
    cpu_pct_max = max((c.pct for c in cpu.values()), default=0.0)
    reason = saturation_reason(loop["p99"], cpu_pct_max, limits)
    return {"processes": processes, "cpu_pct_max": round(cpu_pct_max, 1), "loop_lag_ms": loop,
            "saturated": reason is not None, "reason": reason}


def saturation_reason(lag_p99_ms: float, cpu_pct: float, limits: SaturationLimits = LIMITS) -> Optional[str]:
    """What tripped, e.g. ``event-loop lag p99 83.1 ms > 20 ms; CPU 98% of a core >= 90%``,
    or None when nothing did."""
    tripped = []
    if lag_p99_ms > limits.lag_p99_ms:
        tripped.append(f"event-loop lag p99 {lag_p99_ms:.1f} ms > {limits.lag_p99_ms:g} ms")
        if cpu_pct < STARVED_CPU_PCT:
            tripped.append(f"at only {cpu_pct:.0f}% CPU: the process waited for a core (a busy machine) "
                           f"or a call blocked its event loop")
    if cpu_pct >= limits.cpu_pct:
        tripped.append(f"CPU {cpu_pct:.0f}% of a core >= {limits.cpu_pct:g}%")
    return "; ".join(tripped) or None


def status_line(generator: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The line printed under the table: the warning of a saturated run, else the figures."""
    if not generator:
        return None
    if generator.get("saturated"):
        return warning_line(generator)
    return (f"load generator: {generator['processes']} process(es), CPU up to {generator['cpu_pct_max']:g}% of a core, "
            f"event-loop lag p99 {generator['loop_lag_ms']['p99']:g} ms (saturated above {LIMITS.lag_p99_ms:g} ms "
            f"or {LIMITS.cpu_pct:g}% CPU)")


def warning_line(generator: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The one line a saturated run prints, naming the fix; None when it was not saturated."""
    if not generator or not generator.get("saturated"):
        return None
    return (f"WARNING: the load generator was saturated ({generator['reason']}): its own delay is in these "
            f"latencies. Give it more cores: --processes N or more workers, on cores nothing else uses.")
