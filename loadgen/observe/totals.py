"""The run's server figures, interval by interval: what ``summary.json`` ``server`` says.

Jina names every runtime in the ``runtime_name`` label: ``gateway/rep-0``, ``encoder/rep-1``,
``indexer/head``, ``indexer/shard-0/rep-0``, ``indexer/uses_after-0``. Its Executor is the
part before the first ``/``. An Executor's requests are its head's count when it has a head
(a sharded Executor: the head sees each request once, its shards may all see it), else the
sum over its replicas; uses_before/uses_after pods are not counted (they see the same
requests again). Processing time is ``jina_process_request_seconds`` of the worker runtimes
(the Executor's own method call; Jina's ``_jina_*`` internal endpoints left out).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Optional

from loadgen.observe.rates import Figures, histogram_quantile

REQUESTS = ("jina_successful_requests", "jina_failed_requests")
PROCESSING = "jina_process_request_seconds"
RECEIVING = "jina_receiving_request_seconds"
SENDING = "jina_sending_request_seconds"
PENDING = "jina_number_of_pending_requests"
QUANTILES_NOTE = ("p50/p99 need a histogram; Jina 3.x exposes its times as Prometheus summaries (count and sum), "
                  "so only the mean is known (client-side per-Executor percentiles: summary.json executors)")


def executor_of(runtime: str) -> str:
    return runtime.split("/", 1)[0]


def role_of(runtime: str) -> str:
    """``gateway``, ``head``, ``extra`` (uses_before/uses_after pods) or ``worker``."""
    parts = runtime.split("/")
    if parts[0] == "gateway":
        return "gateway"
    if "head" in parts[1:]:
        return "head"
    if any(p.startswith(("uses_after", "uses_before")) for p in parts[1:]):
        return "extra"
    return "worker"


@dataclass
class Timing:
    """Counts and sums (seconds) of one time metric, plus merged histogram buckets."""

    count: float = 0.0
    total_s: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)
    has_buckets: bool = True

    def add(self, figures: Figures) -> None:
        self.count += figures.increase or 0.0
        self.total_s += figures.sum_increase or 0.0
        if figures.buckets is None:
            self.has_buckets = False
            return
        for le, count in figures.buckets.items():
            self.buckets[le] = self.buckets.get(le, 0.0) + count

    def as_ms(self) -> dict[str, Optional[float]]:
        """Calls, and mean, p50, p99 in ms (p50/p99 only from histogram buckets, else None)."""
        buckets = self.buckets if self.has_buckets else {}
        return {"calls": int(self.count), "mean": _ms(self.total_s / self.count) if self.count else None,
                "p50": _ms(histogram_quantile(0.5, buckets)), "p99": _ms(histogram_quantile(0.99, buckets))}


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None or math.isnan(seconds) else round(seconds * 1000.0, 3)


@dataclass
class Spread:
    """Mean and maximum of a per-interval figure."""

    n: int = 0
    total: float = 0.0
    top: float = 0.0

    def add(self, value: float) -> None:
        self.n, self.total, self.top = self.n + 1, self.total + value, max(self.top, value)

    def as_dict(self, digits: int = 1) -> dict[str, Optional[float]]:
        return {"mean": round(self.total / self.n, digits) if self.n else None,
                "max": round(self.top, digits) if self.n else None}


class ServerTotals:
    """Accumulates interval figures per runtime; :meth:`summary` groups them per Executor."""

    def __init__(self) -> None:
        self.requests: dict[str, float] = defaultdict(float)  # runtime -> successful + failed
        self.failed: dict[str, float] = defaultdict(float)
        self.timings: dict[tuple[str, str, str], Timing] = defaultdict(Timing)  # (metric, runtime, endpoint)
        self.pending: dict[str, Spread] = defaultdict(Spread)
        self.cpu: dict[str, Spread] = defaultdict(Spread)  # process name -> % of one core
        self.rss: dict[str, Spread] = defaultdict(Spread)  # MiB
        self.group_cpu: dict[str, Spread] = defaultdict(Spread)  # Executor / gateway -> summed %
        self.pids: dict[str, int] = {}
        self.intervals = 0

    def add_series(self, family: str, labels: dict[str, str], figures: Figures) -> None:
        """One series' figures over one interval."""
        runtime = labels.get("runtime_name", "")
        if not runtime:
            return
        if family in REQUESTS:
            self.requests[runtime] += figures.increase or 0.0
            if family == "jina_failed_requests":
                self.failed[runtime] += figures.increase or 0.0
        elif family in (PROCESSING, RECEIVING, SENDING):
            endpoint = labels.get("executor_endpoint", "")
            if not endpoint.startswith("_jina_"):
                self.timings[(family, runtime, endpoint)].add(figures)
        elif family == PENDING and not math.isnan(figures.value):
            self.pending[runtime].add(figures.value)

    def add_processes(self, samples: list[tuple[str, int, float, int]]) -> None:
        """``(name, pid, cpu %, rss bytes)`` of each Flow process at the end of an interval."""
        self.intervals += 1
        groups: dict[str, float] = defaultdict(float)
        for name, pid, cpu, rss in samples:
            self.cpu[name].add(cpu)
            self.rss[name].add(rss / 2**20)
            self.pids[name] = pid
            groups[executor_of(name) if "/" in name else name] += cpu
        for group, cpu in groups.items():
            self.group_cpu[group].add(cpu)

    def summary(self) -> dict[str, Any]:
        """``{"executors": {name: {...}}, "gateway": {...} | None, "processes": [...]}``."""
        names = {executor_of(r) for r in (*self.requests, *(k[1] for k in self.timings))}
        executors = {name: self._group(name) for name in sorted(names) if name != "gateway"}
        gateway = self._group("gateway") if "gateway" in names else None
        processes = [{"name": name, "pid": self.pids[name], "cpu_pct": spread.as_dict(),
                      "rss_mb_max": round(self.rss[name].top, 1)} for name, spread in sorted(self.cpu.items())]
        return {"executors": executors, "gateway": gateway, "processes": processes}

    def _group(self, name: str) -> dict[str, Any]:
        runtimes = sorted(r for r in {*self.requests, *(k[1] for k in self.timings)} if executor_of(r) == name)
        heads = [r for r in runtimes if role_of(r) == "head"]
        counted = heads or [r for r in runtimes if role_of(r) in ("worker", "gateway")]
        out: dict[str, Any] = {
            "requests": int(sum(self.requests[r] for r in counted)),
            "failed": int(sum(self.failed[r] for r in counted)),
            "runtimes": runtimes,
        }
        if name == "gateway":
            out["receiving_ms"] = self._timing(RECEIVING, runtimes).as_ms()
            out["sending_ms"] = self._timing(SENDING, runtimes).as_ms()
        else:
            workers = [r for r in runtimes if role_of(r) == "worker"]
            out["processing_ms"] = self._timing(PROCESSING, workers).as_ms()
            out["by_endpoint"] = {ep: self._timing(PROCESSING, workers, ep).as_ms() for ep in self._endpoints(workers)}
            out["receiving_ms"] = self._timing(RECEIVING, workers).as_ms()
        pending = [self.pending[r] for r in runtimes if r in self.pending]
        out["pending_max"] = max((p.top for p in pending), default=None)
        out["cpu_pct"] = self.group_cpu[name].as_dict() if name in self.group_cpu else None
        rss = [self.rss[r].top for r in runtimes if r in self.rss]
        out["rss_mb_max"] = round(sum(rss), 1) if rss else None
        return out

    def _timing(self, family: str, runtimes: list[str], endpoint: Optional[str] = None) -> Timing:
        merged = Timing()
        for (fam, runtime, ep), timing in self.timings.items():
            if fam == family and runtime in runtimes and (endpoint is None or ep == endpoint):
                merged.count += timing.count
                merged.total_s += timing.total_s
                merged.has_buckets = merged.has_buckets and timing.has_buckets
                for le, count in timing.buckets.items():
                    merged.buckets[le] = merged.buckets.get(le, 0.0) + count
        return merged

    def _endpoints(self, runtimes: list[str]) -> list[str]:
        return sorted({ep for (fam, runtime, ep) in self.timings if fam == PROCESSING and runtime in runtimes and ep})
