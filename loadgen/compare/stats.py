"""Noise-aware verdicts: is a change bigger than what the runs' own variation explains?

Every compared figure becomes an :class:`Estimate` per side: the figure, the standard error
of its logarithm (ratio metrics: latencies, rates) or of itself (failures, in percentage
points), and the degrees of freedom that error rests on. Where the error comes from:

- **repetitions** (a scenario's ``repeat``, k >= 2 runs): the spread of the k runs' figures,
  ``sd / sqrt(k)`` with k - 1 degrees of freedom (:func:`from_repetitions`);
- **one run**: a bootstrap over its report intervals (:func:`bootstrap_percentiles`,
  :func:`bootstrap_ratio`): intervals are drawn with replacement, their HdrHistogram counts
  merged (one matrix product for all resamples) and the figure taken from the merge. Whole
  intervals travel together, so slow requests that cluster in time (a pause, a noisy
  neighbour) count as one piece of evidence, not as many. The bootstrap's error is scaled by
  ``sqrt(n / (n - 1))`` and carries n - 1 degrees of freedom (n intervals): with few
  intervals the plain bootstrap is too sure of itself (Hesterberg's expanded interval).

:func:`judge` compares two estimates: the change (new / base - 1, or new - base in
percentage points), and the **confidence** that its direction is real: a one-sided t test
of the difference, with both sides given the larger of the two errors and the smaller of
their degrees of freedom (:func:`welch_confidence` says why). A change is ``worse``
(``better``) only when it goes beyond the limit in the bad (good) direction **and** the
confidence reaches the level (default 0.99); otherwise ``same``. Resamples come from a
seeded generator: the same runs give the same verdicts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

DEFAULT_LEVEL = 0.99
DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One side's figure and its noise. ``se`` is the standard error of ``log(value)``
    (ratio metrics) or of ``value`` (percentage points); ``df`` its degrees of freedom."""

    value: float
    se: float
    df: float
    method: str  # e.g. "12 intervals", "3 repetitions"
    repetitions: int = 1  # runs the figure and its error come from


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """``change``: relative (0.12 is +12 %) or in percentage points; ``confidence``: how sure
    the change's direction is (0.5 … 1); ``verdict``: ``same``, ``better`` or ``worse``."""

    change: float
    confidence: float
    verdict: str


