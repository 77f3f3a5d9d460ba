"""How much worse is a regression: ``--max-regression`` items and the default set.

An item is ``[NAME:]METRIC:LIMIT``:

- ``METRIC``: ``p50``, ``p95``, ``p99``, ``p999`` (or ``p99.9``), ``rps``, ``failures`` or
  ``max_rate`` (a capacity search's highest held rate);
- ``LIMIT``: how far the figure may move in its bad direction before it counts: ``+10%``
  (latency up by 10 %), ``-5%`` (a rate down by 5 %), ``+0.5pp`` (failures up by 0.5
  percentage points of all requests), or ``off`` (no verdict on this metric). The sign may be
  left out; a sign pointing the good way is an error;
- ``NAME``: an endpoint or Executor (``/search:p99:+10%``, ``encoder:p99:+20%``); without it
  the item applies to every one. A named item wins over an unnamed one, a given one over a
  default.

The limit is half of a verdict: :mod:`loadgen.compare.stats` decides whether a change beyond
it is more than the runs' own noise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from loadgen.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A compared figure: its label in tables, its unit, and which way is worse."""

    key: str
    label: str
    higher_is_worse: bool
    points: bool = False  # compared in percentage points (a difference), not as a ratio


METRICS = {m.key: m for m in (
    Metric(key="rps", label="req/s", higher_is_worse=False),
    Metric(key="failures", label="failures %", higher_is_worse=True, points=True),
    Metric(key="p50", label="p50 ms", higher_is_worse=True),
    Metric(key="p95", label="p95 ms", higher_is_worse=True),
    Metric(key="p99", label="p99 ms", higher_is_worse=True),
    Metric(key="p999", label="p99.9 ms", higher_is_worse=True),
    Metric(key="max_rate", label="max req/s", higher_is_worse=False),
)}
LATENCY_METRICS = ("p50", "p95", "p99", "p999")
ALIASES = {"p99.9": "p999", "req/s": "rps", "failures%": "failures"}
# p99.9 rests on a tenth of the requests p99 does: a wider limit keeps it from ruling alone.
DEFAULTS = ("rps:-5%", "failures:+0.5pp", "p50:+10%", "p95:+10%", "p99:+10%", "p999:+25%", "max_rate:-5%")
_LIMIT = re.compile(r"\s*([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)\s*(%|pp)\s*\Z")


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """One limit: ``limit`` is a fraction (0.1 for 10 %) or percentage points; None is off."""

    metric: str
    limit: Optional[float]
    name: Optional[str] = None
    text: str = ""

    def describe(self) -> str:
        """The limit as written in tables: ``+10%``, ``-5%``, ``+0.5pp`` or ``off``."""
        if self.limit is None:
            return "off"
        metric = METRICS[self.metric]
        sign = "+" if metric.higher_is_worse else "-"
        return f"{sign}{self.limit:g}pp" if metric.points else f"{sign}{self.limit * 100:g}%"


def parse_threshold(text: str, *, option: str = "--max-regression") -> Threshold:
    """``[NAME:]METRIC:LIMIT`` → a :class:`Threshold`. :raises ConfigError: naming the fix."""
    parts = str(text).rsplit(":", 2)
    if len(parts) < 2 or not all(p.strip() for p in parts[-2:]):
        raise ConfigError(f"{option} {text!r}: expected [NAME:]METRIC:LIMIT, e.g. 'p99:+10%', 'rps:-5%', "
                          f"'failures:+0.5pp' or '/search:p99:+10%'")
    name = parts[0].strip() if len(parts) == 3 else None
    key = ALIASES.get(parts[-2].strip().lower(), parts[-2].strip().lower())
    if key not in METRICS:
        raise ConfigError(f"{option} {text!r}: unknown metric {parts[-2].strip()!r}; use one of "
                          f"{', '.join(METRICS)}")
    if parts[-1].strip().lower() == "off":
        return Threshold(metric=key, limit=None, name=name or None, text=text)
    return Threshold(metric=key, limit=_limit(parts[-1], METRICS[key], text, option), name=name or None, text=text)


def _limit(given: str, metric: Metric, text: str, option: str) -> float:
    match = _LIMIT.match(given)
    unit = "pp" if metric.points else "%"
    bad = "+" if metric.higher_is_worse else "-"
    if match is None or match.group(3) != unit:
        raise ConfigError(f"{option} {text!r}: {metric.key}'s limit is {bad}N{unit} "
                          f"(e.g. {metric.key}:{bad}{'0.5' if metric.points else '10'}{unit}) or off")
    if match.group(1) and match.group(1) != bad:
        worse = "higher" if metric.higher_is_worse else "lower"
        raise ConfigError(f"{option} {text!r}: a {worse} {metric.key} is worse; write {metric.key}:{bad}"
                          f"{match.group(2)}{unit}")
    value = float(match.group(2))
    return value if metric.points else value / 100.0


class Thresholds:
    """The limits in force: the defaults, overridden by the given items (a named item over
    an unnamed one)."""

    def __init__(self, items: Iterable[Threshold] = ()):
        self.items = [*(parse_threshold(t) for t in DEFAULTS), *items]

    @classmethod
    def parse(cls, texts: Iterable[str], *, option: str = "--max-regression") -> "Thresholds":
        return cls(parse_threshold(t, option=option) for t in texts)

    def given(self) -> list[str]:
        """Every item in force, as text (defaults first)."""
        return [t.text for t in self.items]

    def for_(self, name: str, metric: str) -> Threshold:
        """The limit of ``metric`` on endpoint/Executor ``name`` (the last matching item;
        named items outrank unnamed ones)."""
        named = [t for t in self.items if t.metric == metric and t.name == name]
        if named:
            return named[-1]
        return [t for t in self.items if t.metric == metric and t.name is None][-1]
