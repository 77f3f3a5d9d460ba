"""Record many integer values into an HdrHistogram at once, vectorised with numpy.

hdrh's ``record_value`` finds a value's counter in Python (``bin()``, shifts, bounds
checks): about 2 µs per value, paid on the load-generating hub for every request and every
per-Executor part of it. :class:`~loadgen.metrics.LatencyHistogram` instead appends each
value to a plain list (~0.1 µs) and folds the list into its HdrHistogram with
:func:`record_values` when the histogram is read or the list is long: the index arithmetic
of ``HdrHistogram._counts_index_for`` over a numpy array, the distinct counters' occurrences
added in place (``np.unique``), and hdrh's own
bookkeeping (``total_count``, ``min_value``, ``max_value``). The counters, and so every
figure and every encoded blob, are exactly those of calling ``record_value`` once per value
(tests/test_hdr_record.py checks that, value by value, over the whole range).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from hdrh.histogram import HdrHistogram


def counts_index(hist: HdrHistogram, values: np.ndarray) -> np.ndarray:
    """hdrh's ``_counts_index_for`` of each of ``values`` (positive int64 below 2**53)."""
    # bit_length(v | mask), hdrh's 64 - _clz(v | mask): frexp's exponent is exact for
    # integers a float64 holds exactly.
    _, pow2ceiling = np.frexp((values | hist.sub_bucket_mask).astype(np.float64))
    bucket = pow2ceiling.astype(np.int64) - hist.unit_magnitude - (hist.sub_bucket_half_count_magnitude + 1)
    sub_bucket = values >> (bucket + hist.unit_magnitude)
    return ((bucket + 1) << hist.sub_bucket_half_count_magnitude) + sub_bucket - hist.sub_bucket_half_count


def record_values(hist: HdrHistogram, values: Sequence[int]) -> None:
    """``hist.record_value(v)`` for every ``v`` of ``values`` (integers >= 1, in hdrh's
    unit), with exactly hdrh's result: a value whose counter lies outside the array is
    dropped, as hdrh drops it."""
    if not len(values):
        return
    array = np.fromiter(values, dtype=np.int64, count=len(values))
    index = counts_index(hist, array)
    kept = (index >= 0) & (index < hist.counts_len) & (array >= 0)
    if not kept.all():
        array, index = array[kept], index[kept]
        if not len(array):
            return
    counts = np.ctypeslib.as_array(hist.counts)
    # Only the counters hit (a bincount over all 23,552 would cost ~0.1 ms per fold whatever its size).
    index, occurrences = np.unique(index, return_counts=True)
    counts[index] += occurrences.astype(counts.dtype, copy=False)
    hist.total_count += len(array)
    hist.min_value = min(hist.min_value, int(array.min()))
    hist.max_value = max(hist.max_value, int(array.max()))

