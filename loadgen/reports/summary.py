"""The figures of a run: :func:`summarize` turns a closed :class:`~loadgen.metrics.Metrics`
into the ``summary.json`` dict; :func:`hlog_summary` does the same for merged interval logs.

``summary.json`` schema (see docs/results.md)::

    {"endpoints": {"/search": {"requests": int, "failures": int, "rps": float,
                               "docs_per_s": float, "latency_ms": {"p50", "p90", "p95",
                               "p99", "p999", "max", "mean"}, ...}, ...},
     "total": {...same keys...}, "failures": {"<class>": int}, "duration_s": float,
     "load_model": "closed", ...run parameters...}

``dataset`` and ``replay`` (run parameters) gain ``waits`` and ``wait_s``: how often, and how
long in total, users waited for data that was not ready (outside the timed spans).
``rps`` counts every request (failed ones too) per second of the run; ``latency_ms``
covers successful requests only (failures are counted by class and by message, not timed;
``timed_requests`` 0 means no request succeeded and the latency figures are empty). Latencies are
in ms, rates per second, durations in seconds. Rendering the dict is :mod:`loadgen.reports.text`'s
and :mod:`loadgen.reports.html`'s job.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from loadgen.metrics import PERCENTILES, DataWaits, EndpointStats, Metrics
from loadgen.selfcheck import GENERATOR_TYPE

# Request types that are not requests: parts of a request (loadgen.breakdown) and the load
# generator's own event-loop lag (loadgen.selfcheck). Left out of every request count.
BREAKDOWN_TYPES = ("executor", "breakdown", GENERATOR_TYPE)
NO_ROUTES_NOTE = "not available: the HTTP gateway returns no routes"
TOP_MESSAGES = 10  # failure messages per endpoint in summary.json


def summarize(metrics: Metrics, *, duration_s: float, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary dict of a closed run lasting ``duration_s`` seconds."""
    by_name = _request_entries(metrics)
    total = EndpointStats()
    for stats in by_name.values():
        total.merge(stats)
    failures = Counter()
    for stats in by_name.values():
        failures.update(stats.failure_kinds)
    return with_data_waits({
        "endpoints": {name: endpoint_summary(s, duration_s) for name, s in by_name.items()},
        "total": endpoint_summary(total, duration_s),
        "failures": dict(sorted(failures.items())),
        "executors": _timings(metrics, "executor"),
        "breakdown": _timings(metrics, "breakdown"),
        "duration_s": round(duration_s, 3),
        "load_model": "closed",
        **(run or {}),
    }, metrics.data_waits)


def with_data_waits(summary: dict[str, Any], waits: DataWaits) -> dict[str, Any]:
    """``summary`` with ``waits`` (requests that waited for their data, before their timed
    span) as ``waits`` and ``wait_s`` (seconds, summed over those requests) under its
    ``dataset`` and ``replay`` keys, where the run has them."""
    for key in ("dataset", "replay"):
        if isinstance(summary.get(key), dict):
            summary[key] = {**summary[key], "waits": waits.count, "wait_s": round(waits.seconds, 3)}
    return summary


def _request_entries(metrics: Metrics) -> dict[str, EndpointStats]:
    merged: dict[str, EndpointStats] = {}
    for (rtype, name), stats in sorted(metrics.entries.items()):
        if rtype not in BREAKDOWN_TYPES:
            merged.setdefault(name, EndpointStats()).merge(stats)
    return merged


def _timings(metrics: Metrics, request_type: str) -> dict[str, Any]:
    """Count and latency percentiles of each breakdown entry of ``request_type``."""
    out: dict[str, Any] = {}
    for (rtype, name), stats in sorted(metrics.entries.items()):
        if rtype == request_type:
            out[name] = {"count": stats.requests, "latency_ms": latency_figures(stats)}
    return out


