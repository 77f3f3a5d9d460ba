"""A trial's measurement windows and whether the last ones agree (pure: records in, records out).

A trial's report intervals (one line per endpoint in ``timeseries.csv`` and
``histograms.hlog`` every ``--report-interval``) become :class:`Span` records. The intervals
that start within ``warmup_s`` are dropped (the warm-up is rounded up to whole intervals);
the rest are grouped, ``round(window_s / interval_s)`` consecutive intervals per window.
A window's figures come from its **merged** histograms: percentiles after merging, never
averaged.

The last :data:`TAIL` windows *agree* when, for the achieved rate and for every gated
latency figure, there is one value that each window is within ``± stability`` of, after
allowing each window its sampling error (:mod:`loadgen.sampling`: a count known
to ``± 3·√n``, a percentile between two order statistics). Without that allowance a p99
from a few hundred requests (its 3rd highest value) would almost never repeat within 10 %,
and every trial at a modest rate would look unstable. ``max`` and ``mean`` are compared as
they are.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

from loadgen.sampling import agree, count_bounds, percentile_bounds
from loadgen.metrics import PERCENTILES, EndpointStats
from loadgen.reports.summary import endpoint_summary
from loadgen.slo import LATENCY_METRICS, Slo, evaluate

TAIL = 3  # windows that must agree
TOTAL = "total"


@dataclass(frozen=True)
class Span:
    """A stretch of a trial, ``[start_s, end_s)`` in seconds since its start, with each
    request endpoint's requests, failures and latency histogram (µs, successful requests)."""

    start_s: float
    end_s: float
    endpoints: Mapping[str, EndpointStats]

    @property
    def length_s(self) -> float:
        return max(self.end_s - self.start_s, 1e-9)

    def total(self) -> EndpointStats:
        """Every endpoint merged (the ``total`` of a summary)."""
        total = EndpointStats()
        for stats in self.endpoints.values():
            total.merge(stats)
        return total

    def stats(self, endpoint: Optional[str]) -> Optional[EndpointStats]:
        """One endpoint's figures (``None``: the total), or None when it had no requests."""
        return self.total() if endpoint is None else self.endpoints.get(endpoint)

    def rate(self) -> float:
        """Completed requests (failed ones too) per second."""
        return self.total().requests / self.length_s


def merge_spans(spans: Sequence[Span]) -> Span:
    """One span from consecutive ones: counters added, histograms merged exactly."""
    endpoints: dict[str, EndpointStats] = {}
    for span in spans:
        for name, stats in span.endpoints.items():
            endpoints.setdefault(name, EndpointStats()).merge(stats)
    return Span(spans[0].start_s, spans[-1].end_s, endpoints)


def cut_windows(intervals: Sequence[Span], *, warmup_s: float, window_s: float, interval_s: float,
                last: Optional[int] = None) -> list[Span]:
    """The complete windows after the warm-up: ``round(window_s / interval_s)`` intervals each
    (only the ``last`` ones merged when given: what a running trial needs). A window shorter
    than 95 % of its n intervals is not complete: it ends with the run's last, partial
    interval (every other interval lasts at least ``interval_s``: the ticker sleeps that long,
    then writes)."""
    per_window = max(1, round(window_s / interval_s))
    measured = [s for s in intervals if s.start_s >= warmup_s - interval_s / 4]
    groups = [measured[first:first + per_window] for first in range(0, len(measured) - per_window + 1, per_window)]
    complete = [g for g in groups if g[-1].end_s - g[0].start_s >= 0.95 * per_window * interval_s]
    return [merge_spans(g) for g in (complete[-last:] if last else complete)]


def figures(span: Span, *, docs_per_request: Mapping[str, float] | None = None) -> dict[str, Any]:
    """``{"endpoints": {...}, "total": {...}}`` with summary.json's keys per endpoint (rates
    per second of the span; ``docs_per_s`` from ``docs_per_request`` of each endpoint)."""
    ratios = docs_per_request or {}
    endpoints, total = {}, EndpointStats()
    for name, stats in sorted(span.endpoints.items()):
        counted = EndpointStats()
        counted.merge(stats)
        counted.docs = round((stats.requests - stats.failures) * ratios.get(name, 0.0))
        endpoints[name] = endpoint_summary(counted, span.length_s)
        total.merge(counted)
    return {"endpoints": endpoints, "total": endpoint_summary(total, span.length_s)}


# -- agreement -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gauge:
    """A gated latency figure: ``metric`` (p50 … p999, max, mean) of ``endpoint`` (None: total)."""

    endpoint: Optional[str]
    metric: str

    @property
    def label(self) -> str:
        return f"{self.endpoint or TOTAL} {self.metric}"


