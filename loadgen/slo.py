"""SLO gates: ``--slo '/search:p99<200ms'``, ``--slo 'failures<1%'``, evaluated on a summary.

Grammar (whitespace ignored)::

    slo      := [endpoint ":"] metric op number [unit]
    metric   := p50 | p90 | p95 | p99 | p999 | max | mean      (latency; unit ms, s or us; default ms)
              | rps | docs_per_s                               (per second; no unit)
              | failures                                       (unit %: share of requests; none: count)
    op       := "<" | "<=" | ">" | ">="

Without an endpoint the run's total is used. Each gate is checked once, at the end of the
run, on the merged fleet-wide figures; a violated gate makes the run exit with code 3.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Optional

from loadgen.errors import ConfigError

EXIT_CODE = 3
LATENCY_METRICS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
RATE_METRICS = ("rps", "docs_per_s")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_TO_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001, "": 1.0}
_PATTERN = re.compile(r"^(?:(?P<endpoint>[^:<>=]+):)?(?P<metric>[a-z0-9_]+)(?P<op><=|>=|<|>)"
                      r"(?P<value>[0-9]*\.?[0-9]+)(?P<unit>ms|s|us|µs|%)?$")
EXAMPLE = "e.g. --slo '/search:p99<200ms' or --slo 'failures<1%'"


@dataclass(frozen=True)
class Slo:
    """One gate: ``endpoint`` (None = total), ``metric``, ``op``, ``threshold`` in the
    metric's unit (ms for latency, per second for rates, % or a count for failures)."""

    text: str
    endpoint: Optional[str]
    metric: str
    op: str
    threshold: float
    percent: bool = False


def parse_slo(text: str) -> Slo:
    """Parse one ``--slo`` value. :raises ConfigError: naming the option and an example."""
    match = _PATTERN.match(re.sub(r"\s+", "", text))
    if not match:
        raise ConfigError(f"--slo: cannot read {text!r}; {EXAMPLE}")
    metric, unit = match["metric"], match["unit"] or ""
    value = float(match["value"])
    if metric in LATENCY_METRICS and unit in _TO_MS:
        value *= _TO_MS[unit]
    elif metric in RATE_METRICS and unit == "" or metric == "failures" and unit in ("", "%"):
        pass
    else:
        raise ConfigError(f"--slo: {text!r}: metric {metric!r} does not take unit {unit!r}; "
                          f"latency: {'|'.join(LATENCY_METRICS)} in ms/s/us, rates: {'|'.join(RATE_METRICS)}, "
                          f"failures in % or a count; {EXAMPLE}")
    endpoint = match["endpoint"]
    return Slo(text=text, endpoint=endpoint, metric=metric, op=match["op"], threshold=value, percent=unit == "%")


@dataclass(frozen=True)
class Verdict:
    slo: Slo
    passed: bool
    actual: Optional[float]
    line: str


def evaluate(slo: Slo, summary: dict[str, Any]) -> Verdict:
    """Check ``slo`` against a summary (see :mod:`loadgen.reports.summary`)."""
    figures = summary["total"] if slo.endpoint is None else summary["endpoints"].get(slo.endpoint)
    if figures is None:
        return Verdict(slo, False, None, f"FAIL  {slo.text}: no requests to {slo.endpoint} were made")
    actual, unit = _actual(slo, figures)
    passed = _OPS[slo.op](actual, slo.threshold)
    return Verdict(slo, passed, actual, f"{'PASS' if passed else 'FAIL'}  {slo.text}: {slo.metric} = {actual:g}{unit}")


def _actual(slo: Slo, figures: dict[str, Any]) -> tuple[float, str]:
    if slo.metric in LATENCY_METRICS:
        return figures["latency_ms"][slo.metric], " ms"
    if slo.metric == "failures":
        if slo.percent:
            return 100.0 * figures["failures"] / max(1, figures["requests"]), "%"
        return float(figures["failures"]), ""
    return float(figures[slo.metric]), "/s"
