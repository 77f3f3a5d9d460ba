"""``capacity.html``: one self-contained page (inline SVG, no scripts, no network) per search.

Per endpoint, latency (p50, p95, p99 of each trial's merged windows) against the achieved
throughput of every trial, with the knee -- the highest offered rate that held, drawn at
its achieved rate -- and each latency gate on that endpoint (or on the total) as a
dashed line; then the trials table and links to each trial's own ``report.html``.
Built from ``capacity.json`` alone, with :mod:`loadgen.reports.svg` and the run report's
page markup (:func:`loadgen.reports.html.page`, :func:`~loadgen.reports.html.html_table`).
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from loadgen.capacity.report import table_rows
from loadgen.files import write_text_atomic
from loadgen.reports.html import html_table, page
from loadgen.reports.scenario_table import cell_text, columns_of
from loadgen.reports.svg import marked_chart
from loadgen.slo import LATENCY_METRICS, parse_slo

PERCENTILES = ("p50", "p95", "p99")


def write_page(directory: Path) -> Path:
    """Render ``directory/capacity.html`` from ``directory/capacity.json`` (atomically)."""
    data = json.loads((directory / "capacity.json").read_text(encoding="utf-8"))
    return write_text_atomic(directory / "capacity.html", render(data))


def render(data: dict[str, Any]) -> str:
    """The whole page for a ``capacity.json`` dict."""
    trials = data["trials"]
    endpoints = list(dict.fromkeys(name for t in trials for name in t["endpoints"]))
    body = [f"<h1>jina-loadgen capacity</h1><p id='answer'>{escape(_answer(data))}</p>",
            f"<p>gates: {escape(', '.join(data['slo']) or 'none (keep up with the offered rate)')}</p>"]
    body += [_chart(data, name) for name in endpoints]
    body += ["<h2>Trials</h2>", _table(trials), _links(trials)]
    return page("jina-loadgen capacity", body)


def _answer(data: dict[str, Any]) -> str:
    if data["max_rate"] is None:
        return f"no tried rate holds the SLO (limit: {data['limit']})"
    docs = f" ({data['max_docs_per_s']:.4g} docs/s)" if data.get("max_docs_per_s") is not None else ""
    return f"max sustainable rate within SLO: {data['max_rate']:.4g} req/s{docs} (limit: {data['limit']})"


def _chart(data: dict[str, Any], endpoint: str) -> str:
    trials = sorted((t for t in data["trials"] if endpoint in t["endpoints"]), key=lambda t: t["achieved_rate"])
    series = {f"{p} {endpoint}": [(t["achieved_rate"], t["endpoints"][endpoint]["latency_ms"][p]) for t in trials]
              for p in PERCENTILES}
    gates = [parse_slo(text) for text in data["slo"]]
    h_lines = [(g.threshold, g.text) for g in gates
               if g.metric in LATENCY_METRICS and g.endpoint in (None, endpoint)]
    knee = [t for t in data["trials"] if t["verdict"] == "held" and t["offered_rate"] == data["max_rate"]]
    v_lines = [(knee[-1]["achieved_rate"], f"knee: {data['max_rate']:.4g} req/s held")] if knee else []
    return marked_chart(series, title=f"{endpoint}: latency against throughput, one point per trial",
                        x_label="achieved req/s", y_label="ms", h_lines=h_lines, v_lines=v_lines)


def _table(trials: list[dict[str, Any]]) -> str:
    rows = table_rows(trials, with_dir=True)
    columns = columns_of(rows) if rows else ["trial"]
    return html_table(columns, [[cell_text(r.get(c)) for c in columns] for r in rows], css_id="trials")


def _links(trials: list[dict[str, Any]]) -> str:
    items = "".join(f"<li><a href='{escape(t['dir'])}/report.html'>trial {i}: {t['offered_rate']:.4g} req/s</a></li>"
                    for i, t in enumerate(trials, start=1))
    return f"<ul id='trial-reports'>{items}</ul>" if items else ""
