"""The records of a comparison: :class:`Settings` (how to judge), :class:`Row` (one figure
of one endpoint/Executor in both results, with its verdict) and :class:`Comparison` (all
rows, what was on one side only, and the limits in force). ``compare.json`` is
:meth:`Comparison.as_dict`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from loadgen.compare import stats
from loadgen.compare.thresholds import METRICS, Thresholds


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How to judge: the limits, the confidence a verdict needs, the bootstrap's size and seed."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    level: float = stats.DEFAULT_LEVEL
    resamples: int = stats.DEFAULT_RESAMPLES
    seed: int = 0


@dataclass(frozen=True, kw_only=True)
class Row:
    """One figure of one endpoint/Executor in both runs, and its verdict. ``change`` is
    relative (0.1 = +10 %) or in percentage points (failures); ``confidence`` that its
    direction is real (None for capacity, judged by the searches' brackets)."""

    set: str  # "" for single runs, "job · k=v · NN-step" in scenarios
    kind: str  # endpoint, executor or capacity
    name: str
    metric: str
    base: Optional[float]
    new: Optional[float]
    change: Optional[float]
    limit: str
    verdict: str
    confidence: Optional[float]
    method: str  # what the noise estimate rests on, e.g. "12 intervals / 11 intervals"
    note: str = ""  # why a figure beyond its limit got no verdict

    def title(self) -> str:
        """``/search p99`` (with its scenario step when there is one)."""
        where = f"{self.set} · {self.name}" if self.set else self.name
        return f"{where} {self.metric.replace('p999', 'p99.9')}"

    def change_text(self) -> str:
        return change_text(self.metric, self.change)

    def regression_line(self) -> str:
        """The one line naming a regression."""
        unit = METRICS[self.metric].label.split(" ")[-1]
        sure = f", {self.confidence * 100:.1f}% confident" if self.confidence is not None else ""
        return (f"regression: {self.title()} {_num(self.base)} -> {_num(self.new)} {unit} ({self.change_text()}, "
                f"limit {self.limit}{sure}; {self.method})")


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """``base``/``new``: ``{dir, label, kind}`` (kind: run, scenario or capacity)."""

    base: dict[str, str]  # dir, label, kind
    new: dict[str, str]
    rows: list[Row]
    only_in_base: list[str]
    only_in_new: list[str]
    level: float
    thresholds: list[str]

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict == "worse"]

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "new": self.new, "confidence_level": self.level, "max_regression": self.thresholds,
                "regressions": [r.regression_line() for r in self.regressions],
                "only_in_base": self.only_in_base, "only_in_new": self.only_in_new,
                "rows": [asdict(r) for r in self.rows]}


def change_text(metric: str, change: Optional[float]) -> str:
    """``+12.3%``, or ``+0.40pp`` for failures; empty when there is no change to show."""
    if change is None:
        return ""
    return f"{change:+.2f}pp" if METRICS[metric].points else f"{change * 100:+.1f}%"


def _num(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"
