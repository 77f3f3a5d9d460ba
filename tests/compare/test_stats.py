"""The statistics of ``loadgen compare`` against truths computed here: Student's t from
tables, percentiles from hdrh itself, the bootstrap's false-alarm rate and power on
simulated runs whose distribution the test chooses."""
import math

import numpy as np
import pytest

from loadgen.compare import stats
from loadgen.metrics import LatencyHistogram, bucket_values_us

LEVEL = 0.99


@pytest.mark.parametrize("t, df, tail", [(12.7062, 1, 0.025), (2.7764, 4, 0.025), (3.7469, 4, 0.01),
                                         (2.0860, 20, 0.025), (1.9600, 1e9, 0.025), (2.3263, 1e9, 0.01),
                                         (0.0, 3, 0.5)])
def test_student_t_tail_matches_the_tables(t, df, tail):
    assert stats.student_t_sf(t, df) == pytest.approx(tail, rel=1e-3)


def test_percentiles_of_merged_counts_are_hdrhistograms_own():
    rng = np.random.default_rng(3)
    hist = LatencyHistogram()
    for value in rng.lognormal(-4, 1.2, size=5000):
        hist.record(float(value))
    indices, counts = hist.nonzero_buckets()
    assert counts.sum() == hist.count == 5000
    ours = stats.percentiles_of(counts[None, :].astype(float), bucket_values_us()[indices], [0.1, 50, 95, 99, 99.9, 100])
    theirs = hist.percentiles_ms([0.1, 50, 95, 99, 99.9, 100])
    assert list(ours[0] / 1000.0) == [theirs[p] for p in (0.1, 50, 95, 99, 99.9, 100)]


def test_a_resample_is_a_merge_of_drawn_intervals():
    rng = np.random.default_rng(0)
    weights = stats.resample_weights(7, 500, rng)
    assert weights.shape == (500, 7) and (weights.sum(axis=1) == 7).all()
    assert abs(weights.mean() - 1.0) < 0.05  # every interval is drawn once on average
    counts = np.diag([1.0, 1.0, 1.0])  # interval i holds one request of value i + 1
    replicates = stats.bootstrap_percentiles(counts, np.array([1.0, 2.0, 3.0]), [100], resamples=2000, rng=rng)
    # the maximum of 3 draws from {1, 2, 3}: P(max = 1) = 1/27
    assert np.mean(replicates[:, 0] == 1.0) == pytest.approx(1 / 27, abs=0.015)


def test_repetitions_give_the_geometric_mean_and_its_error():
    estimate = stats.from_repetitions([10.0, 20.0, 40.0], log=True)
    logs = np.log([10.0, 20.0, 40.0])
    assert estimate.value == pytest.approx(20.0)
    assert estimate.se == pytest.approx(logs.std(ddof=1) / math.sqrt(3))
    assert estimate.df == 2 and estimate.repetitions == 3


@pytest.mark.parametrize("new, se, limit, verdict", [
    (15.0, 0.01, 0.10, "worse"),    # +50 %, tight: worse
    (15.0, 0.40, 0.10, "same"),     # +50 %, but the runs vary that much: not proven
    (10.5, 0.001, 0.10, "same"),    # +5 %, certain, but within the limit
    (7.0, 0.01, 0.10, "better"),    # -30 %, tight: better
    (15.0, 0.01, None, "same"),     # the metric is off
])
def test_a_verdict_needs_the_limit_and_the_confidence(new, se, limit, verdict):
    base = stats.Estimate(value=10.0, se=se, df=20, method="21 intervals")
    judged = stats.judge(base, stats.Estimate(value=new, se=se, df=20, method="21 intervals"), higher_is_worse=True,
                         points=False, limit=limit, level=LEVEL)
    assert judged.verdict == verdict
    assert judged.change == pytest.approx(new / 10.0 - 1.0)


