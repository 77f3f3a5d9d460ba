"""The charts of ``report.html``: one function per chart, each ``(ReportData) -> str``.

Every chart over time gets the same x axis (:attr:`ReportData.time_range`, seconds since the
run's start), so stacked charts line up; every endpoint keeps one colour
(:attr:`ReportData.colors`) and one name (its ``summary.json`` name, never its ``TYPE:NAME``
log tag) in all of them. A chart that has nothing true to show says why instead of drawing
a flat zero line (e.g. "no successful request"). To add a chart, write one function here (or
in a module of its own) and list it in :data:`loadgen.reports.html.SECTIONS`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any, Optional

from loadgen.metrics import LatencyHistogram
from loadgen.reports.series import TOTAL
from loadgen.reports.summary import BREAKDOWN_TYPES
from loadgen.reports.svg import TOTAL_COLOR, Series, bar_chart, message_chart, nines_label, plot, spectrum_ticks

#: An interval's p99 rests on its slowest 1% of requests: below this many successful requests
#: that is fewer than one, so the "p99" is just the interval's slowest request (marked).
FEW_SAMPLES = 100
NO_SUCCESS = "no successful request"
PERCENTILE_STYLES = (("p50", "2 3", 1.4), ("p95", "7 4", 1.6), ("p99", "", 2.0))  # (key, dash, width)
BREAKDOWN_COLORS = ("#c6dbef", "#6baed6", "#2171b5")  # p50, p95, p99: shades, not endpoint colours
USERS_COLOR, INFLIGHT_COLOR = "#555555", "#b15928"


@dataclass(frozen=True)
class ReportData:
    """What the report is drawn from: the run's ``summary.json``, ``timeseries.csv`` rows and
    merged ``histograms.hlog`` (by tag), plus one colour per endpoint and the time axis."""

    summary: dict[str, Any]
    rows: list[dict[str, str]]
    spectra: dict[str, LatencyHistogram]
    colors: dict[str, str]
    time_range: tuple[float, float]
    server_rows: list[dict[str, str]] = field(default_factory=list)  # server_metrics.csv, when scraped

    def request_rows(self, name: Optional[str] = None) -> list[dict[str, str]]:
        """Time-series rows of requests (not breakdown parts, not totals), of ``name`` if given."""
        return [r for r in self.rows if r["request_type"] not in BREAKDOWN_TYPES and r["request_type"] != TOTAL
                and (name is None or r["name"] == name)]

    def total_rows(self) -> list[dict[str, str]]:
        return [r for r in self.rows if r["request_type"] == TOTAL]

    def color(self, name: str) -> str:
        return self.colors.get(name, TOTAL_COLOR)


def _x(row: dict[str, str]) -> float:
    return float(row["elapsed_s"])


def _successes(row: dict[str, str]) -> int:
    return int(row["requests"]) - int(row["failures"])


def latency_over_time(data: ReportData) -> str:
    """p50/p95/p99 per interval, one chart per endpoint (its colour; dashes tell the
    percentiles apart); a p99 resting on fewer than FEW_SAMPLES requests is marked."""
    charts = []
    for name in data.summary["endpoints"]:
        rows = [r for r in data.request_rows(name) if _successes(r) > 0]
        title = f"{name}: latency per interval"
        if not rows:
            charts.append(message_chart(title, f"{NO_SUCCESS}: no latency to draw"))
            continue
        series = [Series(f"{key}", [(_x(r), float(r[f"{key}_ms"])) for r in rows], data.color(name), dash, width,
                         markers=[(_x(r), float(r["p99_ms"])) for r in rows if _successes(r) < FEW_SAMPLES]
                         if key == "p99" else ()) for key, dash, width in PERCENTILE_STYLES]
        few = any(s.markers for s in series)
        notes = [f"o = p99 of an interval with < {FEW_SAMPLES} successful requests (its slowest)"] if few else []
        charts.append(plot(series, title=title, x_label="seconds since the start", y_label="ms",
                           x_range=data.time_range, notes=notes))
    return "".join(charts)


def throughput_over_time(data: ReportData) -> str:
    """Requests per second per endpoint (failed ones included) and their total."""
    series = [Series(name, [(_x(r), float(r["rps"])) for r in data.request_rows(name)], data.color(name))
              for name in data.summary["endpoints"]]
    if len(series) > 1:
        series.append(Series("total", [(_x(r), float(r["rps"])) for r in data.total_rows()], TOTAL_COLOR, "6 3"))
    return plot(series, title="requests per second (failed ones included)", x_label="seconds since the start",
                y_label="req/s", x_range=data.time_range)


def failures_over_time(data: ReportData) -> str:
    """Failures per second per endpoint, or a line saying there were none."""
    title = "failures per second"
    if not data.summary["total"]["failures"]:
        return message_chart(title, "no request failed")
    series = []
    for name in data.summary["endpoints"]:
        rows = data.request_rows(name)
        per_s = [(_x(r), float(r["rps"]) * int(r["failures"]) / int(r["requests"]) if int(r["requests"]) else 0.0)
                 for r in rows]
        series.append(Series(name, per_s, data.color(name)))
    return plot(series, title=title, x_label="seconds since the start", y_label="failures/s", x_range=data.time_range)


def users_over_time(data: ReportData) -> str:
    """Users running at each interval's end, and under open loop the requests in flight."""
    rows = [r for r in data.total_rows() if r.get("users", "") != ""]
    title = "users" + (" and requests in flight" if data.summary.get("load_model") == "open" else "")
    if not rows:
        return message_chart(title, "not recorded in this run's timeseries.csv")
    series = [Series("users", [(_x(r), float(r["users"])) for r in rows], USERS_COLOR)]
    if data.summary.get("load_model") == "open":
        series.append(Series("requests in flight", [(_x(r), float(r["inflight"])) for r in rows], INFLIGHT_COLOR))
    return plot(series, title=title, x_label="seconds since the start", y_label="count", x_range=data.time_range)