def latency_figures(stats: EndpointStats, *, uncorrected: bool = False) -> dict[str, float]:
    """Percentiles, max and mean of ``stats``' latencies in ms (from the actual send when
    ``uncorrected``)."""
    hist = stats.uncorrected if uncorrected else stats.latency
    max_ms = hist.max_s * 1000.0
    # HDR reports a bucket's highest equivalent value; never let a percentile exceed the max.
    values = hist.percentiles_ms(list(PERCENTILES.values()))
    latency = {key: round(min(values[p], max_ms), 3) for key, p in PERCENTILES.items()}
    latency["max"] = round(max_ms, 3)
    latency["mean"] = round(hist.mean_ms(), 3)
    return latency


def endpoint_summary(stats: EndpointStats, duration_s: float) -> dict[str, Any]:
    """Figures of one endpoint; rates are per second of ``duration_s``."""
    per_s = 1.0 / duration_s if duration_s > 0 else 0.0
    return {
        "requests": stats.requests,
        "failures": stats.failures,
        "rps": round(stats.requests * per_s, 3),
        "docs_per_s": round(stats.docs * per_s, 3),
        "latency_ms": latency_figures(stats),
        # Closed loop: there is no schedule to correct for, so both are the same figures.
        "latency_ms_uncorrected": latency_figures(stats, uncorrected=bool(stats.uncorrected.count)),
        "late": stats.late,
        "unfinished": stats.unfinished,
        "timed_requests": stats.latency.count,
        "out_of_range": stats.latency.out_of_range,
        "bytes_out": stats.bytes_out,
        "bytes_in": stats.bytes_in,
        "failures_by_class": dict(sorted(stats.failure_kinds.items())),
        "failure_messages": top_messages(stats),
        **_match_figures(stats),
    }


def top_messages(stats: EndpointStats, most: int = TOP_MESSAGES) -> dict[str, int]:
    """The ``most`` commonest failure messages (``class: message``, ids as ``<id>``) with their
    counts, commonest first (see :func:`loadgen.metrics.failure_message`)."""
    ranked = sorted(stats.failure_messages.items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked[:most])


def _match_figures(stats: EndpointStats) -> dict[str, Any]:
    """With ``--match-field``: matches per value, and replies per number of distinct values."""
    if not stats.match_values:
        return {}
    return {"match_values": dict(sorted(stats.match_values.items())),
            "values_per_reply": {str(k): n for k, n in sorted(stats.values_per_reply.items())}}


def hlog_summary(merged: dict) -> dict[str, Any]:
    """Figures of merged interval logs (see :func:`loadgen.reports.series.merge_intervals`):
    per tag, the count of timed requests, their rate over the covered span and latency."""
    out = {}
    for tag, entry in sorted(merged.items()):
        span = max(entry.end_s - entry.start_s, 1e-9)
        stats = EndpointStats(requests=entry.histogram.count, latency=entry.histogram)
        out[tag] = {"count": entry.histogram.count, "per_s": round(entry.histogram.count / span, 3),
                    "span_s": round(span, 3), "latency_ms": latency_figures(stats)}
    return out


def add_warmup(summary: dict[str, Any], warmup: Metrics, *, warmup_s: float) -> None:
    """Add ``warmup_s`` and, per endpoint and in ``total``, ``warmup_requests``: the requests
    (failed ones too) of the first ``warmup_s`` seconds (``--warmup``), left out of every
    other figure. An endpoint seen only in the warm-up gets an entry with zero figures."""
    counts = {name: stats.requests for name, stats in _request_entries(warmup).items()}
    for name in counts:
        if name not in summary["endpoints"]:
            summary["endpoints"][name] = endpoint_summary(EndpointStats(), summary["duration_s"])
    for name, entry in summary["endpoints"].items():
        entry["warmup_requests"] = counts.get(name, 0)
    summary["total"]["warmup_requests"] = sum(counts.values())
    summary["warmup_s"] = round(warmup_s, 3)
