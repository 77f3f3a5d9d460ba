"""report.html's "Load generator" section: the self-check's verdict and the event-loop lag
over time (from ``timeseries.csv``'s ``generator,loop_lag`` rows; see :mod:`loadgen.selfcheck`)."""
from __future__ import annotations

from html import escape
from typing import Any, Optional

from loadgen.reports.svg import line_chart
from loadgen.selfcheck import GENERATOR_TYPE, LIMITS, LOOP_LAG


def loop_lag_section(summary: dict[str, Any], rows: list[dict[str, str]],
                     x_range: Optional[tuple[float, float]] = None) -> str:
    """A heading, one line saying whether the generator was saturated, and a chart of the
    loop lag's p50/p99/max per interval in ms (with the saturation limit once p99 nears it) on
    the report's time axis ``x_range``; nothing for a run without the self-check's figures."""
    lag = [r for r in rows if r["request_type"] == GENERATOR_TYPE and r["name"] == LOOP_LAG]
    if not lag and "generator" not in summary:
        return ""  # a run made before the self-check
    series = {f"{key} lag": [(float(r["elapsed_s"]), float(r[f"{key}_ms"])) for r in lag] for key in ("p50", "p99", "max")}
    p99 = [y for _, y in series["p99 lag"]]
    if p99 and max(p99) >= LIMITS.lag_p99_ms / 2:
        ends = (float(lag[0]["elapsed_s"]), float(lag[-1]["elapsed_s"]))
        series[f"limit {LIMITS.lag_p99_ms:g} ms"] = [(x, LIMITS.lag_p99_ms) for x in ends]
    warmup = f" (the first {summary['warmup_s']:g} s are warm-up)" if summary.get("warmup_s") else ""
    chart = line_chart(series if lag else {}, title=f"event-loop lag of the load generator per interval{warmup}",
                       x_label="seconds since the start", y_label="ms", x_range=x_range)
    return f"<h2>Load generator</h2><p id='generator'>{escape(_verdict(summary.get('generator')))}</p>{chart}"


def _verdict(generator: Any) -> str:
    if not generator:
        return "no self-check figures in this summary"
    lag = generator["loop_lag_ms"]
    figures = (f"{generator['processes']} load-generating process(es); CPU up to {generator['cpu_pct_max']:g}% of a "
               f"core; event-loop lag p50 {lag['p50']:g} ms, p99 {lag['p99']:g} ms, max {lag['max']:g} ms")
    if generator["saturated"]:
        return (f"SATURATED ({generator['reason']}): {figures}. Its own delay is in these latencies: give it more "
                f"cores (--processes N or more workers, on cores nothing else uses).")
    return f"not saturated: {figures}."
