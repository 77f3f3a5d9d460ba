"""Was the end of a run steady? ``summary.json``'s ``stability`` per endpoint.

Definition (docs/results.md, "Steadiness: stability"):

- **measured span**: from the end of the warm-up (``--warmup``) to the moment the stop
  began (the users' shutdown is not load), in wall-clock seconds;
- **windows**: the last :data:`WINDOWS` = 3 windows of equal length W ending where the
  measured span ends, W = the report interval times the largest whole number that fits
  three times into the span (so W is at least one report interval and the windows cover
  the last two thirds or more of the span); a span shorter than three report intervals is
  not judged (``stable`` null);
- per endpoint and window: **throughput** = requests (failed ones too) per second, from the
  deltas the processes measured (:class:`Span`: each delta's count is spread evenly over the
  time it covers, so a worker's 3 s report is counted where its requests happened, not where
  it reached the master); **p99** from the merged HdrHistograms of the ``histograms.hlog``
  intervals that started after the warm-up and whose midpoint lies in the window;
- **stable** when every window's throughput and p99 are within :data:`TOLERANCE` (±10%) of
  the mean of the three windows.

Counting noise is part of what is judged: a window of N Poisson arrivals varies by about
1/sqrt(N), so a window needs some hundreds of requests before 10% means something.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from loadgen.metrics import LatencyHistogram, Metrics
from loadgen.reports.series import Interval, read_hlog
from loadgen.reports.summary import BREAKDOWN_TYPES

TOLERANCE = 0.10
WINDOWS = 3
Window = tuple[float, float]  # (start, end), epoch s


@dataclass(frozen=True)
class Span:
    """One delta of metrics: requests per endpoint name measured from ``start`` to ``end`` (epoch s)."""

    start: float
    end: float
    requests: Mapping[str, int]


def span_of(metrics: Metrics, start: float, end: float) -> Span:
    """The requests per endpoint name of ``metrics`` (breakdown and generator entries left out)."""
    counts: dict[str, int] = {}
    for (rtype, name), stats in metrics.entries.items():
        if rtype not in BREAKDOWN_TYPES and stats.requests:
            counts[name] = counts.get(name, 0) + stats.requests
    return Span(start, end, counts)


def windows(since: float, until: float, interval_s: float) -> list[Window]:
    """The last :data:`WINDOWS` windows of ``[since, until]`` (see the module); [] when it is too short."""
    whole = math.floor((until - since) / (WINDOWS * interval_s) + 1e-9)
    if interval_s <= 0 or whole < 1:
        return []
    length = whole * interval_s
    return [(until - (WINDOWS - i) * length, until - (WINDOWS - 1 - i) * length) for i in range(WINDOWS)]


def stability(spans: Iterable[Span], slots: Optional[Iterable[Interval]], *, series_start: float, since: float,
              until: float, interval_s: float, tolerance: float = TOLERANCE) -> dict[str, dict[str, Any]]:
    """Per endpoint name: the steadiness of the last windows of ``[since, until]`` (epoch s).

    :param spans: the deltas the processes measured (throughput).
    :param slots: the interval log's intervals (p99), ``start_s`` relative to ``series_start``;
        None when there is no log (nothing is judged then).
    """
    spans = list(spans)
    names = sorted({name for s in spans if s.end > since and s.start < until for name in s.requests})
    bounds = windows(since, until, interval_s)
    if not bounds or slots is None:
        reason = (f"fewer than {WINDOWS} report intervals after the warm-up" if not bounds
                  else "no interval log (histograms.hlog) to take the windows' p99 from")
        return {name: {"stable": None, "reason": reason} for name in names}
    p99 = _window_p99(slots, bounds, series_start=series_start, since=since)
    return {name: judge([(b - a, _rate(spans, name, a, b), p99[i].get(name)) for i, (a, b) in enumerate(bounds)],
                        tolerance=tolerance) for name in names}


def _rate(spans: list[Span], name: str, start: float, end: float) -> float:
    count = 0.0
    for s in spans:
        overlap = min(s.end, end) - max(s.start, start)
        if overlap > 0 and s.end > s.start:
            count += s.requests.get(name, 0) * overlap / (s.end - s.start)
    return count / (end - start)


def _window_p99(slots: Iterable[Interval], bounds: Sequence[Window], *, series_start: float,
                since: float) -> list[dict[str, float]]:
    merged: list[dict[str, LatencyHistogram]] = [{} for _ in bounds]
    for slot in slots:
        rtype, _, name = slot.tag.partition(":")
        start = series_start + slot.start_s
        middle = start + slot.length_s / 2
        if rtype in BREAKDOWN_TYPES or start < since - 1e-3:
            continue
        for i, (a, b) in enumerate(bounds):
            if a <= middle < b:
                merged[i].setdefault(name, LatencyHistogram()).merge(slot.histogram)
    return [{name: min(h.percentile_ms(99.0), h.max_s * 1000.0) for name, h in m.items() if h.count} for m in merged]


def judge(values: list[tuple[float, float, Optional[float]]], *, tolerance: float = TOLERANCE) -> dict[str, Any]:
    """The verdict on ``(seconds, req/s, p99 ms or None)`` windows: every value within
    ``tolerance`` of the mean of its kind."""
    rps = [round(v[1], 3) for v in values]
    p99 = [None if v[2] is None else round(v[2], 3) for v in values]
    out: dict[str, Any] = {"stable": True, "window_s": round(values[0][0], 3), "rps": rps, "p99_ms": p99,
                           "rps_deviation_pct": deviation_pct(rps),
                           "p99_deviation_pct": None if None in p99 else deviation_pct(p99), "reason": None}
    tripped = [f"{label} deviates {out[key]:g}% from the mean of the last {len(values)} windows"
               for label, key in (("req/s", "rps_deviation_pct"), ("p99", "p99_deviation_pct"))
               if out[key] is not None and out[key] > tolerance * 100]
    if None in p99:
        tripped.append("a window has no successful request")
    if tripped:
        out.update(stable=False, reason="; ".join(tripped) + f" (limit {tolerance * 100:g}%)")
    return out


def deviation_pct(values: list[float]) -> float:
    """The largest distance of a value from the mean of ``values``, in percent of the mean
    (0 for all-zero values)."""
    mean = statistics.mean(values)
    return round(100.0 * max(abs(v - mean) for v in values) / mean, 1) if mean > 0 else 0.0


def run_stability(directory: Path, spans: Iterable[Span], *, since: float, until: float,
                  interval_s: float) -> dict[str, dict[str, Any]]:
    """:func:`stability` with the p99s from ``directory/histograms.hlog`` (when it cannot be
    read, nothing is judged: the time series was lost, not the run)."""
    try:
        text = (Path(directory) / "histograms.hlog").read_text(encoding="utf-8")
        series_start = next(float(line.split()[1]) for line in text.splitlines() if line.startswith("#[StartTime: "))
        slots: Optional[list[Interval]] = list(read_hlog(text.splitlines()))
    except (OSError, ValueError, StopIteration, IndexError):
        series_start, slots = 0.0, None
    return stability(spans, slots, series_start=series_start, since=since, until=until, interval_s=interval_s)


def stability_lines(summary: dict[str, Any]) -> list[str]:
    """One line per endpoint whose last windows were not steady (the flag under the table)."""
    lines = []
    for name, entry in summary.get("endpoints", {}).items():
        s = entry.get("stability") or {}
        if s.get("stable") is False:
            p99 = ", ".join("-" if v is None else f"{v:.2f}" for v in s["p99_ms"])
            lines.append(f"UNSTEADY {name}: last {len(s['rps'])} windows of {s['window_s']:g} s: req/s "
                         f"{', '.join(f'{v:.1f}' for v in s['rps'])}; p99 {p99} ms ({s['reason']})")
    return lines
