"""Fixed-width text tables: a run's summary (``render_table``, printed at the end of a run),
merged interval logs (``render_hlog_table``, ``loadgen report``) and :func:`format_columns`,
the column layout every loadgen text table uses (the scenario results table too).

Figures come in as the dicts of :mod:`loadgen.reports.summary`; latencies are in ms.
"""
from __future__ import annotations

from typing import Any, Iterable

TABLE_COLUMNS = ("endpoint", "requests", "failures", "req/s", "docs/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
BREAKDOWN_COLUMNS = ("part of a request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms")
HLOG_COLUMNS = ("tag", "count", "per s", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms")


def render_table(summary: dict[str, Any]) -> str:
    """A fixed-width text table of the summary's endpoints and their total, then the
    per-Executor breakdown (or a note saying why there is none)."""
    rows = [_row(name, e) for name, e in summary["endpoints"].items()]
    if len(rows) != 1:
        rows.append(_row("total", summary["total"]))
    lines = [format_columns(TABLE_COLUMNS, rows), *untimed_lines(summary), load_model_line(summary),
             *match_lines(summary), *data_wait_lines(summary)]
    return "\n".join([*lines, "", render_breakdown(summary)])


NO_SUCCESS = "no successful request"


def untimed(entry: dict[str, Any]) -> bool:
    """An entry without a single successful request: its latency figures are empty, not 0 ms."""
    return not entry.get("timed_requests", 1)


def untimed_lines(summary: dict[str, Any]) -> list[str]:
    """One line naming the endpoints whose latency cells show ``-`` because none succeeded."""
    names = [name for name, e in summary["endpoints"].items() if untimed(e)]
    if not names:
        return []
    if len(names) == len(summary["endpoints"]):
        return [f"{NO_SUCCESS}: every request failed, so there are no latencies ({_top_failure(summary)})"]
    return [f"{', '.join(names)}: {NO_SUCCESS} (no latencies)"]


def _top_failure(summary: dict[str, Any]) -> str:
    messages = summary["total"].get("failure_messages") or {}
    if not messages:
        return "see the failures by class"
    message, count = next(iter(messages.items()))
    return f"commonest: {message} ({count}x)"


def match_lines(summary: dict[str, Any]) -> list[str]:
    """With ``--match-field F``: per endpoint, how many matches carried each value of F."""
    field = summary.get("match_field")
    if not field:
        return []
    lines = []
    for name, entry in summary["endpoints"].items():
        values = entry.get("match_values") or {}
        tally = ", ".join(f"{value}: {count}" for value, count in values.items()) or "no successful reply"
        replies = entry.get("values_per_reply") or {}
        spread = ", ".join(f"{k} in {n}" for k, n in replies.items())
        lines.append(f"{name} matches by {field}: {tally}" + (f"; distinct {field}s per reply: {spread} replies"
                                                               if spread else ""))
    return lines


def data_wait_lines(summary: dict[str, Any]) -> list[str]:
    """When users had to wait for data (a dataset's refills, the replay producer): how long,
    and what makes the data keep up. The waits are outside the timed spans, so they lower
    the load offered, not the latencies."""
    waits = next((summary[key] for key in ("dataset", "replay")
                  if isinstance(summary.get(key), dict) and summary[key].get("waits")), None)
    if waits is None:
        return []
    return [f"data-bound: the generator waited {waits['wait_s']:.2f} s for data ({waits['waits']} requests "
            f"waited, seconds summed over them), so it offered less load than asked; latencies are not affected",
            "  to keep up: smaller images (--image-shape), --image-as blob, a larger --pool-mb/--pool-size, "
            "more processes (--processes)"]


def load_model_line(summary: dict[str, Any]) -> str:
    """One line saying how the load was offered, and for open loop what correction did."""
    arrival = summary.get("arrival")
    if summary.get("load_model") != "open" or not arrival:
        return "closed loop: each user waits for a reply before sending its next request"
    total = summary["total"]
    raw = total["latency_ms_uncorrected"]
    return (f"open loop: {arrival['process']} arrivals at {arrival['rate']} req/s; latencies from the "
            f"scheduled send time (uncorrected p50/p95/p99: {raw['p50']:.2f}/{raw['p95']:.2f}/{raw['p99']:.2f} ms); "
            f"late: {total['late']}")


def render_breakdown(summary: dict[str, Any]) -> str:
    """The per-Executor breakdown and the rest of a request's time, or why there is none."""
    parts = {**summary.get("executors", {}), **summary.get("breakdown", {})}
    if not parts:
        note = summary.get("executors_note", "no successful request carried routes")
        return f"per-Executor breakdown: {note}"
    rows = [(name, str(p["count"]), *(f"{p['latency_ms'][k]:.2f}" for k in ("p50", "p95", "p99", "max")))
            for name, p in parts.items()]
    return format_columns(BREAKDOWN_COLUMNS, rows)


def _row(name: str, e: dict[str, Any]) -> tuple[str, ...]:
    lat = e["latency_ms"]
    latencies = ("-",) * 4 if untimed(e) else tuple(f"{lat[k]:.2f}" for k in ("p50", "p95", "p99", "max"))
    return (name, str(e["requests"]), str(e["failures"]), f"{e['rps']:.1f}", f"{e['docs_per_s']:.1f}", *latencies)


def format_columns(header: Iterable[str], rows: list[tuple[str, ...]]) -> str:
    """``rows`` of strings under ``header``, separated by a dashed line: the first column
    left-aligned, the others right-aligned, each as wide as its widest cell."""
    header = tuple(header)
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def render_hlog_table(summary: dict[str, Any]) -> str:
    """The figures of :func:`loadgen.reports.summary.hlog_summary`, one row per tag."""
    rows = [(tag, str(e["count"]), f"{e['per_s']:.1f}",
             *(f"{e['latency_ms'][k]:.2f}" for k in ("p50", "p90", "p95", "p99", "p999", "max")))
            for tag, e in summary.items()]
    return format_columns(HLOG_COLUMNS, rows)