def distribution(data: ReportData) -> str:
    """Latency by percentile over the whole run, each endpoint's curve stopping at the
    percentile its sample count supports (n samples: 1 - 1/n), with a line per endpoint
    saying how many samples its tail rests on."""
    hists = {_name(tag): h for tag, h in data.spectra.items() if tag.split(":")[0] not in BREAKDOWN_TYPES and h.count}
    title = "latency by percentile (whole run)"
    if not hists:
        return message_chart(title, f"{NO_SUCCESS}: no latency to draw")
    series = []
    for name, hist in hists.items():
        top = math.log10(hist.count) if hist.count > 1 else 0.0  # n samples: up to p = 1 - 1/n
        xs = sorted({*(k / 10 for k in range(int(top * 10) + 1)), top})
        values = hist.percentiles_ms([100.0 * (1 - 10 ** -x) for x in xs])
        max_ms = hist.max_s * 1000.0
        series.append(Series(name, [(x, min(v, max_ms)) for x, v in zip(xs, values.values())], data.color(name)))
    chart = plot(series, title=title, x_label="percentile (log scale of 1 / (1 - p))", y_label="ms",
                 x_range=(0.0, max(1.0, max(s.points[-1][0] for s in series))), x_ticks=spectrum_ticks)
    notes = "".join(f"<li>{escape(_tail_note(name, hist))}</li>" for name, hist in hists.items())
    return chart + f"<ul class='notes' id='tail-notes'>{notes}</ul>"


def _name(tag: str) -> str:
    """``grpc:/search`` → ``/search``: one name per endpoint, as in summary.json."""
    return tag.split(":", 1)[1] if ":" in tag else tag


def _tail_note(name: str, hist: LatencyHistogram) -> str:
    n = hist.count
    top = nines_label(math.log10(n)) if n > 1 else "0%"
    if n < FEW_SAMPLES:
        return f"{name}: {n} samples; drawn up to {top}; its p99 is its slowest request (fewer than {FEW_SAMPLES})"
    tail = f"its p99 rests on the slowest {n // 100}"
    if n >= 1000:
        tail += f", its p99.9 on the slowest {n // 1000}"
    return f"{name}: {n:,} samples; drawn up to {top}; {tail}"


def breakdown(data: ReportData) -> str:
    """Per-Executor time and the rest of a request (p50/p95/p99 bars), or why there is none."""
    summary = data.summary
    parts = {**summary.get("executors", {}), **summary.get("breakdown", {})}
    if not parts:
        note = summary.get("executors_note") or (NO_SUCCESS if not summary["total"].get("timed_requests", 0)
                                                 else "no routes in the replies")
        return f"<p id='breakdown-note'>per-Executor breakdown: {escape(note)}</p>"
    rows = [(name, [p["latency_ms"][k] for k in ("p50", "p95", "p99")]) for name, p in parts.items()]
    return bar_chart(rows, labels=["p50", "p95", "p99"], title="where the time goes: per Executor and the rest",
                     x_label="ms", colors=BREAKDOWN_COLORS)
