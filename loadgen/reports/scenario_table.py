"""The results table of a scenario run: one row per job, sweep point and load step.

Each load step gives a :class:`StepResult` (its figures come from the step's
``summary.json``); :func:`table` groups the repetitions of a point and reports the median
of each figure, plus the min and max of req/s and p99 when a point ran more than once.
Columns: ``job``, the swept parameters, ``step``, ``reps``, ``requests``, ``failures``,
``req/s``, ``docs/s``, ``p50 ms``, ``p95 ms``, ``p99 ms`` (from each request's actual send),
``p99 corrected ms`` (open-loop steps: from the scheduled send), ``max req/s`` and ``max docs/s``
(``find_capacity`` steps: the highest rate held within the SLO), ``processes`` (``advise``
steps: the chosen topology's Executor processes), ``<executor> mean ms`` (mean time
per Executor), ``limit`` (``find_capacity``: what ended the search) and ``status``. Written as ``table.csv``, ``table.md`` and ``results.json`` (``report.html``:
:mod:`loadgen.reports.scenario_html`; on a terminal: :mod:`loadgen.console`).
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from loadgen.files import write_json_atomic, write_text_atomic
from loadgen.reports.text import format_columns  # the fixed-width layout of loadgen's tables

FIGURES = ("requests", "failures", "req/s", "docs/s", "p50 ms", "p95 ms", "p99 ms", "p99 corrected ms",
           "match shards", "max req/s", "max docs/s", "processes")
SPREAD = ("req/s", "p99 ms")


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """One load step of one point and repetition: its figures (empty when the step left no
    summary), its per-Executor mean times and how it ended (``ok``, ``failures``,
    ``slo failed``, ``interrupted`` or ``failed: <reason>``)."""

    job: str
    params: Mapping[str, Any]
    repetition: int
    step: str
    status: str
    results_dir: str
    figures: Mapping[str, Optional[float]] = field(default_factory=dict)
    executors: Mapping[str, float] = field(default_factory=dict)
    limit: str = ""  # find_capacity: what ended the search (slo, rate-max, generator, time)


def figures_of(summary: Mapping[str, Any]) -> tuple[dict[str, Optional[float]], dict[str, float]]:
    """The table's figures and per-Executor mean ms of a loadgen ``summary.json``."""
    total = summary["total"]
    sent = total.get("latency_ms_uncorrected") or total["latency_ms"]
    open_loop = summary.get("load_model") == "open"
    figures = {"requests": total["requests"], "failures": total["failures"], "req/s": total["rps"],
               "docs/s": total["docs_per_s"], "p50 ms": sent["p50"], "p95 ms": sent["p95"], "p99 ms": sent["p99"],
               "p99 corrected ms": total["latency_ms"]["p99"] if open_loop else None,
               "match shards": match_shards(summary)}
    executors = {name: e["latency_ms"]["mean"] for name, e in (summary.get("executors") or {}).items()}
    return figures, executors


def match_shards(summary: Mapping[str, Any]) -> Optional[int]:
    """How many indexer shards the matches of a typical reply come from (the most common
    count over the replies; ``--match-field shard``), else None."""
    if summary.get("match_field") != "shard":
        return None
    replies: dict[int, int] = {}
    for entry in summary["endpoints"].values():
        for shards, count in (entry.get("values_per_reply") or {}).items():
            replies[int(shards)] = replies.get(int(shards), 0) + count
    return max(replies, key=lambda k: (replies[k], k)) if replies else 0


def table(results: list[StepResult]) -> list[dict[str, Any]]:
    """One row per (job, point, step), repetitions folded into medians, in run order."""
    groups: dict[tuple, list[StepResult]] = {}
    for result in results:
        key = (result.job, tuple(result.params.items()), result.step)
        groups.setdefault(key, []).append(result)
    names = list(dict.fromkeys(k for r in results for k in r.params))
    executors = list(dict.fromkeys(e for r in results for e in r.executors))
    return [_row(group, names, executors) for group in groups.values()]


def _row(group: list[StepResult], names: list[str], executors: list[str]) -> dict[str, Any]:
    first = group[0]
    row: dict[str, Any] = {"job": first.job, **{n: first.params.get(n, "") for n in names},
                           "step": first.step, "reps": len(group)}
    for name in FIGURES:
        row[name] = _median([r.figures.get(name) for r in group])
    for name in SPREAD:
        values = [v for v in (r.figures.get(name) for r in group) if v is not None]
        row[f"{name} min"], row[f"{name} max"] = (min(values), max(values)) if len(values) > 1 else (None, None)
    for name in executors:
        row[f"{name} mean ms"] = _median([r.executors.get(name) for r in group])
    row["limit"] = "; ".join(dict.fromkeys(r.limit for r in group if r.limit))
    statuses = list(dict.fromkeys(r.status for r in group))
    row["status"] = "ok" if statuses == ["ok"] else "; ".join(s for s in statuses if s != "ok")
    return row


def _median(values: list[Optional[float]]) -> Optional[float]:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    """The columns of ``rows`` that have at least one value (optional ones such as spreads
    drop out when empty); every rendering of the table shows these."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    return [k for k in keys if any(row.get(k) not in (None, "") for row in rows) or k in ("job", "step", "status")]


def cell_text(value: Any) -> str:
    """A cell as every rendering shows it: empty for None, 2 decimals (none for a whole number from 1000 up)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.2f}"
    return str(value)


def render_text(rows: list[dict[str, Any]], *, width: int = 60) -> str:
    """A fixed-width text table (``no load steps ran`` when empty); cells are cut at
    ``width`` characters (a failed step's whole reason is in results.json and table.csv)."""
    if not rows:
        return "no load steps ran"
    columns = columns_of(rows)
    cut = [tuple(_cut(cell_text(row.get(c)), width) for c in columns) for row in rows]
    return format_columns(columns, cut)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render_markdown(rows: list[dict[str, Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    if not rows:
        return "no load steps ran\n"
    columns = columns_of(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell_text(row.get(c)).replace("|", "\\|") for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = columns_of(rows) if rows else ["job", "step", "status"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[cell_text(row.get(c)) for c in columns] for row in rows])
    return out.getvalue()


def write_tables(directory: Path, results: list[StepResult], *, run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Write ``table.csv``, ``table.md`` and ``results.json`` (every step result and the
    table) into ``directory``, each atomically; returns the table rows."""
    rows = table(results)
    write_text_atomic(directory / "table.csv", render_csv(rows))
    write_text_atomic(directory / "table.md", render_markdown(rows))
    write_json_atomic(directory / "results.json", {**run, "table": rows, "steps": [asdict(r) for r in results]})
    return rows