def gauges_of(slos: Iterable[Slo]) -> list[Gauge]:
    """The latency figures the gates look at, each once."""
    return list(dict.fromkeys(Gauge(s.endpoint, s.metric) for s in slos if s.metric in LATENCY_METRICS))


def disagreements(windows: Sequence[Span], gauges: Sequence[Gauge], *, stability: float) -> list[str]:
    """What the last :data:`TAIL` windows disagree on, one phrase each (empty: they agree,
    i.e. the trial is stable). Fewer windows than that: not stable yet."""
    if len(windows) < TAIL:
        return [f"only {len(windows)} of {TAIL} windows measured"]
    tail = windows[-TAIL:]
    out = []
    rates = [rate_bounds(w) for w in tail]
    if not agree(rates, stability):
        out.append("achieved rate " + _values(w.rate() for w in tail) + " req/s")
    for gauge in gauges:
        bounds = [gauge_bounds(w, gauge) for w in tail]
        if None in bounds:
            out.append(f"{gauge.label}: no requests in some windows")
        elif not agree(bounds, stability):
            out.append(f"{gauge.label} " + _values(b[2] for b in bounds) + " ms")
    return out


def rate_bounds(window: Span) -> tuple[float, float, float]:
    """(low, high, value) of the window's rate in req/s, from its count's sampling error."""
    count = window.total().requests
    low, high = count_bounds(count)
    return low / window.length_s, high / window.length_s, count / window.length_s


def gauge_bounds(window: Span, gauge: Gauge) -> Optional[tuple[float, float, float]]:
    """(low, high, value) of a gated figure in ms, or None without timed requests."""
    stats = window.stats(gauge.endpoint)
    hist = stats.latency if stats is not None else None
    if hist is None or not hist.count:
        return None
    if gauge.metric == "max":
        return (hist.max_s * 1000.0,) * 3
    if gauge.metric == "mean":
        return (hist.mean_ms(),) * 3
    return percentile_bounds(hist, PERCENTILES[gauge.metric])


def _values(values: Iterable[float]) -> str:
    return "/".join(f"{v:.4g}" for v in values)


# -- gates per window ----------------------------------------------------------------------------
def violated_throughout(windows: Sequence[Span], slos: Sequence[Slo]) -> list[str]:
    """Gates that each of the last :data:`TAIL` windows violates on its own (latency, rate and
    failure gates; ``docs_per_s`` needs the run's document counts and is left to the end).
    Cheap enough for a load-generating hub: only the gated figures are computed."""
    if len(windows) < TAIL:
        return []
    gated = [slo for slo in slos if slo.metric != "docs_per_s"]
    tail = [gate_figures(w, gated) for w in windows[-TAIL:]]
    return [slo.text for slo in gated if not any(evaluate(slo, f).passed for f in tail)]


def gate_figures(span: Span, slos: Sequence[Slo]) -> dict[str, Any]:
    """The figures ``slos`` look at, in summary.json's shape (``endpoints``, ``total``): counts,
    ``rps`` and the gated latency figures only (``mean`` walks the whole histogram in Python:
    computed only when gated)."""
    out: dict[str, Any] = {"endpoints": {}}
    for endpoint in dict.fromkeys(slo.endpoint for slo in slos):
        stats = span.stats(endpoint)
        if stats is None:
            continue
        metrics = {slo.metric for slo in slos if slo.endpoint == endpoint and slo.metric in LATENCY_METRICS}
        wanted = [PERCENTILES[m] for m in metrics if m in PERCENTILES]
        values = stats.latency.percentiles_ms(wanted) if wanted else {}
        latency = {m: values[PERCENTILES[m]] for m in metrics if m in PERCENTILES}
        latency["max"] = stats.latency.max_s * 1000.0
        if "mean" in metrics:
            latency["mean"] = stats.latency.mean_ms()
        figures = {"requests": stats.requests, "failures": stats.failures, "rps": stats.requests / span.length_s,
                   "docs_per_s": 0.0, "latency_ms": latency}
        if endpoint is None:
            out["total"] = figures
        else:
            out["endpoints"][endpoint] = figures
    return out


def complete_windows(intervals: Sequence[Span], *, warmup_s: float, window_s: float, interval_s: float) -> int:
    """How many windows :func:`cut_windows` can make at most from ``intervals`` (a count, no
    merging: a cheap test of whether a new window may be complete)."""
    measured = sum(1 for s in intervals if s.start_s >= warmup_s - interval_s / 4)
    return measured // max(1, round(window_s / interval_s))
