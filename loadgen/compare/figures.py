"""The figures of one endpoint or Executor in two results, each with its noise and verdict.

Each side's figure is an :class:`~loadgen.compare.stats.Estimate`: from two or more
repetitions (their spread), or from one run (a bootstrap over its report intervals: latency
percentiles from the merged HdrHistogram counts of the drawn intervals, req/s and failures %
from their request and failure counts). The point figures are the runs' ``summary.json``
values (repetitions: their geometric mean; failures: the mean). Endpoints get req/s,
failures %, p50, p95, p99 and p99.9; Executors their latencies (ms).
"""
from __future__ import annotations

import math
import zlib
from typing import Optional

import numpy as np

from loadgen.compare import stats
from loadgen.compare.records import Row, Settings
from loadgen.compare.runs import SingleRun, Subject
from loadgen.compare.thresholds import LATENCY_METRICS, METRICS

PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
MAX_COLUMNS = 2048  # bucket columns a bootstrap merges (more are binned: stats.coarsen)
# A percentile with fewer requests beyond it than this in a run is that run's few largest
# values: neither a bootstrap nor repetitions say anything reliable about it.
MIN_TAIL = 10


def subject_rows(set_name: str, subject: Subject, base: list[SingleRun], new: list[SingleRun],
                 settings: Settings) -> list[Row]:
    """The rows of one endpoint/Executor: each figure estimated on both sides and judged."""
    metrics = (["rps", "failures"] if subject[0] == "endpoint" else []) + list(LATENCY_METRICS)
    left = side_estimates(base, subject, metrics, settings, salt=f"base|{set_name}")
    right = side_estimates(new, subject, metrics, settings, salt=f"new|{set_name}")
    rows = []
    for metric in metrics:
        if left.get(metric) is None or right.get(metric) is None:
            continue
        b, n = _share_spread(left[metric], right[metric])
        threshold = settings.thresholds.for_(subject[1], metric)
        verdict = stats.judge(b, n, higher_is_worse=METRICS[metric].higher_is_worse, points=METRICS[metric].points,
                              limit=threshold.limit, level=settings.level)
        tail, note = _tail(metric, subject, [*base, *new]), ""
        if tail is not None and tail < MIN_TAIL:
            verdict = stats.Judgement(change=verdict.change, confidence=verdict.confidence, verdict="same")
            note = f"no verdict: {tail:.1f} requests beyond {metric} in a run, a verdict needs {MIN_TAIL}"
        rows.append(Row(set=set_name, kind=subject[0], name=subject[1], metric=metric, base=b.value, new=n.value,
                        change=verdict.change, limit=threshold.describe(), verdict=verdict.verdict,
                        confidence=round(verdict.confidence, 4), method=f"{b.method} / {n.method}", note=note))
    return rows


def _tail(metric: str, subject: Subject, runs: list[SingleRun]) -> Optional[float]:
    """The fewest timed requests beyond percentile ``metric`` in any of ``runs``."""
    if metric not in PERCENTILES:
        return None
    counts = [run.latency[subject].counts.sum() for run in runs if subject in run.latency]
    return min(counts, default=0.0) * (1.0 - PERCENTILES[metric] / 100.0)


def _share_spread(base: stats.Estimate, new: stats.Estimate) -> tuple[stats.Estimate, stats.Estimate]:
    """With repetitions on one side only, the single run varies at least as much as one of
    those repetitions: its error is raised to their spread (the sd of one run)."""
    if base.repetitions > 1 and new.repetitions == 1:
        return base, _lifted(new, base)
    if new.repetitions > 1 and base.repetitions == 1:
        return _lifted(base, new), new
    return base, new


def _lifted(single: stats.Estimate, reps: stats.Estimate) -> stats.Estimate:
    spread = reps.se * math.sqrt(reps.repetitions)
    if spread <= single.se:
        return single
    return stats.Estimate(value=single.value, se=spread, df=reps.df, method=f"{single.method}, spread of {reps.method}")


def side_estimates(runs: list[SingleRun], subject: Subject, metrics: list[str], settings: Settings, *,
                   salt: str) -> dict[str, Optional[stats.Estimate]]:
    """Each metric of ``subject`` on one side: from repetitions (two or more runs holding
    it) or from one run's intervals."""
    holding = [run for run in runs if subject in run.subjects()]
    if len(holding) >= 2:
        figures = [figures_of(run, subject) for run in holding]
        return {m: _from_reps([f[m] for f in figures], METRICS[m].points) for m in metrics}
    rng = np.random.default_rng([settings.seed, zlib.crc32(f"{salt}|{subject[0]}:{subject[1]}".encode())])
    return bootstrap_side(holding[0], subject, metrics, settings.resamples, rng)


def _from_reps(values: list[Optional[float]], points: bool) -> Optional[stats.Estimate]:
    present = [v for v in values if v is not None and (points or v > 0)]
    return stats.from_repetitions(present, log=not points) if len(present) >= 2 else None


def figures_of(run: SingleRun, subject: Subject) -> dict[str, Optional[float]]:
    """A run's summary figures of ``subject``: req/s, failures % and latencies (ms; None
    without a successful request)."""
    kind, name = subject
    entry = (run.summary["endpoints"] if kind == "endpoint" else run.summary.get("executors") or {}).get(name, {})
    latency = entry.get("latency_ms") or {}
    timed = entry.get("timed_requests", entry.get("count", 0))
    out: dict[str, Optional[float]] = {m: (float(latency[m]) if timed and latency.get(m) else None)
                                       for m in LATENCY_METRICS}
    if kind == "endpoint":
        requests = entry.get("requests", 0)
        out["rps"] = float(entry.get("rps", 0.0))
        out["failures"] = 100.0 * entry.get("failures", 0) / requests if requests else None
    return out


def bootstrap_side(run: SingleRun, subject: Subject, metrics: list[str], resamples: int,
                   rng: np.random.Generator) -> dict[str, Optional[stats.Estimate]]:
    """One run's figures with errors from a bootstrap over its report intervals."""
    figures = figures_of(run, subject)
    out: dict[str, Optional[stats.Estimate]] = {}
    latency = run.latency.get(subject)
    wanted = [m for m in metrics if m in PERCENTILES and figures.get(m)]
    if latency is not None and wanted:
        counts, values = stats.coarsen(latency.counts, latency.values_us, MAX_COLUMNS)
        replicates = stats.bootstrap_percentiles(counts, values, [PERCENTILES[m] for m in wanted],
                                                 resamples=resamples, rng=rng)
        for j, metric in enumerate(wanted):
            out[metric] = stats.from_replicates(figures[metric], replicates[:, j], n=len(counts), log=True)
    rates = run.rates.get(subject)
    if rates is not None and "rps" in metrics and figures.get("rps"):
        replicates = stats.bootstrap_ratio(rates.requests, rates.length_s, resamples=resamples, rng=rng)
        out["rps"] = stats.from_replicates(figures["rps"], replicates, n=len(rates.requests), log=True)
    if rates is not None and "failures" in metrics and figures.get("failures") is not None:
        replicates = 100.0 * stats.bootstrap_ratio(rates.failures, rates.requests, resamples=resamples, rng=rng)
        out["failures"] = stats.from_replicates(figures["failures"], replicates, n=len(rates.requests), log=False)
    return out


