"""Increases, resets and Prometheus' histogram_quantile, against distributions whose
quantiles the test knows."""
import math
import random

import pytest

from loadgen.observe.rates import bucket_increase, figures, histogram_quantile, increase, zero
from loadgen.observe.scrape import Series

INF = math.inf


def cumulative(values, bounds):
    """Cumulative bucket counts of ``values`` at ``bounds`` plus +Inf (the truth's buckets)."""
    out = {b: float(sum(1 for v in values if v <= b)) for b in bounds}
    out[INF] = float(len(values))
    return out


def test_uniform_values_are_interpolated_exactly():
    # 1000 values evenly spread over (0, 1]: the value at rank q*1000 is q; linear
    # interpolation inside 0.1-wide buckets is exact for evenly spread values.
    values = [(i + 1) / 1000 for i in range(1000)]
    buckets = cumulative(values, [round(0.1 * k, 1) for k in range(1, 11)])
    for q in (0.05, 0.25, 0.5, 0.9, 0.99):
        assert histogram_quantile(q, buckets) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exponential_values_stay_within_their_bucket(seed):
    rng = random.Random(seed)
    values = [rng.expovariate(50.0) for _ in range(20_000)]  # mean 20 ms
    bounds = [0.001 * 2 ** (k / 4) for k in range(60)]
    buckets = cumulative(values, bounds)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        truth = ordered[math.ceil(q * len(ordered)) - 1]
        width = 2 ** 0.25  # bucket ratio: the estimate is in the truth's bucket
        assert truth / width <= histogram_quantile(q, buckets) <= truth * width
        exact = -math.log(1 - q) / 50.0  # the distribution's own quantile
        assert histogram_quantile(q, buckets) == pytest.approx(exact, rel=0.25)


def test_prometheus_edge_rules():
    assert histogram_quantile(0.5, {}) is None
    assert histogram_quantile(0.5, {1.0: 0.0, INF: 0.0}) is None, "no observations"
    assert histogram_quantile(0.5, {1.0: 5.0}) is None, "no +Inf bucket"
    assert histogram_quantile(0.99, {1.0: 5.0, 2.0: 5.0, INF: 10.0}) == 2.0, "rank in +Inf: the highest bound"
    assert histogram_quantile(0.5, {1.0: 4.0, INF: 4.0}) == 0.5, "first bucket starts at 0"
    assert histogram_quantile(0.5, {-1.0: 4.0, INF: 4.0}) == -1.0, "a first bound <= 0 is returned as is"
    # Non-monotonic counts (a scrape is not atomic) are fixed up as Prometheus does.
    assert histogram_quantile(0.5, {1.0: 6.0, 2.0: 5.0, INF: 10.0}) == pytest.approx(5 / 6, rel=1e-9)
    assert histogram_quantile(1.5, {1.0: 1.0, INF: 1.0}) is None


def test_counter_increase_and_reset():
    assert increase(10.0, 25.0) == 15.0
    assert increase(25.0, 4.0) == 4.0, "a drop is a restart: everything since it counts"
    assert increase(math.nan, 7.0) == 0.0, "no previous reading: nothing counted yet"
    prev, cur = Series(kind="counter", value=40.0), Series(kind="counter", value=3.0)
    figs = figures(prev, cur, 2.0)
    assert figs.increase == 3.0 and figs.rate == 1.5


def test_bucket_increase_and_reset():
    assert bucket_increase({0.1: 2, INF: 5}, {0.1: 3, INF: 9}) == {0.1: 1, INF: 4}
    assert bucket_increase({0.1: 2, INF: 5}, {0.1: 1, INF: 1}) == {0.1: 1, INF: 1}, "reset"


def test_summary_mean_and_histogram_quantiles_over_an_interval():
    prev = Series(kind="summary", count=10.0, sum=1.0)
    cur = Series(kind="summary", count=30.0, sum=3.0)
    figs = figures(prev, cur, 4.0)
    assert (figs.increase, figs.rate, figs.mean, figs.p50, figs.p99) == (20.0, 5.0, pytest.approx(0.1), None, None)
    restarted = figures(Series(kind="summary", count=100.0, sum=9.0), Series(kind="summary", count=4.0, sum=0.2), 1.0)
    assert restarted.increase == 4.0 and restarted.mean == pytest.approx(0.05)
    # Histogram: only the interval's observations count (the earlier 100 all <= 0.1).
    before = Series(kind="histogram", count=100.0, sum=5.0, buckets={0.1: 100.0, 1.0: 100.0, INF: 100.0})
    after = Series(kind="histogram", count=200.0, sum=60.0, buckets={0.1: 100.0, 1.0: 200.0, INF: 200.0})
    figs = figures(before, after, 1.0)
    assert figs.increase == 100.0 and figs.mean == pytest.approx(0.55)
    assert figs.p50 == pytest.approx(0.55) and figs.p99 == pytest.approx(0.991)


def test_a_series_that_appears_between_scrapes_counts_from_zero():
    cur = Series(kind="summary", count=7.0, sum=0.7)
    figs = figures(zero(cur), cur, 1.0)
    assert figs.increase == 7.0 and figs.mean == pytest.approx(0.1)
    assert figures(None, cur, 1.0).increase == 0.0, "the source's first reading is a baseline"


def test_gauges_are_values():
    figs = figures(Series(kind="gauge", value=3.0), Series(kind="gauge", value=1.0), 1.0)
    assert figs.value == 1.0 and figs.increase is None and figs.rate is None
