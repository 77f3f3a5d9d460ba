"""Render a run's :class:`~loadgen.metrics.Metrics`: the summary dict, a text table, files.

``summary.json`` schema (see docs/results.md)::

    {"endpoints": {"/search": {"requests": int, "failures": int, "rps": float,
                               "docs_per_s": float, "latency_ms": {"p50", "p90", "p95",
                               "p99", "p999", "max", "mean"}, ...}, ...},
     "total": {...same keys...}, "failures": {"<class>": int}, "duration_s": float,
     "load_model": "closed", ...run parameters...}

``rps`` counts every request (failed ones too) per second of the run; ``latency_ms``
covers successful requests only (failures are counted by class, not timed).
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from loadgen.metrics import PERCENTILES, EndpointStats, Metrics

# Request types that are parts of a request (loadgen.breakdown), not requests.
BREAKDOWN_TYPES = ("executor", "breakdown")
NO_ROUTES_NOTE = "not available: the HTTP gateway returns no routes"


def summarize(metrics: Metrics, *, duration_s: float, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The summary dict of a closed run lasting ``duration_s`` seconds."""
    by_name = _request_entries(metrics)
    total = EndpointStats()
    for stats in by_name.values():
        total.merge(stats)
    failures = Counter()
    for stats in by_name.values():
        failures.update(stats.failure_kinds)
    return {
        "endpoints": {name: endpoint_summary(s, duration_s) for name, s in by_name.items()},
        "total": endpoint_summary(total, duration_s),
        "failures": dict(sorted(failures.items())),
        "executors": _timings(metrics, "executor"),
        "breakdown": _timings(metrics, "breakdown"),
        "duration_s": round(duration_s, 3),
        "load_model": "closed",
        **(run or {}),
    }


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
        **_match_figures(stats),
    }


def _match_figures(stats: EndpointStats) -> dict[str, Any]:
    """With ``--match-field``: matches per value, and replies per number of distinct values."""
    if not stats.match_values:
        return {}
    return {"match_values": dict(sorted(stats.match_values.items())),
            "values_per_reply": {str(k): n for k, n in sorted(stats.values_per_reply.items())}}


TABLE_COLUMNS = ("endpoint", "requests", "failures", "req/s", "docs/s", "p50 ms", "p95 ms", "p99 ms", "max ms")


BREAKDOWN_COLUMNS = ("part of a request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms")


def render_table(summary: dict[str, Any]) -> str:
    """A fixed-width text table of the summary's endpoints and their total, then the
    per-Executor breakdown (or a note saying why there is none)."""
    rows = [_row(name, e) for name, e in summary["endpoints"].items()]
    if len(rows) != 1:
        rows.append(_row("total", summary["total"]))
    lines = [_format(TABLE_COLUMNS, rows), load_model_line(summary), *match_lines(summary)]
    return "\n".join([*lines, "", render_breakdown(summary)])


def match_lines(summary: dict[str, Any]) -> list[str]:
    """With ``--match-field F``: per endpoint, how many matches carried each value of F."""
    field = summary.get("match_field")
    if not field:
        return []
    lines = []
    for name, entry in summary["endpoints"].items():
        values = entry.get("match_values") or {}
        tally = ", ".join(f"{value}: {count}" for value, count in values.items()) or "no successful reply"
        replies = entry.get("values_per_reply") or {}
        spread = ", ".join(f"{k} in {n}" for k, n in replies.items())
        lines.append(f"{name} matches by {field}: {tally}" + (f"; distinct {field}s per reply: {spread} replies"
                                                               if spread else ""))
    return lines


def load_model_line(summary: dict[str, Any]) -> str:
    """One line saying how the load was offered, and for open loop what correction did."""
    arrival = summary.get("arrival")
    if summary.get("load_model") != "open" or not arrival:
        return "closed loop: each user waits for a reply before sending its next request"
    total = summary["total"]
    raw = total["latency_ms_uncorrected"]
    return (f"open loop: {arrival['process']} arrivals at {arrival['rate']} req/s; latencies from the "
            f"scheduled send time (uncorrected p50/p95/p99: {raw['p50']:.2f}/{raw['p95']:.2f}/{raw['p99']:.2f} ms); "
            f"late: {total['late']}")


def render_breakdown(summary: dict[str, Any]) -> str:
    parts = {**summary.get("executors", {}), **summary.get("breakdown", {})}
    if not parts:
        note = summary.get("executors_note", "no successful request carried routes")
        return f"per-Executor breakdown: {note}"
    rows = [(name, str(p["count"]), *(f"{p['latency_ms'][k]:.2f}" for k in ("p50", "p95", "p99", "max")))
            for name, p in parts.items()]
    return _format(BREAKDOWN_COLUMNS, rows)


def _row(name: str, e: dict[str, Any]) -> tuple[str, ...]:
    lat = e["latency_ms"]
    return (name, str(e["requests"]), str(e["failures"]), f"{e['rps']:.1f}", f"{e['docs_per_s']:.1f}",
            f"{lat['p50']:.2f}", f"{lat['p95']:.2f}", f"{lat['p99']:.2f}", f"{lat['max']:.2f}")


def _format(header: Iterable[str], rows: list[tuple[str, ...]]) -> str:
    header = tuple(header)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


HLOG_COLUMNS = ("tag", "count", "per s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms")


def hlog_summary(merged: dict) -> dict[str, Any]:
    """Figures of merged interval logs (see :func:`loadgen.timeseries.merge_intervals`):
    per tag, the count of timed requests, their rate over the covered span and latency."""
    out = {}
    for tag, entry in sorted(merged.items()):
        span = max(entry.end_s - entry.start_s, 1e-9)
        stats = EndpointStats(requests=entry.histogram.count, latency=entry.histogram)
        out[tag] = {"count": entry.histogram.count, "per_s": round(entry.histogram.count / span, 3),
                    "span_s": round(span, 3), "latency_ms": latency_figures(stats)}
    return out


def render_hlog_table(summary: dict[str, Any]) -> str:
    rows = [(tag, str(e["count"]), f"{e['per_s']:.1f}",
             *(f"{e['latency_ms'][k]:.2f}" for k in ("p50", "p90", "p95", "p99", "p999", "max")))
            for tag, e in summary.items()]
    return _format(HLOG_COLUMNS, rows)
