"""A :class:`~loadgen.compare.comparison.Comparison` as text: the terminal table's cells,
``compare.md`` (a pull-request comment or CI step summary) and ``compare.json``.

Figures: req/s, failures in % of requests, latencies in ms; ``change`` in % (failures: in
percentage points); ``confidence`` that the change's direction is real (docs/compare.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from loadgen.compare.figures import MIN_TAIL
from loadgen.compare.records import Comparison, Row
from loadgen.compare.thresholds import METRICS
from loadgen.files import write_json_atomic, write_text_atomic
from loadgen.reports.text import format_columns

HEAD = ["endpoint", "metric", "base", "new", "change", "limit", "verdict", "confidence"]
MARKS = {"worse": "❌ **worse**", "better": "✅ better", "same": "same"}


def value_text(metric: str, value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if metric in ("rps", "max_rate") else f"{value:.2f}"


def confidence_text(row: Row) -> str:
    """``99.3%``; ``(too few)`` marks a percentile without a verdict; capacity: ``brackets``."""
    if row.confidence is None:
        return "brackets"
    return f"{row.confidence * 100:.1f}%" + (" (too few)" if row.note else "")


def table(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """The header and cells of the comparison table (a ``step`` column for scenarios)."""
    stepped = any(r.set for r in comparison.rows)
    head = (["step"] if stepped else []) + HEAD
    cells = []
    for r in comparison.rows:
        name = f"{r.name} (Executor)" if r.kind == "executor" else r.name
        cells.append(([r.set] if stepped else []) + [
            name, METRICS[r.metric].label, value_text(r.metric, r.base), value_text(r.metric, r.new),
            r.change_text(), r.limit, r.verdict, confidence_text(r)])
    return head, cells


def headline(comparison: Comparison) -> str:
    found = len(comparison.regressions)
    return f"{found} regression{'s' * (found != 1)}" if found else "no regression"


def footer(comparison: Comparison) -> list[str]:
    """Lines after the table: what was only on one side, and how verdicts were made."""
    lines = []
    if comparison.only_in_base:
        lines.append(f"only in base (not compared): {', '.join(comparison.only_in_base)}")
    if comparison.only_in_new:
        lines.append(f"only in new (not compared): {', '.join(comparison.only_in_new)}")
    noted = [r.title() for r in comparison.rows if r.note]
    if noted:
        lines.append(f"no verdict (fewer than {MIN_TAIL} requests beyond the percentile in a run): {', '.join(noted)}")
    if any(r.kind == "capacity" for r in comparison.rows):
        lines.append("a verdict needs the change beyond its limit and the two searches' brackets apart "
                     "(docs/compare.md)")
    else:
        lines.append(f"a verdict needs the change beyond its limit and {comparison.level * 100:g}% confidence that "
                     f"it is more than the runs' own noise (docs/compare.md)")
    return lines


def title(comparison: Comparison) -> str:
    return f"compare: {comparison.base['label']} -> {comparison.new['label']}: {headline(comparison)}"


def render_text(comparison: Comparison) -> str:
    """The plain table (logs, pipes) with its title and footer, then one line per regression."""
    head, cells = table(comparison)
    return "\n".join([title(comparison), format_columns(head, [tuple(c) for c in cells]), *footer(comparison),
                      *(r.regression_line() for r in comparison.regressions)])


def render_markdown(comparison: Comparison) -> str:
    """GitHub-flavoured Markdown: headline, regressions, the table, how it was judged."""
    head, cells = table(comparison)
    verdict = head.index("verdict")
    lines = [f"### loadgen compare: `{comparison.base['label']}` → `{comparison.new['label']}`", "",
             f"**{'❌ ' if comparison.regressions else '✅ '}{headline(comparison)}**", ""]
    lines += [f"- {_md(r.regression_line())}" for r in comparison.regressions]
    lines += ["", "| " + " | ".join(head) + " |",
              "|" + "|".join("---:" if h in ("base", "new", "change", "confidence") else "---" for h in head) + "|"]
    for row in cells:
        row = [*row[:verdict], MARKS.get(row[verdict], row[verdict]), *row[verdict + 1:]]
        lines.append("| " + " | ".join(_md(c) for c in row) + " |")
    lines += ["", *(f"_{_md(line)}_  " for line in footer(comparison)),
              f"base: `{comparison.base['dir']}` ({comparison.base['kind']}), "
              f"new: `{comparison.new['dir']}` ({comparison.new['kind']})", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def write_files(comparison: Comparison, directory: Path, html: str) -> list[Path]:
    """``compare.json``, ``compare.md`` and ``compare.html`` in ``directory`` (atomically)."""
    directory.mkdir(parents=True, exist_ok=True)
    return [write_json_atomic(directory / "compare.json", comparison.as_dict()),
            write_text_atomic(directory / "compare.md", render_markdown(comparison)),
            write_text_atomic(directory / "compare.html", html)]
