"""HDR histograms as Prometheus buckets: counts, sums, and the documented quantile bound."""
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.metrics import EndpointStats, LatencyHistogram
from loadgen.observe.hdr_buckets import (LATENCY_BOUNDS_S, QUANTILE_ERROR, RATIO, BucketCounter, log_bounds)
from loadgen.observe.rates import histogram_quantile
from loadgen.reports.summary import latency_figures


def histogram(values):
    hist = LatencyHistogram()
    for value in values:
        hist.record(value)
    return hist


def test_the_bounds_and_the_stated_error():
    ratios = [b / a for a, b in zip(LATENCY_BOUNDS_S, LATENCY_BOUNDS_S[1:])]
    assert max(ratios) <= RATIO * 1.00001 and min(ratios) >= RATIO / 1.00001
    assert LATENCY_BOUNDS_S[0] == 250e-6 and LATENCY_BOUNDS_S[-1] >= 120.0
    assert QUANTILE_ERROR == pytest.approx(2 ** (1 / 16) * (1 + 2 ** -10) ** 2 - 1) and QUANTILE_ERROR < 0.05
    assert log_bounds(1.0, 8.0, 1) == (1.0, 2.0, 4.0, 8.0)


def test_cumulative_counts_match_the_recorded_values():
    rng = random.Random(7)
    values = [rng.lognormvariate(-4.5, 1.0) for _ in range(5000)]
    hist = histogram(values)
    counter = BucketCounter()
    cumulative, total, sum_s = counter.counts(hist)
    assert total == 5000 == hist.count
    micros = sorted(max(1, round(v * 1e6)) for v in values)
    for bound, count in zip(LATENCY_BOUNDS_S, cumulative):
        below = sum(1 for v in micros if v <= bound * 1e6)
        # HDR buckets straddling a bound are counted below it: values up to 2^-10 above it
        near = sum(1 for v in micros if bound * 1e6 < v <= bound * 1e6 * (1 + 2 ** -10) + 1)
        assert below <= count <= below + near
    assert sum_s == pytest.approx(sum(values), rel=1e-3)
    assert sum_s == pytest.approx(hist.mean_ms() / 1000 * total, rel=1e-3)


def test_an_empty_and_a_merged_histogram():
    counter = BucketCounter()
    first, second = histogram([0.01, 0.02]), histogram([0.03])
    first.merge(second)
    cumulative, total, _ = counter.counts(first)
    assert total == 3 and cumulative[-1] == 3
    cumulative, total, sum_s = counter.counts(LatencyHistogram())
    assert total == 0 and max(cumulative) == 0 and sum_s == 0.0


@settings(max_examples=30, deadline=None)
@given(mu=st.floats(-7.5, -1.0), sigma=st.floats(0.05, 1.5), n=st.integers(50, 3000), seed=st.integers(0, 10**6))
def test_histogram_quantile_is_within_the_stated_error_of_hdr(mu, sigma, n, seed):
    """Prometheus' rank q*N falls on the ceil(q*N)-th smallest value, HDR's percentile is the
    round(q*N)-th: the stated bound holds between the two, plus the gap between those two
    values (none when they are the same request; tiny with many requests)."""
    rng = random.Random(seed)
    values = [min(100.0, max(300e-6, rng.lognormvariate(mu, sigma))) for _ in range(n)]
    stats = EndpointStats()
    for value in values:
        stats.latency.record(value)
    cumulative, total, _ = COUNTER.counts(stats.latency)
    buckets = dict(zip(LATENCY_BOUNDS_S, map(float, cumulative)))
    buckets[math.inf] = float(total)
    ordered = sorted(max(1, round(v * 1e6)) / 1e6 for v in values)
    figures = latency_figures(stats)
    for q, key in ((0.99, "p99"), (0.5, "p50"), (0.95, "p95")):
        estimate = histogram_quantile(q, buckets)
        at_rank = ordered[math.ceil(q * n) - 1]
        assert abs(estimate / at_rank - 1) <= RATIO * (1 + 2 ** -10) - 1 + 1e-9
        hdr = figures[key] / 1000.0  # what summary.json says, in seconds
        gap = ordered[max(1, int(q * n + 0.5)) - 1] / at_rank
        assert abs(estimate / hdr - 1) <= (1 + QUANTILE_ERROR) * max(gap, 1 / gap) - 1 + 1e-9, (q, estimate, hdr, gap)


def test_with_many_requests_the_p99_is_within_the_stated_error():
    rng = random.Random(11)
    stats = EndpointStats()
    for _ in range(50_000):
        stats.latency.record(rng.lognormvariate(-4.0, 0.7))
    cumulative, total, _ = COUNTER.counts(stats.latency)
    buckets = {**dict(zip(LATENCY_BOUNDS_S, map(float, cumulative))), math.inf: float(total)}
    for q, key in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99"), (0.999, "p999")):
        hdr = latency_figures(stats)[key] / 1000.0
        assert abs(histogram_quantile(q, buckets) / hdr - 1) <= QUANTILE_ERROR


COUNTER = BucketCounter()
