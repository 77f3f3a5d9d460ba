"""``report.html``: one self-contained page (inline SVG, no scripts, no network) per run.

It is built from the run's files — ``summary.json``, ``timeseries.csv`` and
``histograms.hlog`` — so ``loadgen report DIR --html`` can re-render it later. The page is
the list :data:`SECTIONS`, one function per section, each ``(ReportData) -> str``: a header
with the run's key facts and the SLO verdict, the endpoint table, the failures, the charts
over time (latency, throughput, failures, users; one time axis), the latency distribution,
the per-Executor breakdown and the run's parameters. Charts are :mod:`loadgen.reports.charts`.
:func:`page` and :func:`html_table` are the markup the scenario report
(:mod:`loadgen.reports.scenario_html`) shares with it.
"""
from __future__ import annotations

import csv
import json
from html import escape
from pathlib import Path
from typing import Any, Callable, Sequence

from loadgen.files import write_text_atomic
from loadgen.metrics import LatencyHistogram
from loadgen.reports.charts import (NO_SUCCESS, ReportData, breakdown, distribution, failures_over_time,
                                    latency_over_time, throughput_over_time, users_over_time)
from loadgen.reports.loop_lag import loop_lag_section
from loadgen.observe.table import FILE_NAME as SERVER_CSV
from loadgen.observe.table import read_rows as read_server_rows
from loadgen.reports.series import merge_intervals, read_hlog
from loadgen.reports.server_panels import server_section
from loadgen.reports.svg import TOTAL_COLOR, colors_for
from loadgen.reports.text import load_model_line, untimed

STYLE = ("body{font-family:sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#222}"
         "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
         "th{background:#f3f3f3;white-space:nowrap}td:first-child,th:first-child{text-align:left;white-space:nowrap}"
         ".chart{display:block;margin:16px 0;max-width:100%;height:auto}"
         ".facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px;margin:12px 0}"
         ".fact{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:4px;padding:6px 10px}"
         ".fact b{display:block;font-size:20px}.fact span{font-size:12px;color:#555}"
         ".verdict{padding:6px 10px;border-radius:4px;font-weight:bold}.pass{background:#e6f4ea;color:#1e6b32}"
         ".fail{background:#fde8e8;color:#a11}.meta{color:#444;font-size:14px;line-height:1.5}"
         ".swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}"
         "code{background:#f3f3f3;padding:1px 4px;word-break:break-all}.notes{font-size:13px;color:#444}"
         "#failure-messages td,#failure-messages th{white-space:nowrap;text-align:left}"
         "#failure-messages td:nth-child(2){white-space:normal;word-break:break-word}"
         "#failure-messages td:nth-child(3){text-align:right}"
         "#parameters td,#parameters th{text-align:left;word-break:break-word}.scroll{overflow-x:auto}")
Section = Callable[[ReportData], str]


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
           server_rows: Sequence[dict[str, str]] = (), sections: list[Section] | None = None) -> str:
    """The whole page as a string: each of ``sections`` (default :data:`SECTIONS`) in turn."""
    end = max([summary.get("duration_s") or 0.0, *(float(r["elapsed_s"]) for r in rows)]) or 1.0
    data = ReportData(summary=summary, rows=rows, spectra=spectra, colors=colors_for(summary["endpoints"]),
                      time_range=(0.0, end), server_rows=list(server_rows))
    return page("jina-loadgen report", [section(data) for section in (sections or SECTIONS)])


