"""``advice.html``: one self-contained page (inline SVG, no scripts, no network) per advice.

Two charts from ``advice.json`` alone: the capacity of each tried topology against its
Executor processes (the max rate of a search, else the achieved rate at the target, with the
target as a dashed line and the chosen topology's processes as another), and each step's
shares of the time per Executor (the bottleneck is the longest bar). Then the answer, the
Flow YAML fragment to paste, the table of every tried topology and links to their runs.
Drawn with :mod:`loadgen.reports.svg` and the run report's page markup.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from loadgen.advise.report import answer, fragment, table_rows
from loadgen.files import write_text_atomic
from loadgen.reports.html import html_table, page
from loadgen.reports.scenario_table import cell_text, columns_of
from loadgen.reports.svg import bar_chart, marked_chart


def write_page(directory: Path) -> Path:
    """Render ``directory/advice.html`` from ``directory/advice.json`` (atomically)."""
    data = json.loads((directory / "advice.json").read_text(encoding="utf-8"))
    return write_text_atomic(directory / "advice.html", render(data))


def render(data: dict[str, Any]) -> str:
    """The whole page for an ``advice.json`` dict."""
    body = [f"<h1>jina-loadgen advise</h1><p id='answer'>{escape(answer(data))}</p>",
            f"<p>gates: {escape(', '.join(data['slo']) or 'none (keep up with the offered rate)')}</p>"]
    if data["chosen"]:
        body.append(f"<h2>Recommendation</h2><pre id='fragment'>{escape(fragment(data))}</pre>")
    body += [_capacity_chart(data), _shares_chart(data), "<h2>Topologies tried</h2>", _table(data), _links(data)]
    return page("jina-loadgen advise", body)


def _capacity_chart(data: dict[str, Any]) -> str:
    maximum = data["target_rate"] == "max"
    key = "max_rate" if maximum else "achieved_rate"
    tried = sorted((t for t in data["tried"] if t[key] is not None), key=lambda t: (t["processes"], t[key]))
    series = {"every topology": [(t["processes"], t[key]) for t in tried]}
    held = [(t["processes"], t[key]) for t in tried if t["held"]]
    if held:
        series["held"] = held
    h_lines = [] if maximum else [(float(data["target_rate"]), f"target {data['target_rate']:g} req/s")]
    chosen = data["chosen"]
    v_lines = [(chosen["processes"], f"chosen: {chosen['processes']} processes")] if chosen else []
    what = "max req/s within the SLO" if maximum else "achieved req/s at the target"
    return marked_chart(series, title=f"capacity against Executor processes ({what}), one point per topology",
                        x_label="Executor processes (replicas x shards)", y_label="req/s", h_lines=h_lines,
                        v_lines=v_lines)


def _shares_chart(data: dict[str, Any]) -> str:
    names = list(dict.fromkeys(name for t in data["tried"] for name in t["shares"]))
    rows = [(f"{t['step']}: {t['change']}", [100 * t["shares"].get(name, 0.0) for name in names])
            for t in data["tried"]]
    return bar_chart(rows if names else [], labels=names, x_label="% of the time in Executors",
                     title="bottleneck per step: each Executor's share of the time (the longest bar is scaled next)")


def _table(data: dict[str, Any]) -> str:
    rows = table_rows(data)
    columns = columns_of(rows) if rows else ["step"]
    return html_table(columns, [[cell_text(r.get(c)) for c in columns] for r in rows], css_id="tried")


def _links(data: dict[str, Any]) -> str:
    items = "".join(f"<li><a href='{escape(t['report'])}'>step {t['step']}: {escape(t['dir'])}</a> "
                    f"({escape(t['reason'])})</li>" for t in data["tried"] if t.get("report"))
    return f"<ul id='runs'>{items}</ul>" if items else ""
