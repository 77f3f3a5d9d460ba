"""Two scrapes of a series → what happened between them: increases, rates, mean, quantiles.

Counters restart from zero when a server restarts; as in Prometheus' ``increase()``, a
value lower than the previous one is a reset and the increase is the new value. Quantiles
of a histogram come from the increase of its cumulative buckets over the interval,
interpolated linearly inside the bucket that holds the rank, exactly as Prometheus'
``histogram_quantile`` does (so a figure here and a PromQL query agree). Times and sizes
stay in the metric's own unit (seconds for ``*_seconds``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from loadgen.observe.series import Series


def increase(previous: float, current: float) -> float:
    """A counter's increase; a drop is a reset (the server restarted): the new value."""
    if math.isnan(previous):
        return 0.0
    return current - previous if current >= previous else current


def bucket_increase(previous: dict[float, float], current: dict[float, float]) -> dict[float, float]:
    """Per-bucket increase of a cumulative histogram; any bucket going down means the whole
    histogram was reset, so the current buckets are the increase."""
    if any(current.get(le, 0.0) < count for le, count in previous.items()):
        return dict(current)
    return {le: count - previous.get(le, 0.0) for le, count in current.items()}


def histogram_quantile(q: float, buckets: dict[float, float]) -> Optional[float]:
    """Prometheus' ``histogram_quantile(q, ...)`` over cumulative ``{upper bound: count}``
    buckets (``+Inf`` included); None when there are no observations.

    The rank ``q * count`` falls in the first bucket whose cumulative count reaches it; the
    result is interpolated linearly between that bucket's lower and upper bound (the lower
    bound of the first bucket is 0 when its upper bound is positive). A rank in the ``+Inf``
    bucket gives the highest finite bound.
    """
    if not buckets or not 0 <= q <= 1:
        return None
    bounds = sorted(buckets)
    counts = _monotonic([buckets[b] for b in bounds])
    total = counts[-1]
    if bounds[-1] != math.inf or total <= 0:
        return None
    rank = q * total
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(bounds) - 1:
        return bounds[-2] if len(bounds) > 1 else None
    upper = bounds[index]
    if index == 0:
        if upper <= 0:
            return upper
        lower, below = 0.0, 0.0
    else:
        lower, below = bounds[index - 1], counts[index - 1]
    in_bucket = counts[index] - below
    return upper if in_bucket <= 0 else lower + (upper - lower) * (rank - below) / in_bucket


def _monotonic(counts: list[float]) -> list[float]:
    """Prometheus ensures cumulative counts never decrease (scrapes are not atomic)."""
    out, top = [], 0.0
    for count in counts:
        top = max(top, count)
        out.append(top)
    return out


@dataclass(frozen=True)
class Figures:
    """One series over one interval.

    :param value: the value at the end (a counter's total, a gauge, a summary's or
        histogram's count).
    :param increase: counted in the interval (counters, summaries, histograms; None for gauges).
    :param rate: ``increase`` per second.
    :param mean: sum increase / count increase (summaries, histograms; in the metric's unit).
    :param p50, p99: histogram quantiles over the interval, or a summary's own quantiles.
    """

    kind: str
    value: float
    increase: Optional[float] = None
    rate: Optional[float] = None
    mean: Optional[float] = None
    p50: Optional[float] = None
    p99: Optional[float] = None
    sum_increase: Optional[float] = None
    buckets: Optional[dict[float, float]] = None  # histogram bucket increases (for merging)


def zero(like: Series) -> Series:
    """A series of ``like``'s kind before anything was counted: the previous state of a
    series that appeared between two scrapes of its source (it started at zero)."""
    return Series(kind=like.kind, value=0.0, count=0.0, sum=0.0)


def figures(previous: Optional[Series], current: Series, seconds: float) -> Figures:
    """What ``current`` says about the ``seconds`` since ``previous`` (None: the source's
    first scrape, nothing counted yet; a series new since the previous scrape: :func:`zero`)."""
    per_s = 1.0 / seconds if seconds > 0 else 0.0
    if current.kind == "counter":
        grown = increase(previous.value if previous else math.nan, current.value)
        return Figures(kind="counter", value=current.value, increase=grown, rate=grown * per_s)
    if current.kind in ("summary", "histogram"):
        return _distribution(previous, current, per_s)
    return Figures(kind=current.kind, value=current.value)  # a gauge (or untyped): its value now


def _distribution(previous: Optional[Series], current: Series, per_s: float) -> Figures:
    count = increase(previous.count if previous else math.nan, current.count)
    if previous is not None and current.count < previous.count:
        total = current.sum  # reset: everything counted since the restart
    else:
        total = current.sum - previous.sum if previous is not None else 0.0
    mean = total / count if count > 0 and not math.isnan(total) else None
    buckets = None
    p50 = current.quantiles.get(0.5)
    p99 = current.quantiles.get(0.99)
    if current.buckets:
        buckets = bucket_increase(previous.buckets if previous else current.buckets, current.buckets)
        p50, p99 = histogram_quantile(0.5, buckets), histogram_quantile(0.99, buckets)
    return Figures(kind=current.kind, value=current.count, increase=count, rate=count * per_s, mean=mean,
                   p50=p50, p99=p99, sum_increase=total if count > 0 else 0.0, buckets=buckets)
