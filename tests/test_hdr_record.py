"""Vectorised recording (loadgen.hdr_record, LatencyHistogram's pending values) gives exactly
the counters, figures and encoded blobs of hdrh's record_value called once per value."""
import random

import numpy as np
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.hdr_record import counts_index, record_values
from loadgen.metrics import FOLD_AT, HIGHEST_US, LOWEST_US, SIGNIFICANT_FIGURES, LatencyHistogram


def _reference(values) -> HdrHistogram:
    hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    for value in values:
        hist.record_value(value)
    return hist


def _same(a: HdrHistogram, b: HdrHistogram) -> None:
    assert np.array_equal(np.ctypeslib.as_array(a.counts), np.ctypeslib.as_array(b.counts))
    assert (a.total_count, a.min_value, a.max_value) == (b.total_count, b.min_value, b.max_value)
    assert a.encode() == b.encode()


def _edges() -> list[int]:
    """Every power of two in the range, one either side, and the range's ends."""
    edges = {LOWEST_US, HIGHEST_US, HIGHEST_US - 1}
    for bit in range(33):
        edges.update(v for v in (2**bit - 1, 2**bit, 2**bit + 1) if LOWEST_US <= v <= HIGHEST_US)
    return sorted(edges)


def test_the_counts_index_is_hdrhs_for_every_edge_and_a_sweep_of_the_range():
    hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    rng = random.Random(7)
    values = _edges() + [int(10 ** rng.uniform(0, np.log10(HIGHEST_US))) for _ in range(20_000)]
    values += list(range(1, 5000))  # the unit-resolution buckets, value by value
    got = counts_index(hist, np.array(values, dtype=np.int64))
    assert got.tolist() == [hist._counts_index_for(v) for v in values]


def test_recording_a_batch_equals_recording_one_by_one():
    rng = random.Random(11)
    values = _edges() + [max(1, round(rng.lognormvariate(9, 2))) for _ in range(5000)]
    values = [v for v in values if v <= HIGHEST_US]
    batched = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    record_values(batched, values[:100])
    record_values(batched, values[100:])
    record_values(batched, [])
    _same(batched, _reference(values))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=-1.0, max_value=4000.0, allow_nan=False), max_size=300),
       st.integers(min_value=0, max_value=300))
def test_latency_histogram_figures_equal_hdrh_recording_one_by_one(seconds, read_at):
    """Whatever is read in between (a fold half-way), the histogram is hdrh's; values under
    1 µs record as 1 µs, above the range are counted out of range; max_s is the largest in range."""
    hist = LatencyHistogram()
    for i, s in enumerate(seconds):
        if i == read_at:
            assert hist.count == i - sum(max(LOWEST_US, round(x * 1e6)) > HIGHEST_US for x in seconds[:i])
        hist.record(s)
    micros = [max(LOWEST_US, round(s * 1e6)) for s in seconds]
    in_range = [m for m in micros if m <= HIGHEST_US]
    reference = _reference(in_range)
    assert hist.count == len(in_range) and hist.out_of_range == len(micros) - len(in_range)
    assert hist.max_s == max([0.0] + [s for s, m in zip(seconds, micros) if m <= HIGHEST_US])
    _same(hist._hist, reference)
    for p in (0, 1, 50, 90, 99, 99.9, 100):
        want = reference.get_value_at_percentile(p) / 1000.0 if in_range else 0.0
        assert hist.percentile_ms(p) == want


def test_a_long_unread_run_folds_as_it_goes_and_stays_exact():
    rng = random.Random(3)
    seconds = [rng.expovariate(50) for _ in range(3 * FOLD_AT + 17)]
    hist = LatencyHistogram()
    for s in seconds:
        hist.record(s)
    assert len(hist._pending) < FOLD_AT  # bounded memory without a reader
    _same(hist._hist, _reference([max(LOWEST_US, round(s * 1e6)) for s in seconds]))


def test_merging_an_empty_histogram_changes_no_figure_and_allocates_nothing():
    a, empty = LatencyHistogram(), LatencyHistogram()
    for s in (0.001, 0.002, 0.5):
        a.record(s)
    before = a.encode()
    a.merge(empty)
    assert a.encode() == before and empty._hdr is None
    assert empty.count == 0 and empty.encode()["hdr"] == ""
