"""Sampling error: how well a window's count and its percentiles are known (pure statistics).

A window is a sample. Its request count is known to ``± Z·√n`` (Poisson arrivals); its p-th
percentile lies, with the same confidence, between two of its order statistics:
the true p-quantile ``q`` has ``X ~ Binomial(n, p)`` of the n values below it, so the k-th
smallest value is above ``q`` with probability ``P(X <= k-1)``. :func:`percentile_ranks`
finds the ranks whose one-sided error is at most ``α = Φ(-Z)`` (0.135 % for Z = 3) --
exactly from the binomial when ``n·min(p, 1-p)`` is small (a p99 of 300 values: the true
p99 may lie above all of them, and then no upper bound exists), else from its normal
approximation.

Both the stability of a run's last windows (:mod:`loadgen.reports.stability`) and of a
capacity trial's (:mod:`loadgen.capacity.windows`) are judged with these bounds
(:func:`agree`).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

Z = 3.0  # standard errors (one-sided confidence Φ(Z) = 99.865 %)
EXACT_BELOW = 50.0  # n·min(p, 1-p) under which the binomial is summed exactly


def count_bounds(count: int, *, z: float = Z) -> tuple[float, float]:
    """(low, high) of the mean of a Poisson count observed as ``count``."""
    error = z * math.sqrt(count)
    return max(0.0, count - error), count + error


def percentile_ranks(n: int, p: float, *, z: float = Z) -> tuple[Optional[int], Optional[int]]:
    """Ranks (1 = smallest of ``n`` values) of the order statistics bounding the ``p``-quantile
    (0 < p < 1) from below and above; None: no value bounds it on that side (below: it may be
    under the smallest value; above: over the largest)."""
    if n <= 0:
        return None, None
    if n * min(p, 1 - p) >= EXACT_BELOW:
        spread = z * math.sqrt(n * p * (1 - p))
        low, high = math.floor(n * p - spread), math.ceil(n * p + spread) + 1
        return (low if low >= 1 else None), (high if high <= n else None)
    alpha = 0.5 * math.erfc(z / math.sqrt(2))
    high: Optional[int] = None
    tail = 0.0  # P(X >= j), X ~ Binomial(n, p), summed from j = n down
    for j in range(n, 0, -1):
        tail += _pmf(n, j, p)
        if tail <= alpha:
            high = j  # P(X <= j-1) >= 1 - alpha: the j-th value is above the quantile
        if tail >= 1 - alpha:
            return j, high  # P(X >= j) >= 1 - alpha: the j-th value is below it
    return None, high


def _pmf(n: int, k: int, p: float) -> float:
    log = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    return math.exp(log)


def agree(bounds: Sequence[tuple[float, ...]], tolerance: float) -> bool:
    """True when one value is within ``± tolerance`` (a share) of some point of every
    ``(low, high, …)``: the windows agree, allowing each its sampling error."""
    return max(b[0] for b in bounds) * (1 - tolerance) <= min(b[1] for b in bounds) * (1 + tolerance)


def percentile_bounds(hist: Any, p: float) -> tuple[float, float, float]:
    """(low, high, value) in ms of the ``p``-th percentile (0-100) of a non-empty
    :class:`~loadgen.histogram.LatencyHistogram`: the order statistics that bound it
    (0 / infinity where none does), and the percentile itself."""
    n, max_ms = hist.count, hist.max_s * 1000.0
    low_rank, high_rank = percentile_ranks(n, p / 100.0)
    ranks = [p] + [100.0 * k / n for k in (low_rank, high_rank) if k is not None]
    # HDR reports a bucket's highest equivalent value; never above the recorded maximum.
    values = {r: min(v, max_ms) for r, v in hist.percentiles_ms(ranks).items()}
    low = values[100.0 * low_rank / n] if low_rank is not None else 0.0
    high = values[100.0 * high_rank / n] if high_rank is not None else math.inf
    return low, high, values[p]
