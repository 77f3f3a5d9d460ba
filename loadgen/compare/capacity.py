"""Comparing two capacity searches (``capacity.json``, docs/capacity.md) by ``max_rate``.

A search brackets a Flow's capacity between its highest held rate (``max_rate``) and the
lowest offered rate above it that failed (violated, unstable or generator-saturated). The
noise of a search is that bracket: ``max_rate`` is ``worse`` only when it dropped beyond the
limit **and** the new bracket lies wholly below the old one (``better`` the other way).
"""
from __future__ import annotations

import math
from typing import Any, Optional

from loadgen.compare.records import Row, Settings
from loadgen.compare.runs import CapacityRun

FAILED_TRIALS = ("violated", "unstable", "generator-saturated")  # trial verdicts that do not hold


def bracket(data: dict[str, Any]) -> tuple[Optional[float], float]:
    """Where a search puts the capacity: [highest held rate, lowest failed offered rate above
    it) in req/s (the upper end is infinite when no trial above it failed)."""
    held = data.get("max_rate")
    failed = [float(t["offered_rate"]) for t in data.get("trials") or []
              if t.get("verdict") in FAILED_TRIALS and t.get("offered_rate") is not None
              and (held is None or float(t["offered_rate"]) > float(held))]
    return (None if held is None else float(held)), min(failed, default=math.inf)


def capacity_rows(base: CapacityRun, new: CapacityRun, settings: Settings) -> list[Row]:
    """The one row of two searches: ``max_rate`` (req/s), judged by the brackets."""
    (b_low, b_high), (n_low, n_high) = bracket(base.data), bracket(new.data)
    threshold = settings.thresholds.for_("capacity", "max_rate")
    change = n_low / b_low - 1.0 if b_low and n_low else None
    verdict = "same"
    if b_low is not None and n_low is None:
        verdict = "worse"  # no tried rate holds any more
    elif b_low is None and n_low is not None:
        verdict = "better"
    elif change is not None and threshold.limit is not None and abs(change) > threshold.limit:
        if change < 0 and n_high <= b_low:
            verdict = "worse"
        elif change > 0 and b_high <= n_low:
            verdict = "better"
    method = f"search brackets [{_rate(b_low)}, {_rate(b_high)}) / [{_rate(n_low)}, {_rate(n_high)}) req/s"
    return [Row(set="", kind="capacity", name="capacity", metric="max_rate", base=b_low, new=n_low, change=change,
                limit=threshold.describe(), verdict=verdict, confidence=None, method=method)]


def _rate(value: Optional[float]) -> str:
    return "none" if value is None else "inf" if math.isinf(value) else f"{value:g}"
