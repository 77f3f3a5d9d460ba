"""``compare.html``: one self-contained page (inline SVG, no scripts, no network) showing
two results side by side.

Per endpoint (and scenario step): the latency-by-percentile curves of both runs on one chart
(each side's report intervals merged exactly, repetitions together), and p99 per report
interval over the run's time for both; then the comparison table with its verdicts. The
page shell and chart primitives are report.html's (:mod:`loadgen.reports.html`,
:mod:`loadgen.reports.svg`).
"""
from __future__ import annotations

import math
from html import escape

import numpy as np

from loadgen.compare.comparison import pairs
from loadgen.compare.records import Comparison
from loadgen.compare.render import footer, headline, table
from loadgen.compare.runs import CapacityRun, Loaded, SingleRun, Subject
from loadgen.compare.stats import percentiles_of
from loadgen.reports.html import page
from loadgen.reports.svg import line_chart, spectrum_ticks

VERDICT_STYLE = "<style>td.worse{color:#b00020;font-weight:bold}td.better{color:#1b7d2c}</style>"

# Percentiles of a latency-by-percentile curve: 0, 20.6, 36.9 ... 99.999 (tenths of a nine).
SPECTRUM = [100.0 * (1 - 10 ** (-k / 10)) for k in range(0, 51)]


def render(comparison: Comparison, base: Loaded, new: Loaded) -> str:
    """The whole page as a string."""
    body = [VERDICT_STYLE,
            f"<h1>loadgen compare: {escape(comparison.base['label'])} → {escape(comparison.new['label'])}</h1>",
            f"<p id='headline'>{escape(headline(comparison))}</p>",
            *(f"<p class='regression'>{escape(r.regression_line())}</p>" for r in comparison.regressions),
            verdict_table(comparison), *(f"<p>{escape(line)}</p>" for line in footer(comparison)),
            f"<p>base: {escape(comparison.base['dir'])} · new: {escape(comparison.new['dir'])}</p>"]
    if not isinstance(base, CapacityRun):
        body += charts(base, new)
    return page("loadgen compare", body)


def verdict_table(comparison: Comparison) -> str:
    """The comparison table; a verdict cell has the verdict as its class (worse, better)."""
    head, cells = table(comparison)
    verdict = head.index("verdict")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    rows = "".join("<tr>" + "".join(f"<td class='{escape(c)}'>{escape(c)}</td>" if i == verdict
                                    else f"<td>{escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in cells)
    return f"<table id='comparison'><tr>{header}</tr>{rows}</table>"


def charts(base: Loaded, new: Loaded) -> list[str]:
    """Per common endpoint of every paired step: the percentile curves and p99 over time."""
    out = []
    for set_name, left, right in pairs(base, new):
        common = [s for s in left[0].subjects() if s[0] == "endpoint" and s in right[0].subjects()]
        for subject in common:
            where = f"{set_name} · {subject[1]}" if set_name else subject[1]
            out.append(f"<h2>{escape(where)}</h2>")
            curves = {**_named("base", left, lambda runs: [spectrum(runs, subject)], merged=True),
                      **_named("new", right, lambda runs: [spectrum(runs, subject)], merged=True)}
            out.append(line_chart(curves, title=f"{where}: latency by percentile", x_label="percentile",
                                  y_label="ms", x_ticks=spectrum_ticks))
            over_time = {**_named("base", left, lambda runs: [p99_over_time(r, subject) for r in runs]),
                         **_named("new", right, lambda runs: [p99_over_time(r, subject) for r in runs])}
            out.append(line_chart(over_time, title=f"{where}: p99 per report interval", x_label="seconds",
                                  y_label="ms"))
    return out


def _named(side: str, runs: list[SingleRun], lines, merged: bool = False) -> dict[str, list]:
    """``side: LABEL`` for one line (or one per repetition: ``side rep2: LABEL``)."""
    values = lines(runs)
    if merged or len(values) == 1:
        reps = f" ({len(runs)} repetitions)" if len(runs) > 1 else ""
        return {f"{side}: {runs[0].label}{reps}"[:40]: values[0]}
    return {f"{side} rep{i}: {run.label}"[:40]: v for i, (run, v) in enumerate(zip(runs, values), start=1)}


def spectrum(runs: list[SingleRun], subject: Subject) -> list[tuple[float, float]]:
    """Latency (ms) by percentile of ``runs`` merged, on the log10(1 / (1 - p)) axis."""
    parts = [run.latency[subject] for run in runs if subject in run.latency]
    if not parts:
        return []
    values, inverse = np.unique(np.concatenate([p.values_us for p in parts]), return_inverse=True)
    merged = np.bincount(inverse, weights=np.concatenate([p.counts.sum(axis=0) for p in parts]))
    ms = percentiles_of(merged[None, :], values, SPECTRUM)[0] / 1000.0
    return [(math.log10(1 / (1 - p / 100)), float(y)) for p, y in zip(SPECTRUM, ms)]


def p99_over_time(run: SingleRun, subject: Subject) -> list[tuple[float, float]]:
    """``(seconds since start, p99 ms)`` of each report interval with requests."""
    rates = run.rates.get(subject)
    if rates is None:
        return []
    return [(float(t), float(p)) for t, p, n in zip(rates.elapsed_s, rates.p99_ms, rates.requests) if n > 0]

