"""loadgen's rows in Locust's own console tables: aligned, and parts of a request set apart.

Locust prints each row's type as ``"%-8s"`` of ``method + " "``: a type of 8 characters or
more (``executor``, ``breakdown``, ``websocket``) pushes the rest of its row to the right.
And the per-Executor timings and the rest of a request's time (:mod:`loadgen.breakdown`) are
logged into Locust's stats for its UI, charts and CSV, but they are not requests: a req/s or
a failure count for them would be read as one. Locust lets a stats entry render itself
(``StatsEntry.to_string`` and ``percentile``), and its entries dict may hold any
``StatsEntry``; so loadgen puts its own entries there before Locust creates default ones:

- :class:`RequestEntry` for requests: the type is shortened to fit (``websocket`` → ``ws``);
- :class:`PartEntry` for parts (type ``executor`` or ``part``): ``-`` instead of failures,
  req/s and failures/s. Parts are logged in batches (:meth:`PartEntry.log_many`, at each
  report interval), not one by one as Locust logs a request: that cost 2-3 µs per part,
  several parts per request.

On a master the workers' rows arrive in their reports; :func:`prepare_report` creates the
entries before Locust's own ``worker_report`` listener merges into them (loadgen's
listeners are registered first). Everything else about the entries is Locust's.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import locust.stats
from locust.stats import StatsEntry

from loadgen.reports.summary import BREAKDOWN_TYPES

#: How a request type is shown in the 8-character type column.
SHORT_TYPES = {"websocket": "ws", "breakdown": "part"}


def type_label(method: str) -> str:
    return SHORT_TYPES.get(method, method)[: locust.stats.STATS_TYPE_WIDTH]


class RequestEntry(StatsEntry):
    """A request's row: Locust's figures, its type fitted to the type column."""

    def to_string(self, current: bool = True) -> str:
        row = super().to_string(current=current)
        return self._fit(row, len((self.method and self.method + " ") or ""))

    def percentile(self) -> str:
        return self._fit(super().percentile(), len(self.method or ""))

    def _fit(self, row: str, used: int) -> str:
        """Replace the row's type cell (``used`` characters, at least the column) by the label."""
        width = locust.stats.STATS_TYPE_WIDTH
        return f"{type_label(self.method):<{width}}" + row[max(used, width):]


class PartEntry(RequestEntry):
    """A part of a request (an Executor's span, the gateway overhead, network + client):
    counts and times as Locust keeps them; no failures, req/s or failures/s (``-``)."""

    def to_string(self, current: bool = True) -> str:
        width = locust.stats.STATS_TYPE_WIDTH
        name_width = locust.stats.STATS_NAME_WIDTH - width + 4
        return (f"%-{width}s %-{name_width}s %7d %12s |%7d %7d %7d%7d | %7s %11s") % (
            type_label(self.method), self.name, self.num_requests, "-", self.avg_response_time,
            self.min_response_time or 0, self.max_response_time, self.median_response_time or 0, "-", "-")

    def log_many(self, values_ms: Sequence[float], now: float) -> None:
        """Log the response times ``values_ms`` (ms) as Locust's ``log(value, 0)`` would one
        after the other at epoch second ``now``, in one call: the same counts, sums, extremes,
        buckets (``locust.stats.bucket_response_time``, as customised) and cached windows."""
        if not values_ms:
            return
        t = int(now)
        if self.use_response_times_cache and self.last_request_timestamp and t > int(self.last_request_timestamp):
            self._cache_response_times(t - 1)
        self.num_requests += len(values_ms)
        self.num_reqs_per_sec[t] += len(values_ms)
        self.last_request_timestamp = now
        total = self.total_response_time
        for value in values_ms:  # in order, as Locust adds them
            total += value
        self.total_response_time = total
        low = min(values_ms)
        self.min_response_time = low if self.min_response_time is None else min(self.min_response_time, low)
        self.max_response_time = max(self.max_response_time, max(values_ms))
        for bucket, count in Counter(map(locust.stats.bucket_response_time, values_ms)).items():
            self.response_times[bucket] += count


def entry(stats: Any, name: str, method: str) -> StatsEntry:
    """The entry of ``(name, method)`` in Locust's ``stats``, made loadgen's if Locust's is not
    one yet (a default entry's figures are kept)."""
    key = (name, method)
    current = stats.entries.get(key)
    kind = PartEntry if method in BREAKDOWN_TYPES else RequestEntry
    if type(current) is not kind:
        fresh = kind(stats, name, method, use_response_times_cache=stats.use_response_times_cache)
        if current is not None:
            fresh.extend(current)
        stats.entries[key] = current = fresh
    return current


def prepare_report(stats: Any, data: dict) -> None:
    """Master: loadgen's entries for the rows of a worker's report, before Locust merges it."""
    for row in data.get("stats") or ():
        if (row.get("name"), row.get("method")) not in stats.entries:
            entry(stats, row["name"], row["method"])