def test_percentage_points_compare_differences():
    base = stats.Estimate(value=0.0, se=0.0, df=9, method="10 intervals")
    worse = stats.judge(base, stats.Estimate(value=2.0, se=0.1, df=9, method="10 intervals"), higher_is_worse=True,
                        points=True, limit=0.5)
    assert worse.verdict == "worse" and worse.change == pytest.approx(2.0)
    nothing = stats.judge(base, base, higher_is_worse=True, points=True, limit=0.5)
    assert nothing.verdict == "same" and nothing.confidence == 0.5


def _run(rng, intervals, per, scale=1.0):
    """A run of a 10 ms service with lognormal jitter, a per-interval load factor and, in
    one interval of ten, a stall adding 5-40 ms to a few requests: its counts matrix."""
    values = bucket_values_us()
    indices = []
    for _ in range(intervals):
        x = 10_000 * scale * np.exp(rng.normal(0, 0.03)) * (1 + 0.05 * rng.lognormal(0, 1, size=per))
        if rng.random() < 0.1:
            hit = rng.integers(1, per // 20 + 2)
            x[:hit] += rng.uniform(5_000, 40_000, size=hit)
        indices.append(np.searchsorted(values, x))  # the bucket HdrHistogram records x in
    columns = np.unique(np.concatenate(indices))
    counts = np.array([np.bincount(np.searchsorted(columns, i), minlength=len(columns)) for i in indices], dtype=float)
    return stats.coarsen(counts, values[columns], 256)  # bins under 1 %: cheaper, same noise


def _estimates(rng, counts, values, percentiles):
    point = stats.percentiles_of(counts.sum(axis=0)[None, :], values, percentiles)[0]
    replicates = stats.bootstrap_percentiles(counts, values, percentiles, resamples=400, rng=rng)
    return [stats.from_replicates(point[j], replicates[:, j], n=len(counts), log=True) for j in range(len(percentiles))]


def _alarm_rates(scale, pairs=100, intervals=20, per=150):
    rng = np.random.default_rng(11)
    percentiles = [50, 95, 99]
    alarms = np.zeros(len(percentiles))
    for _ in range(pairs):
        base = _estimates(rng, *_run(rng, intervals, per), percentiles)
        new = _estimates(rng, *_run(rng, intervals, per, scale), percentiles)
        for j in range(len(percentiles)):
            judged = stats.judge(base[j], new[j], higher_is_worse=True, points=False, limit=0.0, level=LEVEL)
            alarms[j] += judged.verdict == "worse"
    return alarms / pairs


def test_identical_runs_raise_false_alarms_at_most_at_the_stated_rate():
    """Limit 0, so only the statistics stand between noise and a false ``worse``: at a
    confidence level of 0.99 at most 1 % of identical pairs may be called worse (with
    100 pairs, 3 % allows for the simulation's own sampling error: P(>= 4 of 100 | 1 %) < 2 %)."""
    assert list(_alarm_rates(1.0)) == pytest.approx([0.0, 0.0, 0.0], abs=0.03)


def test_a_real_slowdown_is_found():
    """The same service 20 % slower: p50 and p95 are called worse in nearly every pair."""
    rates = _alarm_rates(1.2, pairs=40)
    assert rates[0] >= 0.95 and rates[1] >= 0.9


def test_coarsening_keeps_percentiles_within_a_few_percent():
    rng = np.random.default_rng(5)
    values = bucket_values_us()
    samples = rng.lognormal(np.log(20_000), 1.5, size=(30, 400))
    counts = np.array([np.bincount(np.searchsorted(values, s), minlength=len(values)) for s in samples], dtype=float)
    columns = np.flatnonzero(counts.sum(axis=0))
    exact = stats.percentiles_of(counts[:, columns], values[columns], [50, 99])
    few, few_values = stats.coarsen(counts[:, columns], values[columns], 512)
    assert few.shape[1] <= 512 < len(columns)
    assert np.allclose(stats.percentiles_of(few, few_values, [50, 99]), exact, rtol=0.03)
