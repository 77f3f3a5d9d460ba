"""Latency histograms and per-endpoint counters; mergeable across processes.

:class:`LatencyHistogram` wraps an HdrHistogram of **integer microseconds**, range
1 µs .. 1 h, 3 significant digits (any percentile is within 0.1% of the recorded value).
Values above the range are counted in ``out_of_range`` (hdrh's ``record_value`` would drop
them silently); values under 1 µs are recorded as 1 µs. Percentiles are computed after
merging, never averaged. :class:`Metrics` only accumulates (``add``, ``merge``);
reports derive figures from it (see :mod:`loadgen.reports.summary`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.results import Result

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # 1 hour
SIGNIFICANT_FIGURES = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


class LatencyHistogram:
    """HdrHistogram of latencies in µs plus an out-of-range counter and the exact maximum."""

    def __init__(self) -> None:
        self._hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        self.out_of_range = 0
        self.max_s = 0.0

    def record(self, seconds: float) -> None:
        """Record one latency given in seconds."""
        micros = max(LOWEST_US, round(seconds * 1e6))
        if micros > HIGHEST_US:
            self.out_of_range += 1
            return
        self._hist.record_value(micros)
        self.max_s = max(self.max_s, seconds)

    @property
    def count(self) -> int:
        """Recorded values (out-of-range ones excluded)."""
        return self._hist.get_total_count()

    def percentile_ms(self, percentile: float) -> float:
        """The value at ``percentile`` (0-100) in milliseconds; 0.0 when empty."""
        return self._hist.get_value_at_percentile(percentile) / 1000.0 if self.count else 0.0

    def percentiles_ms(self, percentiles: list[float]) -> dict[float, float]:
        """Several percentiles (0-100) in ms from one pass over the histogram; 0.0 when empty."""
        if not self.count:
            return {p: 0.0 for p in percentiles}
        values = self._hist.get_percentile_to_value_dict(percentiles)
        return {p: values[p] / 1000.0 for p in percentiles}

    @property
    def hdr(self) -> HdrHistogram:
        """The hdrh histogram itself, for read-only use of its bucket layout and counts
        (e.g. :mod:`loadgen.observe.hdr_buckets`); record through :meth:`record`."""
        return self._hist

    def mean_ms(self) -> float:
        return self._hist.get_mean_value() / 1000.0 if self.count else 0.0

    def merge(self, other: "LatencyHistogram") -> None:
        """Add ``other``'s values to this histogram (exact: same bucket layout)."""
        self._hist.add(other._hist)
        self.out_of_range += other.out_of_range
        self.max_s = max(self.max_s, other.max_s)

    def encode(self) -> dict[str, Any]:
        """A msgpack/JSON-safe form: base64 HdrHistogram blob plus the extra counters."""
        blob = self._hist.encode().decode("ascii") if self.count else ""
        return {"hdr": blob, "out_of_range": self.out_of_range, "max_s": self.max_s}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> "LatencyHistogram":
        """Inverse of :meth:`encode`; a bare ``{"hdr": blob}`` (as in an interval log) takes
        its maximum from the histogram (precise to 3 significant digits)."""
        hist = cls()
        if data.get("hdr"):
            hist._hist.decode_and_add(data["hdr"])
        hist.out_of_range = int(data.get("out_of_range", 0))
        fallback = hist._hist.get_max_value() / 1e6 if hist.count else 0.0
        hist.max_s = float(data.get("max_s", fallback))
        return hist


_COUNTERS = ("requests", "failures", "bytes_out", "bytes_in", "docs", "late", "unfinished")


