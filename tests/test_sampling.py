"""Sampling error of a window's count and percentiles, checked by simulation: the bounds
must contain the truth about as often as their confidence says."""
import numpy
import pytest

from loadgen import sampling
from loadgen.sampling import count_bounds, percentile_ranks


@pytest.mark.parametrize("n, p", [(3, 0.99), (10, 0.99), (300, 0.99), (900, 0.99), (5000, 0.99), (40, 0.5),
                                  (1000, 0.5), (2000, 0.999), (200, 0.95)])
def test_percentile_bounds_cover_the_true_quantile(n, p):
    """Uniform values: the true p-quantile is p. Each side may miss it in at most 0.135 %
    of samples (plus Monte Carlo noise)."""
    low, high = percentile_ranks(n, p)
    trials = 2000
    values = numpy.sort(numpy.random.default_rng(n).random((trials, n)), axis=1)  # seeded: the same every run
    misses = [int((values[:, low - 1] > p).sum()) if low is not None else 0,
              int((values[:, high - 1] < p).sum()) if high is not None else 0]
    assert misses[0] <= 0.006 * trials and misses[1] <= 0.006 * trials, (low, high, misses)


def test_a_small_sample_has_no_upper_bound_for_a_high_percentile():
    assert percentile_ranks(300, 0.99)[1] is None  # the true p99 may be above all 300 values
    assert percentile_ranks(900, 0.99) == (881, 899)
    assert percentile_ranks(0, 0.99) == (None, None)


def test_exact_and_normal_agree_where_they_meet():
    n = int(sampling.EXACT_BELOW / 0.01)  # n·(1-p) = 50 for p99: the normal approximation from here
    exact = percentile_ranks(n - 1, 0.99)
    normal = percentile_ranks(n, 0.99)
    assert abs(exact[0] - normal[0]) <= 3 and abs(exact[1] - normal[1]) <= 3  # the normal: a little wider


def test_count_bounds():
    assert count_bounds(100) == (70.0, 130.0)
    assert count_bounds(4) == (0.0, 10.0)