# -- one run: bootstrap over its report intervals -------------------------------------------
def resample_weights(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` × ``n`` multiplicities: how often each interval was drawn (each row sums to n)."""
    picks = rng.integers(0, n, size=(resamples, n)) + (np.arange(resamples) * n)[:, None]
    return np.bincount(picks.ravel(), minlength=resamples * n).reshape(resamples, n).astype(float)


def percentiles_of(counts: np.ndarray, values: np.ndarray, percentiles: Sequence[float]) -> np.ndarray:
    """Percentiles of each row of ``counts`` (rows × buckets; bucket values ``values``,
    ascending), by HdrHistogram's rule: the value of the first bucket whose cumulative count
    reaches ``max(1, int(p / 100 * total + 0.5))``. Returns rows × len(percentiles)."""
    cumulative = np.cumsum(counts, axis=1)
    rows, width = cumulative.shape
    total = cumulative[:, -1]
    # One sorted search over all rows: row r's cumulative counts shifted by r * (max total + 1)
    # stay increasing across rows, so each target finds its bucket inside its own row.
    shift = (np.arange(rows) * (total.max() + 1.0))[:, None]
    flat = (cumulative + shift).ravel()
    out = np.empty((rows, len(percentiles)))
    for j, p in enumerate(percentiles):
        target = np.maximum(1.0, np.floor(p / 100.0 * total + 0.5))
        index = np.searchsorted(flat, target + shift[:, 0] - 1e-6) - np.arange(rows) * width
        out[:, j] = values[np.clip(index, 0, width - 1)]
    return out


def bootstrap_percentiles(counts: np.ndarray, values: np.ndarray, percentiles: Sequence[float], *,
                          resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of ``percentiles`` of a run whose intervals are the rows of
    ``counts`` (intervals × buckets): resamples × len(percentiles), in ``values``' unit."""
    weights = resample_weights(counts.shape[0], resamples, rng)
    return percentiles_of(weights @ counts, values, percentiles)


def bootstrap_ratio(numerator: np.ndarray, denominator: np.ndarray, *, resamples: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of ``sum(numerator) / sum(denominator)`` over intervals (e.g.
    requests / seconds); a resample with a zero denominator gives NaN."""
    weights = resample_weights(len(numerator), resamples, rng)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ numerator) / (weights @ denominator)


def from_replicates(value: float, replicates: np.ndarray, *, n: int, log: bool) -> Estimate:
    """An estimate whose error is the spread of bootstrap ``replicates`` over ``n`` intervals
    (of their logarithm when ``log``), scaled by sqrt(n / (n - 1))."""
    finite = replicates[np.isfinite(replicates) & ((replicates > 0) if log else True)]
    if n < 2 or len(finite) < 2:
        return Estimate(value=value, se=math.inf, df=1.0, method=f"{n} interval{'s' * (n != 1)}")
    spread = float(np.std(np.log(finite) if log else finite, ddof=1)) * math.sqrt(n / (n - 1))
    return Estimate(value=value, se=spread, df=float(n - 1), method=f"{n} intervals")


# -- repetitions -----------------------------------------------------------------------------
def from_repetitions(values: Sequence[float], *, log: bool) -> Estimate:
    """The figure of k >= 2 repeated runs (geometric mean when ``log``, else the mean) with
    the standard error of that mean from their spread (k - 1 degrees of freedom)."""
    data = np.asarray(values, dtype=float)
    k = len(data)
    if log:
        data = np.log(np.maximum(data, 1e-12))
    centre = float(data.mean())
    se = float(data.std(ddof=1) / math.sqrt(k)) if k > 1 else math.inf
    return Estimate(value=math.exp(centre) if log else centre, se=se, df=float(max(k - 1, 1)),
                    method=f"{k} repetitions", repetitions=k)


# -- the verdict -------------------------------------------------------------------------------
def judge(base: Estimate, new: Estimate, *, higher_is_worse: bool, points: bool, limit: Optional[float],
          level: float = DEFAULT_LEVEL) -> Judgement:
    """Compare ``new`` with ``base``: the change, the confidence that its direction is real,
    and the verdict against ``limit`` (a fraction, or percentage points when ``points``;
    None: never ``worse``/``better``)."""
    if points:
        delta, change = new.value - base.value, new.value - base.value
    else:
        delta = math.log(new.value / base.value) if base.value > 0 and new.value > 0 else 0.0
        change = new.value / base.value - 1.0 if base.value > 0 else 0.0
    confidence = welch_confidence(delta, base, new)
    beyond = limit is not None and abs(change) > limit + 1e-12
    worse_way = (change > 0) == higher_is_worse
    verdict = "same"
    if beyond and confidence >= level:
        verdict = "worse" if worse_way else "better"
    return Judgement(change=change, confidence=confidence, verdict=verdict)


def welch_confidence(delta: float, base: Estimate, new: Estimate) -> float:
    """One-sided confidence that the true difference has the sign of ``delta``:
    1 - P(T > |delta| / se), t with the smaller side's degrees of freedom.

    Both sides get the larger of the two errors: under "nothing changed" both runs come from
    the same process, and a run that happened to see no rare event (a pause, a stall) has
    an error that knows nothing of such events; its twin that saw one does.
    """
    if delta == 0:
        return 0.5
    se = max(base.se, new.se)
    if se == 0:
        return 1.0
    if math.isinf(se):
        return 0.5
    return 1.0 - student_t_sf(abs(delta) / (se * math.sqrt(2.0)), min(base.df, new.df))


def student_t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` (real, > 0) degrees of freedom, t >= 0:
    ``0.5 * I_x(df/2, 1/2)`` with x = df / (df + t²)."""
    if t <= 0:
        return 0.5
    return 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularised incomplete beta function (continued fraction, Lentz's
    method, as in Numerical Recipes' ``betai``)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(x, a, b) / a
    return 1.0 - front * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return result


def coarsen(counts: np.ndarray, values: np.ndarray, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_columns`` bucket columns: when there are more, columns are summed into
    log-spaced bins over the values' range, each bin standing for its highest value (a bin
    is narrower than 1 % of its value for spreads up to four decades at 2048 columns; the
    error it adds to a resample's percentile is far below the spread being measured)."""
    if counts.shape[1] <= max_columns:
        return counts, values
    low, high = np.log(max(values[0], 1.0)), np.log(values[-1])
    bins = np.minimum(((np.log(np.maximum(values, 1.0)) - low) / (high - low) * max_columns).astype(int),
                      max_columns - 1)
    starts = np.flatnonzero(np.diff(bins, prepend=-1))
    ends = np.append(starts[1:], len(values)) - 1
    return np.add.reduceat(counts, starts, axis=1), values[ends]
