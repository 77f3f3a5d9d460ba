"""The figures of a run's measured part, and what they need said about them.

:func:`measured_summary` is the summary dict without the warm-up (``--warmup``, counted apart
as ``warmup_requests``, :mod:`~loadgen.locust_adapter.warmup`), with the load generator's
self-check (``generator``, :mod:`loadgen.selfcheck`) and the steadiness of each endpoint's
last windows (``stability``, :mod:`loadgen.reports.stability`). :func:`notes` are the lines
printed under the table: the warm-up left out, a saturated generator, unsteady endpoints.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from loadgen.metrics import LatencyHistogram
from loadgen.reports.stability import run_stability, stability_lines
from loadgen.reports.summary import add_warmup, summarize
from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG, generator_summary, status_line

NO_SERIES = {"stable": None, "reason": "no request after the warm-up"}


def measured_summary(session: Any, *, duration_s: float, run: dict[str, Any]) -> dict[str, Any]:
    """The summary of the run after its warm-up; rates are per second of the measured part
    (``duration_s`` minus the warm-up). Reads ``histograms.hlog`` (closed by then) for ``stability``."""
    phases = session.phases
    warmup_s = min(phases.warmup_s, duration_s)
    summary = summarize(phases.measured, duration_s=duration_s - warmup_s, run=run)
    add_warmup(summary, phases.warmup, warmup_s=warmup_s)
    lag = phases.measured.entries.get((GENERATOR_TYPE, LOOP_LAG))
    summary["generator"] = generator_summary(lag.latency if lag else LatencyHistogram(), phases.cpu,
                                             processes=len(phases.processes))
    start = session.clock.started_at  # epoch s of test_start
    steadiness = run_stability(Path(session.options.results_dir), phases.spans, since=start + warmup_s,
                               until=start + (duration_s if phases.stopping_s is None else phases.stopping_s),
                               interval_s=phases.interval_s)
    for name, entry in summary["endpoints"].items():
        entry["stability"] = steadiness.get(name, NO_SERIES)
    return summary


def notes(summary: dict[str, Any]) -> list[str]:
    """Lines for under the table: the warm-up left out, the generator's self-check (for a
    saturated run one warning line naming the fix), endpoints whose last windows were not steady."""
    lines = []
    if summary.get("warmup_s"):
        lines.append(f"warm-up: the first {summary['warmup_s']:g} s ({summary['total']['warmup_requests']} requests) "
                     f"are left out of these figures")
    generator = status_line(summary.get("generator"))
    return [*lines, *([generator] if generator else []), *stability_lines(summary)]
