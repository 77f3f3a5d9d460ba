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
  time it covers, so a report is counted where its requests happened, not where it reached
  the master); **p99** from the merged HdrHistograms of the ``histograms.hlog``
  intervals that started after the warm-up and whose midpoint lies in the window;
- **stable** when every window's throughput is within :data:`TOLERANCE` (±10%) of the mean
  of the three windows, or within Z = 3 standard errors of a Poisson count of that mean
  when that is wider (:func:`counts_agree`), and their p99s agree within ±10% after
  allowing each its sampling error (:func:`loadgen.sampling.agree`, as a capacity trial's
  windows): a p99 is known only to lie between two order statistics of the window. Without
  that allowance the p99 of a few hundred requests per window (their 2nd or 3rd highest
  value) moved by more than 10% between the windows of a perfectly steady run, and ``make
  demo`` flagged such runs unsteady. The p99 deviation from the mean is reported as measured
  (``p99_deviation_pct``).

Counting noise is allowed for throughput the same way: a window of N Poisson arrivals (or of
requests drawn at random from a task mix) varies by about √N, and the plain ±10% flagged a
steady ``make demo``'s ``/index`` (~140 requests per window) as unsteady. Closed-loop and
uniform arrivals vary less, so for them the allowance is generous.
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
from loadgen.sampling import Z, agree, percentile_bounds

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
    """Per endpoint name: the steadiness of the last windows of ``[since, until]`` (epoch s);
    ``windows_s`` says which they were, in seconds after ``series_start`` (the run's start).

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
    hists = _window_histograms(slots, bounds, series_start=series_start, since=since)
    where = [[round(a - series_start, 3), round(b - series_start, 3)] for a, b in bounds]
    return {name: {**judge([(b - a, _count(spans, name, a, b), hists[i].get(name)) for i, (a, b) in enumerate(bounds)],
                           tolerance=tolerance), "windows_s": where} for name in names}


def _count(spans: list[Span], name: str, start: float, end: float) -> float:
    """Requests to ``name`` in ``[start, end)``, each delta's spread evenly over its time."""
    count = 0.0
    for s in spans:
        overlap = min(s.end, end) - max(s.start, start)
        if overlap > 0 and s.end > s.start:
            count += s.requests.get(name, 0) * overlap / (s.end - s.start)
    return count


def _window_histograms(slots: Iterable[Interval], bounds: Sequence[Window], *, series_start: float,
                       since: float) -> list[dict[str, LatencyHistogram]]:
    """Per window, each endpoint's latencies merged (endpoints without timed requests left out)."""
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
    return [{name: h for name, h in m.items() if h.count} for m in merged]


def judge(values: list[tuple[float, float, Optional[LatencyHistogram]]], *,
          tolerance: float = TOLERANCE) -> dict[str, Any]:
    """The verdict on ``(seconds, requests, latencies or None)`` windows: every req/s within
    ``tolerance`` of their mean, and the p99s agree within ``tolerance``, each allowed its
    sampling error."""
    p99s = [None if h is None else percentile_bounds(h, 99.0) for _, _, h in values]
    rps = [round(count / seconds, 3) for seconds, count, _ in values]
    p99 = [None if b is None else round(b[2], 3) for b in p99s]
    out: dict[str, Any] = {"stable": True, "window_s": round(values[0][0], 3), "rps": rps, "p99_ms": p99,
                           "rps_deviation_pct": deviation_pct(rps),
                           "p99_deviation_pct": None if None in p99 else deviation_pct(p99), "reason": None}
    tripped = []
    if not counts_agree([count for _, count, _ in values], tolerance):
        tripped.append(f"req/s deviates {out['rps_deviation_pct']:g}% from the mean of the last {len(values)} windows, "
                       f"more than their counting error allows")
    if None not in p99s and not agree(p99s, tolerance):
        tripped.append(f"p99 deviates {out['p99_deviation_pct']:g}% from the mean of the last {len(values)} windows, "
                       f"more than their sampling error allows")
    if None in p99:
        tripped.append("a window has no successful request")
    if tripped:
        out.update(stable=False, reason="; ".join(tripped) + f" (limit {tolerance * 100:g}%)")
    return out


def counts_agree(counts: Sequence[float], tolerance: float) -> bool:
    """True when every window's request count is within ``tolerance`` (a share) of their mean,
    or within :data:`~loadgen.sampling.Z` standard errors of a Poisson count of that mean
    when that is wider (windows of equal length)."""
    mean = statistics.mean(counts)
    allowed = max(tolerance * mean, Z * math.sqrt(mean))
    return all(abs(count - mean) <= allowed for count in counts)


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
