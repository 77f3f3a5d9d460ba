"""``loadgen compare DIR1 DIR2 … DIRn --history``: one trend per endpoint across runs, in the
order given, each run judged against the one before it.

A run is labelled by its ``run.label`` (``--run-label``, e.g. the Jina version), else its
start time. Every pair of neighbours is compared exactly as ``loadgen compare`` would (same
limits, same noise-aware verdicts); a figure that got worse is marked on the trend.
Written: ``history.csv`` (one row per run, endpoint/Executor and figure) and
``history.html`` (per endpoint the latency percentiles across runs, req/s per step, the
regressions circled). The exit code is 4 when the **last** run regressed against the one
before it (older regressions are history, not news), else 0.
"""
from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from html import escape
from typing import Optional, TextIO

from loadgen.compare.comparison import compare
from loadgen.compare.records import Comparison, change_text
from loadgen.compare.render import headline
from loadgen.compare.run import EXIT_OK, EXIT_REGRESSION, CompareConfig, check_settings
from loadgen.compare.runs import Loaded, kind_of, load
from loadgen.compare.thresholds import METRICS
from loadgen.errors import ConfigError
from loadgen.files import write_text_atomic
from loadgen.reports.html import html_table, page
from loadgen.reports.svg import line_chart

CSV_COLUMNS = ("run", "label", "dir", "step", "kind", "name", "metric", "value", "change", "verdict", "confidence")
LATENCY_LINES = ("p50", "p95", "p99", "p999")


def run_history(config: CompareConfig, *, stream: Optional[TextIO] = None) -> int:
    """Compare each run with the one before it; write history.csv and history.html."""
    stream = stream or sys.stdout
    check_settings(config.settings)
    if len(config.dirs) < 2:
        raise ConfigError("--history needs at least two results directories, oldest first")
    for i, path in enumerate(config.dirs, start=1):
        kind_of(path, f"DIR{i}")
    runs = [load(path, f"DIR{i}") for i, path in enumerate(config.dirs, start=1)]
    steps = [compare(a, b, config.settings) for a, b in zip(runs, runs[1:])]
    records = trend(runs, steps)
    config.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(config.out / "history.csv", render_csv(records))
    write_text_atomic(config.out / "history.html", render_html(runs, steps, records))
    for before, after, step in zip(runs, runs[1:], steps):
        print(f"{before.label} -> {after.label}: {headline(step)}", file=stream)
        for row in step.regressions:
            print(f"  {row.regression_line()}", file=stream)
    print(f"written: {config.out / 'history.html'} (and history.csv)", file=stream, flush=True)
    return EXIT_REGRESSION if steps[-1].regressions else EXIT_OK


def trend(runs: list[Loaded], steps: list[Comparison]) -> list[dict]:
    """One record per run and figure: its value, and its change and verdict against the run
    before (none for the first run)."""
    records = []
    for index, run in enumerate(runs):
        rows = steps[0].rows if index == 0 else steps[index - 1].rows
        for row in rows:
            first = index == 0
            records.append({"run": index + 1, "label": run.label, "dir": str(run.path), "step": row.set,
                            "kind": row.kind, "name": row.name, "metric": row.metric,
                            "value": row.base if first else row.new, "change": None if first else row.change,
                            "verdict": "" if first else row.verdict,
                            "confidence": None if first else row.confidence})
    return records


def render_csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
    return out.getvalue()


def render_html(runs: list[Loaded], steps: list[Comparison], records: list[dict]) -> str:
    """The runs table, then per endpoint/Executor its latencies across runs and per step
    the req/s of its endpoints (or a capacity search's max req/s), regressions circled."""
    labels = [run.label for run in runs]
    table_rows = [[i + 1, run.label, str(run.path), "" if i == 0 else headline(steps[i - 1])]
                  for i, run in enumerate(runs)]
    body = [f"<h1>loadgen history: {len(runs)} runs</h1>",
            html_table(["run", "label", "directory", "against the run before"], table_rows, css_id="runs")]
    by_subject: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for record in records:
        by_subject[(record["step"], record["kind"], record["name"])].append(record)
    for (step, kind, name), items in by_subject.items():
        where = " · ".join(p for p in (step, name) if p)
        body.append(f"<h2>{escape(where)}{' (Executor)' if kind == 'executor' else ''}</h2>")
        latency = [m for m in LATENCY_LINES if any(r["metric"] == m for r in items)]
        if latency:
            body.append(_chart(items, latency, labels, title=f"{where}: latency across runs", y_label="ms"))
        rates = [m for m in ("rps", "max_rate") if any(r["metric"] == m for r in items)]
        if rates:
            body.append(_chart(items, rates, labels, title=f"{where}: throughput across runs", y_label="req/s"))
    return page("loadgen history", body)


def _chart(records: list[dict], metrics: list[str], labels: list[str], *, title: str, y_label: str) -> str:
    series = {METRICS[m].label: [(r["run"] - 1.0, r["value"]) for r in records if r["metric"] == m
                                 and r["value"] is not None] for m in metrics}
    marks = [(r["run"] - 1.0, r["value"], f"{METRICS[r['metric']].label} worse than the run before "
                                          f"({change_text(r['metric'], r['change'])})") for r in records
             if r["metric"] in metrics and r["verdict"] == "worse" and r["value"] is not None]
    return line_chart(series, title=title, x_label="run", y_label=y_label, x_ticks=_ticks(labels), marks=marks)


def _ticks(labels: list[str]):
    every = max(1, len(labels) // 10)

    def ticks(_low: float, _high: float) -> list[tuple[float, str]]:
        return [(float(i), _short(label)) for i, label in enumerate(labels) if i % every == 0]
    return ticks


def _short(label: Optional[str]) -> str:
    text = str(label or "")
    return text if len(text) <= 18 else text[:17] + "…"
