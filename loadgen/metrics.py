"""Per-endpoint counters and their latency histograms; mergeable across processes.

:class:`Metrics` only accumulates (``add``, ``merge``) :class:`EndpointStats` per
``(request_type, name)``; its latencies are :class:`~loadgen.histogram.LatencyHistogram`
(µs, 1 µs .. 1 h, 3 significant digits; re-exported here with its constants). Reports
derive figures from it (see :mod:`loadgen.reports.summary`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loadgen.histogram import (  # noqa: F401  re-exported: the names the rest of loadgen imports from here
    FOLD_AT,
    HIGHEST_US,
    LOWEST_US,
    PERCENTILES,
    SIGNIFICANT_FIGURES,
    HistogramSum,
    LatencyHistogram,
    bucket_values_us,
    summed_mean_ms,
    summed_percentiles_ms,
)
from loadgen.results import Result

_COUNTERS = ("requests", "failures", "bytes_out", "bytes_in", "docs", "late", "unfinished")
#: Distinct failure messages kept per key; the rest are counted under OTHER_MESSAGES.
MAX_MESSAGES = 20
OTHER_MESSAGES = "(other messages)"
# Request and document ids (hex, UUIDs) make every message unique; they are left out so that
# one failure, repeated, is counted as one message.
_IDS = re.compile(r"\b[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}\b|\b[0-9a-fA-F]{16,}\b")


def failure_message(error: Exception) -> str:
    """``class: message`` of a failed request, its ids replaced by ``<id>``
    (e.g. ``gateway_status: ValueError in NumpyIndexer: document <id> contains ...``)."""
    return f"{getattr(error, 'kind', 'protocol')}: {_IDS.sub('<id>', str(error))}"


def count_message(messages: Counter, message: str, count: int = 1) -> None:
    """Add ``count`` of ``message`` to ``messages``, keeping at most MAX_MESSAGES distinct ones."""
    if message in messages or len(messages) < MAX_MESSAGES:
        messages[message] += count
    else:
        messages[OTHER_MESSAGES] += count


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
    failure_messages: Counter = field(default_factory=Counter)  # failure_message() -> requests
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
            if result.match_values:  # only with --match-field
                for value, count in result.match_values:
                    self.match_values[value] += count
                self.values_per_reply[sum(1 for value, _ in result.match_values if value != "-")] += 1
            if result.schedule_lag_s is None:
                self.latency.record(result.latency_s)
            else:
                self.latency.record(result.latency_s + result.schedule_lag_s)
                self.uncorrected.record(result.latency_s)
        else:
            self.failures += 1
            self.failure_kinds[result.error.kind] += 1
            count_message(self.failure_messages, failure_message(result.error))

    def add_time(self, seconds: float) -> None:
        """Account a timing that is part of a request (an Executor's span), not a request."""
        self.requests += 1
        self.latency.record(seconds)

    def merge(self, other: "EndpointStats") -> None:
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failure_kinds.update(other.failure_kinds)
        for message, count in other.failure_messages.items():
            count_message(self.failure_messages, message, count)
        self.match_values.update(other.match_values)
        self.values_per_reply.update(other.values_per_reply)
        self.latency.merge(other.latency)
        self.uncorrected.merge(other.uncorrected)

    def encode(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in _COUNTERS}
        out.update(failure_kinds=dict(self.failure_kinds), latency=self.latency.encode())
        if self.failure_messages:
            out["failure_messages"] = dict(self.failure_messages)
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
        stats.failure_messages.update(data.get("failure_messages", {}))
        stats.match_values.update(data.get("match_values", {}))
        stats.values_per_reply.update({int(k): v for k, v in data.get("values_per_reply", {}).items()})
        stats.latency = LatencyHistogram.decode(data["latency"])
        if "uncorrected" in data:
            stats.uncorrected = LatencyHistogram.decode(data["uncorrected"])
        return stats


@dataclass
class DataWaits:
    """Requests that had to wait for their data -- a pool refill or the replay producer not
    ready yet -- and the seconds they waited, summed over those requests. The wait happens
    before the request's timed span, so it costs throughput, never latency."""

    count: int = 0
    seconds: float = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds

    def merge(self, other: "DataWaits") -> None:
        self.count += other.count
        self.seconds += other.seconds


class Metrics:
    """Per-key statistics of a run; keys are ``(request_type, name)`` tuples; plus the
    run's :class:`DataWaits`."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], EndpointStats] = {}
        self.data_waits = DataWaits()

    @classmethod
    def sum_view(cls, *parts: "Metrics") -> "Metrics":
        """A read-only sum of ``parts``: counters added, histograms read through
        :class:`HistogramSum` (nothing allocated or merged; e.g. a live view of a run)."""
        view = cls()
        for part in parts:
            for key, stats in part.entries.items():
                if key not in view.entries:
                    view.entries[key] = EndpointStats(latency=HistogramSum(), uncorrected=HistogramSum())
                view.entries[key].merge(stats)
            view.data_waits.merge(part.data_waits)
        return view

    def entry(self, request_type: str, name: str) -> EndpointStats:
        stats = self.entries.get((request_type, name))  # one lookup: called several times per request
        if stats is None:
            stats = self.entries[(request_type, name)] = EndpointStats()
        return stats

    def add(self, result: Result) -> None:
        """Account one request result under ``(protocol, endpoint)``."""
        self.entry(result.protocol, result.endpoint).add(result)

    def add_time(self, request_type: str, name: str, seconds: float) -> None:
        """Account a breakdown timing, e.g. ``("executor", "encoder", 0.004)``."""
        self.entry(request_type, name).add_time(seconds)

    def merge(self, other: "Metrics") -> None:
        for key, stats in other.entries.items():
            self.entry(*key).merge(stats)
        self.data_waits.merge(other.data_waits)

    def encode(self) -> list[dict[str, Any]]:
        """A msgpack-safe list, small enough for Locust's worker reports (data waits, if
        any, as a last item of their own)."""
        out = [{"type": t, "name": n, **s.encode()} for (t, n), s in self.entries.items()]
        if self.data_waits.count:
            out.append({"data_waits": {"count": self.data_waits.count, "seconds": self.data_waits.seconds}})
        return out

    @classmethod
    def decode(cls, data: list[dict[str, Any]]) -> "Metrics":
        metrics = cls()
        for item in data:
            if "data_waits" in item:
                metrics.data_waits.merge(DataWaits(count=int(item["data_waits"]["count"]),
                                                   seconds=float(item["data_waits"]["seconds"])))
            else:
                metrics.entries[(item["type"], item["name"])] = EndpointStats.decode(item)
        return metrics
