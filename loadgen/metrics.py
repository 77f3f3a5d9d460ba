"""Latency histograms and per-endpoint counters; mergeable across processes.

:class:`LatencyHistogram` wraps an HdrHistogram of **integer microseconds**, range
1 µs .. 1 h, 3 significant digits (any percentile is within 0.1% of the recorded value).
Values above the range are counted in ``out_of_range`` (hdrh's ``record_value`` would drop
them silently); values under 1 µs are recorded as 1 µs. Recording is cheap on the hub: a
value is appended to a list and folded into the HdrHistogram, vectorised, when the
histogram is read or the list is long (:mod:`loadgen.hdr_record`; the counters are exactly
those of recording one by one). Percentiles are computed after merging, never averaged. :class:`Metrics` only accumulates (``add``, ``merge``);
reports derive figures from it (see :mod:`loadgen.reports.summary`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional, Sequence

import numpy as np
from hdrh.histogram import HdrHistogram

from loadgen.hdr_figures import layout_of, mean_value, summed_counts, values_at_percentiles
from loadgen.hdr_record import record_values
from loadgen.results import Result

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # 1 hour
SIGNIFICANT_FIGURES = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
# Values waiting to be folded into the HdrHistogram: a fold of this many takes ~0.2 ms and
# the list stays below ~40 KB when nothing reads the histogram for a while.
FOLD_AT = 4096


class LatencyHistogram:
    """HdrHistogram of latencies in µs plus an out-of-range counter and the exact maximum."""

    def __init__(self) -> None:
        self._hdr: Optional[HdrHistogram] = None  # made on first use: ~0.1-0.25 ms and 184 KB each
        self._pending: list[int] = []  # recorded µs values not yet in _hdr
        self.out_of_range = 0
        self.max_s = 0.0

    def record(self, seconds: float) -> None:
        """Record one latency given in seconds."""
        micros = max(LOWEST_US, round(seconds * 1e6))
        if micros > HIGHEST_US:
            self.out_of_range += 1
            return
        self._pending.append(micros)
        self.max_s = max(self.max_s, seconds)
        if len(self._pending) >= FOLD_AT:
            self._fold()

    @property
    def _hist(self) -> HdrHistogram:
        """The HdrHistogram with every recorded value in it (folds the pending ones)."""
        if self._pending or self._hdr is None:
            self._fold()
        return self._hdr

    def _fold(self) -> None:
        """Move the pending values into the HdrHistogram (made now if need be), vectorised."""
        pending, self._pending = self._pending, []
        if self._hdr is None:
            self._hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        record_values(self._hdr, pending)

    @property
    def count(self) -> int:
        """Recorded values (out-of-range ones excluded)."""
        return (self._hdr.get_total_count() if self._hdr is not None else 0) + len(self._pending)

    def percentile_ms(self, percentile: float) -> float:
        """The value at ``percentile`` (0-100) in milliseconds; 0.0 when empty."""
        return self.percentiles_ms([percentile])[percentile]

    def percentiles_ms(self, percentiles: list[float]) -> dict[float, float]:
        """Several percentiles (0-100) in ms, exactly hdrh's values, vectorised
        (:mod:`loadgen.hdr_figures`: ~0.05 ms, never a walk in Python); 0.0 when empty."""
        return summed_percentiles_ms([self], percentiles)

    @property
    def hdr(self) -> HdrHistogram:
        """The hdrh histogram itself, for read-only use of its bucket layout and counts
        (e.g. :mod:`loadgen.observe.hdr_buckets`); record through :meth:`record`."""
        return self._hist

    def mean_ms(self) -> float:
        """The mean in ms, exactly hdrh's ``get_mean_value``, vectorised; 0.0 when empty."""
        return summed_mean_ms([self])

    def merge(self, other: "LatencyHistogram | HistogramSum") -> None:
        """Add ``other``'s values to this histogram (exact: same bucket layout)."""
        if isinstance(other, HistogramSum):
            for part in other.parts:
                self.merge(part)
            return
        if other._hdr is not None or other._pending:  # an empty one adds nothing (and costs no HdrHistogram)
            self._hist.add(other._hist)
        self.out_of_range += other.out_of_range
        self.max_s = max(self.max_s, other.max_s)

    def nonzero_buckets(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, counts)`` of the non-empty buckets, indices into :func:`bucket_values_us`
        (numpy arrays, a copy): the counts array without its zeros, for vectorised merges."""
        counts = np.ctypeslib.as_array(self._hist.counts)
        indices = np.flatnonzero(counts)
        return indices, counts[indices].astype(np.int64)

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


@lru_cache(maxsize=1)
def bucket_values_us() -> np.ndarray:
    """The value in µs that each bucket index of a :class:`LatencyHistogram` stands for in a
    percentile: HdrHistogram's highest equivalent value, as ``percentile_ms`` reports it.
    Computed once (about 20 ms) from hdrh's own index arithmetic."""
    hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    return np.array([hist.get_highest_equivalent_value(hist.get_value_from_index(i)) for i in range(hist.counts_len)],
                    dtype=np.float64)


class HistogramSum:
    """Several :class:`LatencyHistogram` read as if merged, without merging them: no
    histogram is allocated or added up, figures come from their counters summed on demand
    (what a live view, polled on a load-generating hub, needs). Read-only: it only
    collects more parts (:meth:`merge`)."""

    def __init__(self, parts: Sequence[LatencyHistogram] = ()):
        self.parts = list(parts)

    def merge(self, other: "LatencyHistogram | HistogramSum") -> None:
        self.parts.extend(other.parts if isinstance(other, HistogramSum) else [other])

    @property
    def count(self) -> int:
        return sum(part.count for part in self.parts)

    @property
    def out_of_range(self) -> int:
        return sum(part.out_of_range for part in self.parts)

    @property
    def max_s(self) -> float:
        return max((part.max_s for part in self.parts), default=0.0)

    def percentile_ms(self, percentile: float) -> float:
        return self.percentiles_ms([percentile])[percentile]

    def percentiles_ms(self, percentiles: list[float]) -> dict[float, float]:
        """As :meth:`LatencyHistogram.percentiles_ms` of the merged parts."""
        if not self.parts:
            return {p: 0.0 for p in percentiles}
        return summed_percentiles_ms(self.parts, percentiles)

    def mean_ms(self) -> float:
        return summed_mean_ms(self.parts) if self.parts else 0.0


def summed_percentiles_ms(hists: Sequence[LatencyHistogram], percentiles: list[float]) -> dict[float, float]:
    """Percentiles (0-100) in ms of the merge of ``hists``, without building it; 0.0 when empty."""
    raw = [h._hist for h in hists]
    values = values_at_percentiles(summed_counts(raw), layout_of(raw[0]), percentiles)
    return {p: values[p] / 1000.0 for p in percentiles}


def summed_mean_ms(hists: Sequence[LatencyHistogram]) -> float:
    """The mean in ms of the merge of ``hists``, without building it; 0.0 when empty."""
    raw = [h._hist for h in hists]
    return mean_value(summed_counts(raw), layout_of(raw[0])) / 1000.0


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
