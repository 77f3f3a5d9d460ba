"""The vectorised HdrHistogram figures equal hdrh's own, value for value."""
import numpy as np
import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.hdr_figures import counts_of, layout_of, mean_value, summed_counts, values_at_percentiles
from loadgen.metrics import HIGHEST_US, LOWEST_US, SIGNIFICANT_FIGURES, HistogramSum, LatencyHistogram, Metrics
from loadgen.results import Result

PERCENTILES = [0, 0.1, 1, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]


def _hdr(values, counts=None):
    hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    for i, value in enumerate(values):
        hist.record_value(int(value), int(counts[i]) if counts is not None else 1)
    return hist


def _assert_same_figures(hist):
    """Our percentiles and mean of ``hist`` against hdrh's (both of its percentile APIs)."""
    counts, layout = counts_of(hist), layout_of(hist)
    ours = values_at_percentiles(counts, layout, PERCENTILES)
    if hist.get_total_count():
        assert ours == hist.get_percentile_to_value_dict(PERCENTILES)
    assert ours == {p: hist.get_value_at_percentile(p) for p in PERCENTILES}
    assert mean_value(counts, layout) == hist.get_mean_value()


def test_the_layout_is_hdrh_bucket_arithmetic_for_every_counter():
    hist = _hdr([])
    layout = layout_of(hist)
    assert len(layout.highest) == hist.counts_len
    for index in range(hist.counts_len):
        value = hist.get_value_from_index(index)
        highest = hist.get_highest_equivalent_value(value)
        assert layout.lowest[index] == hist.get_lowest_equivalent_value(value), index
        assert layout.highest[index] == highest, index
        # the mean iterates to each counter's highest equivalent value, then takes its median
        assert layout.median[index] == hist.get_lowest_equivalent_value(highest) + (
            hist.get_highest_equivalent_value(highest) - hist.get_lowest_equivalent_value(highest) + 1) // 2


@pytest.mark.parametrize("seed", range(6))
def test_random_histograms_give_hdrh_figures(seed):
    rng = np.random.default_rng(seed)
    draws = {
        "loguniform 1 us..1 h": np.exp(rng.uniform(0, np.log(HIGHEST_US), 3000)),
        "lognormal around 20 ms": rng.lognormal(np.log(20_000), 0.6, 5000),
        "bimodal": np.concatenate([rng.normal(300, 20, 2000), rng.normal(2_000_000, 1e5, 40)]),
        "few values": rng.integers(1, 10, 7),
    }
    for values in draws.values():
        _assert_same_figures(_hdr(np.clip(np.round(values), LOWEST_US, HIGHEST_US)))


def test_empty_single_and_extreme_histograms():
    _assert_same_figures(_hdr([]))
    for value in (LOWEST_US, 2047, 2048, 12_345, HIGHEST_US):
        _assert_same_figures(_hdr([value]))
    _assert_same_figures(_hdr([LOWEST_US, HIGHEST_US]))


def test_out_of_range_values_change_nothing_but_their_counter():
    hist = LatencyHistogram()
    for seconds in (0.0, 1e-9, 0.02, 0.02, 0.5, HIGHEST_US / 1e6 * 3):
        hist.record(seconds)
    assert hist.out_of_range == 1 and hist.count == 5
    expected = hist._hist.get_percentile_to_value_dict(PERCENTILES)
    assert hist.percentiles_ms(PERCENTILES) == {p: expected[p] / 1000.0 for p in PERCENTILES}
    assert hist.mean_ms() == hist._hist.get_mean_value() / 1000.0
    assert LatencyHistogram().percentiles_ms([50, 99]) == {50: 0.0, 99: 0.0} and LatencyHistogram().mean_ms() == 0.0


def test_huge_counts_keep_an_exact_mean():
    # count x value beyond int64: the mean falls back to Python integers, still hdrh's.
    hist = _hdr([1000, 3_000_000_000], counts=[2**40, 2**32])
    _assert_same_figures(hist)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=LOWEST_US, max_value=HIGHEST_US), max_size=60), min_size=1,
                max_size=4))
def test_summed_counts_give_the_figures_of_the_merged_histogram(parts):
    hists = [_hdr(values) for values in parts]
    merged = _hdr([])
    for hist in hists:
        merged.add(hist)
    counts, layout = summed_counts(hists), layout_of(merged)
    assert values_at_percentiles(counts, layout, PERCENTILES) == {p: merged.get_value_at_percentile(p)
                                                                  for p in PERCENTILES}
    assert mean_value(counts, layout) == merged.get_mean_value()


def test_decoded_histograms_give_hdrh_figures():
    rng = np.random.default_rng(3)
    sent = LatencyHistogram()
    for seconds in rng.lognormal(np.log(0.05), 1.0, 2000):
        sent.record(float(seconds))
    _assert_same_figures(LatencyHistogram.decode(sent.encode())._hist)


def test_a_sum_view_reads_like_the_merged_metrics():
    rng = np.random.default_rng(4)
    parts = [Metrics() for _ in range(3)]
    for part in parts:
        for seconds in rng.lognormal(np.log(0.02), 0.7, 500):
            part.add(Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=float(seconds),
                            bytes_out=10, schedule_lag_s=0.001))
        part.data_waits.add(0.25)
    merged = Metrics()
    for part in parts:
        merged.merge(part)
    view = Metrics.sum_view(*parts)
    want, got = merged.entry("grpc", "/search"), view.entry("grpc", "/search")
    assert isinstance(got.latency, HistogramSum)
    assert (got.requests, got.bytes_out, got.latency.count, got.latency.max_s) == (
        want.requests, want.bytes_out, want.latency.count, want.latency.max_s)
    for hist_got, hist_want in ((got.latency, want.latency), (got.uncorrected, want.uncorrected)):
        assert hist_got.percentiles_ms(PERCENTILES) == hist_want.percentiles_ms(PERCENTILES)
        assert hist_got.mean_ms() == hist_want.mean_ms()
    assert (view.data_waits.count, view.data_waits.seconds) == (3, 0.75)
    again = LatencyHistogram()
    again.merge(got.latency)  # a view merges into a real histogram as its parts would
    assert again.percentiles_ms(PERCENTILES) == want.latency.percentiles_ms(PERCENTILES)
