"""The scenario's ``report.html``: the results table, then per swept job the swept parameter
against req/s and p99, and max req/s when ``find_capacity`` steps ran (inline SVG from
:mod:`loadgen.reports.svg`; no scripts, no network).

The x axis is the job's first swept parameter whose values are all numbers, one line per
step and combination of the other parameters; a job that sweeps only names (``protocol``)
gets bars instead. Each load step's own ``report.html`` (time series, spectrum) is linked.
"""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from loadgen.files import write_text_atomic
from loadgen.reports.html import html_table, page  # the same page and table markup as a run's report
from loadgen.reports.scenario_table import cell_text, columns_of
from loadgen.reports.svg import bar_chart, line_chart

METRICS = ("req/s", "p99 ms")
CAPACITY = "max req/s"  # charted when a find_capacity step found one


def write_report(directory: Path, rows: list[dict[str, Any]], *, scenario: str,
                 axes: Mapping[str, Sequence[str]]) -> Path:
    """Write ``directory/report.html`` atomically."""
    return write_text_atomic(directory / "report.html", render_report(rows, scenario=scenario, axes=axes))


def render_report(rows: list[dict[str, Any]], *, scenario: str, axes: Mapping[str, Sequence[str]]) -> str:
    """The whole page; ``axes`` maps each job to its swept parameters."""
    columns = columns_of(rows) if rows else ["job", "step", "status"]
    body = [f"<h1>jina-loadgen scenario: {escape(scenario)}</h1>",
            html_table(columns, [[cell_text(row.get(c)) for c in columns] for row in rows], css_id="results")]
    for job, names in axes.items():
        job_rows = [r for r in rows if r["job"] == job and r.get("req/s") is not None]
        if names and job_rows:
            body.append(f"<h2>{escape(job)}</h2>")
            body += [_chart(job, job_rows, list(names), metric) for metric in METRICS]
            if any(r.get(CAPACITY) is not None for r in job_rows):
                body.append(_chart(job, job_rows, list(names), CAPACITY))
    return page("jina-loadgen scenario", body)


def _chart(job: str, rows: list[dict[str, Any]], names: list[str], metric: str) -> str:
    x_name = _numeric_axis(rows, names)
    if x_name is None:
        bars = [(_label(row, ["step", *names]), [row[metric] or 0.0]) for row in rows]
        return bar_chart(bars, labels=[metric], title=f"{job}: {metric}", x_label=metric)
    others = ["step", *(n for n in names if n != x_name)]
    series: dict[str, list[tuple[float, float]]] = {}
    for row in sorted(rows, key=lambda r: float(r[x_name])):
        if row[metric] is not None:
            series.setdefault(_label(row, others), []).append((float(row[x_name]), float(row[metric])))
    return line_chart(series, title=f"{job}: {metric} by {x_name}", x_label=x_name, y_label=metric)


def _numeric_axis(rows: list[dict[str, Any]], names: list[str]) -> Optional[str]:
    for name in names:
        if all(isinstance(r.get(name), (int, float)) and not isinstance(r.get(name), bool) for r in rows):
            return name
    return None


def _label(row: dict[str, Any], keys: list[str]) -> str:
    return " ".join(str(row[k]) if k == "step" else f"{k}={row[k]}" for k in keys)