def page(title: str, body: list[str]) -> str:
    """A whole HTML document: ``title``, the shared style sheet, then the ``body`` parts."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")


def html_table(head: list[str], rows: list[list[Any]], *, css_id: str, raw_first: bool = False) -> str:
    """A ``<table id=css_id>``: a header row, then one row per item of ``rows`` (all escaped;
    with ``raw_first`` the first cell of each row is markup made by the caller)."""
    header = "".join(f"<th>{escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c if raw_first and i == 0 else escape(str(c))}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    # In a box of its own that scrolls sideways: a wide table never widens the page.
    return f"<div class='scroll'><table id='{css_id}'><tr>{header}</tr>{body}</table></div>"


# -- sections ---------------------------------------------------------------------------------
def header(data: ReportData) -> str:
    """Title, target, the key figures, the SLO verdict and when/how the run was made."""
    s, total = data.summary, data.summary["total"]
    share = f"{100 * total['failures'] / total['requests']:.1f}% of requests" if total["requests"] else "no request"
    facts = [("requests", f"{total['requests']:,}", f"in {s.get('duration_s', 0):g} s"),
             ("failures", f"{total['failures']:,}", share), ("req/s", f"{total['rps']:.1f}", "all endpoints"),
             ("docs/s", f"{total['docs_per_s']:.1f}", "of successful requests")]
    if untimed(total):
        facts.append(("latency", NO_SUCCESS, "nothing to time"))
    else:
        facts += [(f"{k} latency", f"{total['latency_ms'][k]:.2f} ms", "successful requests") for k in ("p50", "p99")]
    cards = "".join(f"<div class='fact'><span>{escape(t)}</span><b>{escape(v)}</b><span>{escape(n)}</span></div>"
                    for t, v, n in facts)
    target = f"{s.get('target', '')} · {s.get('protocol', '')}" + (f" ({s['grpc_mode']})" if s.get("protocol") == "grpc" else "")
    return (f"<h1>jina-loadgen report</h1><p class='meta' id='target'><b>{escape(target)}</b><br>"
            f"{escape(load_model_line(s))}{escape(_users(s))}</p><div class='facts' id='facts'>{cards}</div>"
            f"{_slo_verdict(s)}{_run_facts(s.get('run') or {})}")


def _users(summary: dict[str, Any]) -> str:
    users, workers = summary.get("users"), summary.get("workers")
    parts = [f"{users} users" if users is not None else "", f"{workers} worker processes" if workers else ""]
    return "" if not any(parts) else " · " + ", ".join(p for p in parts if p)


def _slo_verdict(summary: dict[str, Any]) -> str:
    gates = summary.get("slo") or []
    if not gates:
        return ""
    failed = [g for g in gates if not g["passed"]]
    head = (f"SLO: PASS, all {len(gates)} gates met" if not failed else
            f"SLO: FAIL, {len(failed)} of {len(gates)} gates missed: "
            + "; ".join(f"{g['slo']} (actual {_number(g['actual'])})" for g in failed))
    items = "".join(f"<li>{'PASS' if g['passed'] else 'FAIL'} {escape(g['slo'])} (actual {_number(g['actual'])})</li>"
                    for g in gates)
    return f"<p class='verdict {'fail' if failed else 'pass'}' id='verdict'>{escape(head)}</p><ul id='slo'>{items}</ul>"


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _run_facts(run: dict[str, Any]) -> str:
    if not run:
        return ""
    versions = ", ".join(f"{k} {v}" for k, v in run.get("versions", {}).items())
    label = f"label <b>{escape(str(run['label']))}</b> · " if run.get("label") else ""
    return (f"<p class='meta' id='run'>{label}{escape(run.get('started_at', ''))} → {escape(run.get('ended_at', ''))}"
            f" · seed {escape(str(run.get('seed')))} · {escape(versions)}<br>"
            f"<code>{escape(run.get('command', ''))}</code></p>")


def endpoint_table(data: ReportData) -> str:
    head = ["endpoint", "requests", "failures", "req/s", "docs/s", "p50 ms", "p90 ms", "p95 ms", "p99 ms",
            "p99.9 ms", "max ms"]
    rows = []
    for name, e in [*data.summary["endpoints"].items(), ("total", data.summary["total"])]:
        color = data.color(name) if name != "total" else TOTAL_COLOR
        lat = e["latency_ms"]
        cells = ["-"] * 6 if untimed(e) else [f"{lat[k]:.2f}" for k in ("p50", "p90", "p95", "p99", "p999", "max")]
        rows.append([f"<span class='swatch' style='background:{color}'></span>{escape(name)}", e["requests"],
                     e["failures"], f"{e['rps']:.1f}", f"{e['docs_per_s']:.1f}", *cells])
    note = "" if not any(untimed(e) for e in data.summary["endpoints"].values()) else \
        f"<p class='notes'>-: {NO_SUCCESS}, so no latency (latencies are of successful requests only)</p>"
    return "<h2>Endpoints</h2>" + html_table(head, rows, css_id="endpoints", raw_first=True) + note


def failures(data: ReportData) -> str:
    """How many failed, how often, and the commonest messages per endpoint."""
    total = data.summary["total"]
    if not total["failures"]:
        return "<h2>Failures</h2><p id='failures'>No request failed.</p>"
    duration = data.summary.get("duration_s") or 0.0
    rate = f"{total['failures'] / duration:.2f} failures/s on average" if duration else ""
    by_class = ", ".join(f"{k}: {v:,}" for k, v in data.summary.get("failures", {}).items())
    line = (f"{total['failures']:,} of {total['requests']:,} requests failed "
            f"({100 * total['failures'] / max(total['requests'], 1):.1f}%), {rate}; by class: {by_class}")
    rows = [[f"<span class='swatch' style='background:{data.color(name)}'></span>{escape(name)}", message, count]
            for name, e in data.summary["endpoints"].items() for message, count in (e.get("failure_messages") or {}).items()]
    table = html_table(["endpoint", "message (class: text)", "count"], rows, css_id="failure-messages", raw_first=True)
    return f"<h2>Failures</h2><p id='failures'>{escape(line)}</p>{table}"


def over_time(data: ReportData) -> str:
    """The charts over time, on one time axis."""
    return (f"<h2>Over time</h2>{latency_over_time(data)}{throughput_over_time(data)}"
            f"{failures_over_time(data)}{users_over_time(data)}")


def latency_distribution(data: ReportData) -> str:
    return f"<h2>Latency distribution</h2>{distribution(data)}"


def where_the_time_goes(data: ReportData) -> str:
    return f"<h2>Where the time goes</h2>{breakdown(data)}"


def parameters(data: ReportData) -> str:
    """The run's parameters in words (nested values flattened, no JSON quoting); a replay
    run's counts of what it sent as a table of their own."""
    skip = {"endpoints", "total", "executors", "breakdown", "failures", "slo", "run", "server"}
    rows: list[list[Any]] = []
    for key, value in data.summary.items():
        if key not in skip:
            rows += _flat(key, value)
    html = "<h2>Run parameters</h2>" + html_table(["parameter", "value"], rows, css_id="parameters")
    sent = (data.summary.get("replay") or {}).get("sent")
    if sent:
        rows = [[endpoint, name, e["requests"], _text(e["kinds"]), _text(e["docs"]), _text(e["top_k"]) or "-"]
                for endpoint, names in sent.items() for name, e in names.items()]
        html += "<h3>What the replay sent</h3>" + html_table(
            ["endpoint", "name", "requests", "kinds", "docs per request", "top_k"], rows, css_id="replay-sent")
    return html


def _flat(key: str, value: Any) -> list[list[Any]]:
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        return [] if key == "replay.sent" else [row for k, v in value.items() for row in _flat(f"{key}.{k}", v)]
    if isinstance(value, dict) and key in ("replay", "dataset", "arrival", "generator"):
        return [row for k, v in value.items() for row in _flat(f"{key}.{k}", v)]
    return [[key, _text(value)]]


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "-"
    return str(value)


#: The page, top to bottom. Add a section: a function ``(ReportData) -> str`` in this list.
def server(data: ReportData) -> str:
    """Scraped server metrics on the report's time axis (:mod:`loadgen.reports.server_panels`)."""
    return "".join(server_section(data.summary, data.server_rows, data.request_rows(), x_range=data.time_range))


def load_generator(data: ReportData) -> str:
    """The self-check's verdict and the event-loop lag over time (:mod:`loadgen.reports.loop_lag`)."""
    return loop_lag_section(data.summary, data.rows, x_range=data.time_range)


SECTIONS: list[Section] = [header, endpoint_table, failures, over_time, load_generator, latency_distribution,
                           where_the_time_goes, server, parameters]
