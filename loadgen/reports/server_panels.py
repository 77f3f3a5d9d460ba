"""``report.html``'s server section: the server's side beside the client's, on one time axis.

From ``server_metrics.csv`` (:mod:`loadgen.observe.table`) and ``summary.json`` ``server``:
client p99 per endpoint with each Executor's mean processing time and the gateway's mean
time per request (ms), CPU per Executor (% of one core), requests per second as the client
sent them and as each Executor counted them, resident memory, and the per-Executor table.
Every chart spans the client's time series (``elapsed_s`` since the run's start), so a
rise in one lines up with the others. Rendering only: the figures come from the files.
"""
from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any, Iterable, Optional

from loadgen.observe.totals import PROCESSING, RECEIVING, executor_of, role_of
from loadgen.reports.svg import line_chart

def server_section(summary: dict[str, Any], server_rows: list[dict[str, str]],
                   client_rows: list[dict[str, str]], *, x_range: Optional[tuple[float, float]] = None) -> list[str]:
    """The section's HTML parts (nothing when the run scraped no server metrics);
    ``client_rows``: the requests' time-series rows; ``x_range``: the report's time axis (s)."""
    server = summary.get("server")
    if not server and not server_rows:
        return []
    clients = [r for r in client_rows if r.get("request_type") not in ("executor", "breakdown", "generator", "total")]
    if x_range is None:
        elapsed = [float(r["elapsed_s"]) for r in clients] + [float(r["elapsed_s"]) for r in server_rows]
        x_range = (0.0, max(elapsed)) if elapsed else None
    chart = lambda series, title, y: line_chart(_clip(series, x_range), title=title, x_label="seconds",  # noqa: E731
                                                y_label=y, x_range=x_range)
    parts = ["<h2>Server</h2>", _problems(server or {}),
             chart({**_client_p99(clients), **_server_times(server_rows)}, "client p99 and server time per request", "ms"),
             chart(_grouped(server_rows, "process_cpu_percent", 1.0), "CPU per Executor (100 = one core)", "%"),
             chart({**_client_rps(clients), **_server_rps(server_rows)}, "requests per second: client and server", "req/s"),
             chart(_grouped(server_rows, "process_resident_memory_bytes", 1 / 2**20), "resident memory", "MiB"),
             _table(server or {})]
    return [f"<section id='server'>{''.join(parts)}</section>"]


def _clip(series: dict[str, list[tuple[float, float]]], x_range: Optional[tuple[float, float]]):
    if x_range is None:
        return series
    return {name: [p for p in points if x_range[0] <= p[0] <= x_range[1]] for name, points in series.items()}


def _number(text: str) -> Optional[float]:
    return float(text) if text not in ("", None) else None


def _client_p99(rows: Iterable[dict[str, str]]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        if int(row["requests"]):
            out[f"client p99 {row['name']}"].append((float(row["elapsed_s"]), float(row["p99_ms"])))
    return dict(out)


def _client_rps(rows: Iterable[dict[str, str]]) -> dict[str, list[tuple[float, float]]]:
    total: dict[float, float] = defaultdict(float)
    for row in rows:
        total[float(row["elapsed_s"])] += float(row["rps"])
    return {"client": sorted(total.items())} if total else {}


def _server_times(rows: Iterable[dict[str, str]]) -> dict[str, list[tuple[float, float]]]:
    """Mean time per call in each interval: an Executor's processing (its worker runtimes,
    Jina's ``_jina_*`` endpoints left out), the gateway's whole request (ms)."""
    sums: dict[tuple[str, float], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        runtime, metric = row["runtime"], row["metric"]
        mean, count = _number(row["mean"]), _number(row["increase"])
        if mean is None or not count or '_jina_' in row["labels"]:
            continue
        if metric == PROCESSING and role_of(runtime) == "worker":
            name = f"{executor_of(runtime)} processing"
        elif metric == RECEIVING and role_of(runtime) == "gateway":
            name = "gateway per request"
        else:
            continue
        acc = sums[(name, float(row["elapsed_s"]))]
        acc[0] += mean * count
        acc[1] += count
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (name, at), (total, count) in sorted(sums.items()):
        out[name].append((at, 1000.0 * total / count))
    return dict(out)


def _server_rps(rows: list[dict[str, str]]) -> dict[str, list[tuple[float, float]]]:
    """Requests per second each Executor (its head, else its replicas) and the gateway counted."""
    with_head = {executor_of(r["runtime"]) for r in rows if role_of(r["runtime"]) == "head"}
    rates: dict[tuple[str, float], float] = defaultdict(float)
    for row in rows:
        runtime = row["runtime"]
        if row["metric"] not in ("jina_successful_requests", "jina_failed_requests") or not row["rate_per_s"]:
            continue
        role, name = role_of(runtime), executor_of(runtime)
        if role == "extra" or (name in with_head and role != "head"):
            continue
        rates[(f"{name} (server)", float(row["elapsed_s"]))] += float(row["rate_per_s"])
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (name, at), rate in sorted(rates.items()):
        out[name].append((at, rate))
    return dict(out)


def _grouped(rows: Iterable[dict[str, str]], metric: str, scale: float) -> dict[str, list[tuple[float, float]]]:
    """A process metric summed per Executor (the gateway and the Flow's parent on their own)."""
    sums: dict[tuple[str, float], float] = defaultdict(float)
    for row in rows:
        if row["metric"] == metric and row["value"]:
            name = executor_of(row["runtime"]) if "/" in row["runtime"] else row["runtime"]
            sums[(name, float(row["elapsed_s"]))] += float(row["value"]) * scale
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for (name, at), value in sorted(sums.items()):
        out[name].append((at, value))
    return dict(out)


def _problems(server: dict[str, Any]) -> str:
    items = [f"<li>{escape(url)}: {escape(source['problem'])}</li>"
             for url, source in (server.get("sources") or {}).items() if source.get("problem")]
    items += [f"<li>{escape(note)}</li>" for note in server.get("notes") or []]
    return f"<ul id='server-problems'>{''.join(items)}</ul>" if items else ""


def _table(server: dict[str, Any]) -> str:
    groups = dict(server.get("executors") or {})
    if server.get("gateway"):
        groups["gateway"] = server["gateway"]
    if not groups:
        return ""
    head = ["runtime", "requests", "failed", "mean ms", "p50 ms", "p99 ms", "CPU % mean", "CPU % max", "RSS MiB max"]
    body = []
    for name, entry in groups.items():
        timing = entry.get("processing_ms") or entry.get("receiving_ms") or {}
        cpu = entry.get("cpu_pct") or {}
        cells = [name, entry.get("requests"), entry.get("failed"), timing.get("mean"), timing.get("p50"),
                 timing.get("p99"), cpu.get("mean"), cpu.get("max"), entry.get("rss_mb_max")]
        body.append("<tr>" + "".join(f"<td>{escape('-' if c is None else str(c))}</td>" for c in cells) + "</tr>")
    note = f"<p>{escape(server['quantiles_note'])}</p>" if server.get("quantiles_note") else ""
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table id='server-table'><tr>{header}</tr>{''.join(body)}</table>{note}"
