"""``report.html``: one self-contained page (inline SVG, no scripts, no network) per run.

It is built from the run's files — ``summary.json``, ``timeseries.csv`` and
``histograms.hlog`` — so ``loadgen report DIR --html`` can re-render it later. Plots:
latency percentiles over time (p50/p95/p99 per endpoint), requests per second over time,
the latency distribution as a percentile spectrum, and the per-Executor breakdown.
:func:`page` and :func:`html_table` are the markup the scenario report
(:mod:`loadgen.reports.scenario_html`) shares with it.
"""
from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from loadgen.files import write_text_atomic
from loadgen.metrics import LatencyHistogram
from loadgen.observe.table import FILE_NAME as SERVER_CSV
from loadgen.observe.table import read_rows as read_server_rows
from loadgen.reports.series import merge_intervals, read_hlog
from loadgen.reports.server_panels import server_section
from loadgen.reports.summary import BREAKDOWN_TYPES
from loadgen.reports.svg import bar_chart, line_chart, spectrum_ticks
from loadgen.reports.text import load_model_line

# Percentiles of the spectrum: 0 %, then ten points per "nine" up to 99.999 %.
SPECTRUM = [100.0 * (1 - 10 ** (-k / 10)) for k in range(0, 51)]
STYLE = ("body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
         "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
         "td:first-child,th:first-child{text-align:left}.chart{display:block;margin:16px 0}")


def write_report(directory: Path) -> Path:
    """Render ``directory/report.html`` from the run's files (atomically)."""
    html = render(**load_run(Path(directory)))
    return write_text_atomic(Path(directory) / "report.html", html)


def load_run(directory: Path) -> dict[str, Any]:
    """The inputs of :func:`render` read from a results directory (missing files → empty)."""
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    rows: list[dict[str, str]] = []
    if (directory / "timeseries.csv").is_file():
        with open(directory / "timeseries.csv", newline="", encoding="utf-8") as stream:
            rows = list(csv.DictReader(stream))
    spectra: dict[str, LatencyHistogram] = {}
    if (directory / "histograms.hlog").is_file():
        with open(directory / "histograms.hlog", encoding="utf-8") as stream:
            spectra = {tag: m.histogram for tag, m in merge_intervals(read_hlog(stream)).items()}
    return {"summary": summary, "rows": rows, "spectra": spectra,
            "server_rows": read_server_rows(directory / SERVER_CSV)}


def render(*, summary: dict[str, Any], rows: list[dict[str, str]], spectra: dict[str, LatencyHistogram],
           server_rows: list[dict[str, str]] = ()) -> str:
    """The whole page as a string."""
    requests = [r for r in rows if r["request_type"] not in BREAKDOWN_TYPES]
    body = [f"<h1>jina-loadgen run: {escape(str(summary.get('target', '')))}</h1>",
            f"<p>{escape(load_model_line(summary))}</p>", _endpoint_table(summary), _slo_list(summary),
            "<h2>Latency over time</h2>", *_latency_over_time(requests),
            "<h2>Requests per second</h2>", _rps_over_time(requests),
            "<h2>Latency distribution</h2>", _spectrum(spectra),
            "<h2>Where the time goes</h2>", _breakdown(summary), *server_section(summary, list(server_rows), rows),
            "<h2>Run parameters</h2>", _parameters(summary)]
    return page("jina-loadgen report", body)


def page(title: str, body: list[str]) -> str:
    """A whole HTML document: ``title``, the shared style sheet, then the ``body`` parts."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


def _endpoint_table(summary: dict[str, Any]) -> str:
    head = ["endpoint", "requests", "failures", "req/s", "docs/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms",
            "p99.9 ms", "max ms"]
    rows = []
    for name, e in [*summary["endpoints"].items(), ("total", summary["total"])]:
        lat = e["latency_ms"]
        rows.append([name, e["requests"], e["failures"], f"{e['rps']:.1f}", f"{e['docs_per_s']:.1f}",
                     *(f"{lat[k]:.2f}" for k in ("p50", "p90", "p95", "p99", "p999", "max"))])
    return html_table(head, rows, css_id="endpoints")


def _slo_list(summary: dict[str, Any]) -> str:
    gates = summary.get("slo") or []
    items = "".join(f"<li>{'PASS' if g['passed'] else 'FAIL'} {escape(g['slo'])} (actual {g['actual']})</li>"
                    for g in gates)
    return f"<h2>SLO gates</h2><ul id='slo'>{items}</ul>" if gates else ""


def _latency_over_time(rows: list[dict[str, str]]) -> list[str]:
    by_name: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_name[row["name"]].append(row)
    charts = []
    for name, items in sorted(by_name.items()):
        series = {f"{p} {name}": [(float(r["elapsed_s"]), float(r[f"{p}_ms"])) for r in items if int(r["requests"])]
                  for p in ("p50", "p95", "p99")}
        charts.append(line_chart(series, title=f"{name}: latency percentiles per interval", x_label="seconds",
                                 y_label="ms"))
    return charts or [line_chart({}, title="latency percentiles", x_label="seconds", y_label="ms")]


def _rps_over_time(rows: list[dict[str, str]]) -> str:
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        series[row["name"]].append((float(row["elapsed_s"]), float(row["rps"])))
    return line_chart(dict(series), title="requests per second", x_label="seconds", y_label="req/s")


def _spectrum(spectra: dict[str, LatencyHistogram]) -> str:
    series = {}
    for tag, hist in sorted(spectra.items()):
        if tag.split(":")[0] in BREAKDOWN_TYPES or not hist.count:
            continue
        values = hist.percentiles_ms(SPECTRUM)
        series[tag] = [(math.log10(1 / (1 - p / 100)), values[p]) for p in SPECTRUM]
    return line_chart(series, title="latency by percentile (whole run)", x_label="percentile", y_label="ms",
                      x_ticks=spectrum_ticks)


def _breakdown(summary: dict[str, Any]) -> str:
    parts = {**summary.get("executors", {}), **summary.get("breakdown", {})}
    if not parts:
        return f"<p id='breakdown-note'>per-Executor breakdown: {escape(summary.get('executors_note', 'no routes in the replies'))}</p>"
    rows = [(name, [p["latency_ms"][k] for k in ("p50", "p95", "p99")]) for name, p in parts.items()]
    return bar_chart(rows, labels=["p50", "p95", "p99"], title="per-Executor time and the rest", x_label="ms")


def _parameters(summary: dict[str, Any]) -> str:
    skip = {"endpoints", "total", "executors", "breakdown", "failures", "slo", "server"}
    rows = [[key, json.dumps(value)] for key, value in summary.items() if key not in skip]
    rows.append(["failures by class", json.dumps(summary.get("failures", {}))])
    return html_table(["parameter", "value"], rows, css_id="parameters")


def html_table(head: list[str], rows: list[list[Any]], *, css_id: str) -> str:
    """A ``<table id=css_id>``: a header row, then one row per item of ``rows`` (all escaped)."""
    header = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table id='{css_id}'><tr>{header}</tr>{body}</table>"