@dataclass
class EndpointStats:
    """Counters of one (request_type, name) key; ``latency`` covers successful requests.

    Under open-loop load ``latency`` holds the corrected latencies (from the scheduled send
    time) and ``uncorrected`` the ones from the actual send; in closed loop only ``latency``
    is filled (the two are the same).
    """

    requests: int = 0
    failures: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    docs: int = 0
    late: int = 0
    unfinished: int = 0  # sent, but the run stopped before the reply (not in ``requests``)
    failure_kinds: Counter = field(default_factory=Counter)
    match_values: Counter = field(default_factory=Counter)  # --match-field: value -> matches
    values_per_reply: Counter = field(default_factory=Counter)  # distinct values in one reply -> replies
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    uncorrected: LatencyHistogram = field(default_factory=LatencyHistogram)

    def add(self, result: Result) -> None:
        self.requests += 1
        self.bytes_out += result.bytes_out
        self.bytes_in += result.bytes_in
        self.late += result.late
        if result.error is None:
            self.docs += result.docs_sent
            for value, count in result.match_values:
                self.match_values[value] += count
            if result.match_values:
                self.values_per_reply[sum(1 for value, _ in result.match_values if value != "-")] += 1
            if result.schedule_lag_s is None:
                self.latency.record(result.latency_s)
            else:
                self.latency.record(result.latency_s + result.schedule_lag_s)
                self.uncorrected.record(result.latency_s)
        else:
            self.failures += 1
            self.failure_kinds[result.error.kind] += 1

    def add_time(self, seconds: float) -> None:
        """Account a timing that is part of a request (an Executor's span), not a request."""
        self.requests += 1
        self.latency.record(seconds)

    def merge(self, other: "EndpointStats") -> None:
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failure_kinds.update(other.failure_kinds)
        self.match_values.update(other.match_values)
        self.values_per_reply.update(other.values_per_reply)
        self.latency.merge(other.latency)
        self.uncorrected.merge(other.uncorrected)

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in _COUNTERS}
        out.update(failure_kinds=dict(self.failure_kinds), latency=self.latency.encode())
        if self.match_values:
            out["match_values"] = dict(self.match_values)
            out["values_per_reply"] = {str(k): v for k, v in self.values_per_reply.items()}
        if self.uncorrected.count or self.uncorrected.out_of_range:
            out["uncorrected"] = self.uncorrected.encode()
        return out

    @classmethod
    def decode(cls, data: dict[str, Any]) -> "EndpointStats":
        stats = cls(**{k: int(data.get(k, 0)) for k in _COUNTERS})
        stats.failure_kinds.update(data.get("failure_kinds", {}))
        stats.match_values.update(data.get("match_values", {}))
        stats.values_per_reply.update({int(k): v for k, v in data.get("values_per_reply", {}).items()})
        stats.latency = LatencyHistogram.decode(data["latency"])
        if "uncorrected" in data:
            stats.uncorrected = LatencyHistogram.decode(data["uncorrected"])
        return stats


class Metrics:
    """Per-key statistics of a run; keys are ``(request_type, name)`` tuples."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], EndpointStats] = {}

    def entry(self, request_type: str, name: str) -> EndpointStats:
        key = (request_type, name)
        if key not in self.entries:
            self.entries[key] = EndpointStats()
        return self.entries[key]

    def add(self, result: Result) -> None:
        """Account one request result under ``(protocol, endpoint)``."""
        self.entry(result.protocol, result.endpoint).add(result)

    def add_time(self, request_type: str, name: str, seconds: float) -> None:
        """Account a breakdown timing, e.g. ``("executor", "encoder", 0.004)``."""
        self.entry(request_type, name).add_time(seconds)

    def merge(self, other: "Metrics") -> None:
        for key, stats in other.entries.items():
            self.entry(*key).merge(stats)

    def encode(self) -> list[dict[str, Any]]:
        """A msgpack-safe list, small enough for Locust's worker reports."""
        return [{"type": t, "name": n, **s.encode()} for (t, n), s in self.entries.items()]

    @classmethod
    def decode(cls, data: list[dict[str, Any]]) -> "Metrics":
        metrics = cls()
        for item in data:
            metrics.entries[(item["type"], item["name"])] = EndpointStats.decode(item)
        return metrics

