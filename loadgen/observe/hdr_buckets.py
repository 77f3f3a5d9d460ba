"""HdrHistograms as Prometheus histogram buckets, with a stated quantile error.

Bucket bounds grow by a constant factor ``r = 2 ** (1/16)`` (16 buckets per doubling) from
250 µs to 120 s. Why this keeps ``histogram_quantile``'s p99 within 5 % of the HDR p99:

- Prometheus interpolates inside the bucket ``(b, r*b]`` that holds the rank, so its
  estimate and the value at that rank lie in the same bucket: they differ by a factor of at
  most ``r`` (``r - 1`` = 4.43 %).
- A count is assigned to a bucket by its HDR bucket, which may reach up to ``2**-10`` past
  the bound (3 significant digits: sub-buckets of 1/1024 at worst): another factor of at
  most ``1 + 2**-10`` on the value, and the HDR percentile itself is within the same factor
  of the recorded value.
- Together: ``|estimate / hdr_p99 - 1| <= r * (1 + 2**-10) ** 2 - 1`` = 4.63 %
  (:data:`QUANTILE_ERROR`), for latencies inside the bucket range (below 250 µs the first
  bucket starts at 0; above 120 s only ``+Inf`` is left).
- One caveat on ranks: Prometheus' rank ``q * N`` lands on the ``ceil(q*N)``-th smallest
  latency, HDR's percentile is the ``round(q*N)``-th. When they differ, the bound applies
  plus the gap between those two neighbouring latencies: about ``1 / (N * density)``, a few
  hundredths of a percent with thousands of requests, but visible with a few dozen.
  (tests/observe/test_hdr_buckets.py checks both statements.)

Counting is vectorised over hdrh's counts array (numpy, ~10 µs per histogram), so turning a
run's histograms into buckets costs well under a millisecond per interval.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from loadgen.metrics import LatencyHistogram

BUCKETS_PER_DOUBLING = 16
LOWEST_BOUND_S = 250e-6
HIGHEST_BOUND_S = 120.0
RATIO = 2 ** (1 / BUCKETS_PER_DOUBLING)
HDR_RESOLUTION = 2 ** -10
QUANTILE_ERROR = RATIO * (1 + HDR_RESOLUTION) ** 2 - 1  # 0.0463: the documented bound


def log_bounds(lowest_s: float = LOWEST_BOUND_S, highest_s: float = HIGHEST_BOUND_S,
               per_doubling: int = BUCKETS_PER_DOUBLING) -> tuple[float, ...]:
    """Upper bounds ``lowest * 2**(i/per_doubling)`` up to the first one >= ``highest`` (s)."""
    steps = math.ceil(math.log2(highest_s / lowest_s) * per_doubling)
    return tuple(float(f"{lowest_s * 2 ** (i / per_doubling):.6g}") for i in range(steps + 1))


LATENCY_BOUNDS_S = log_bounds()
WORD_TYPES = {2: np.uint16, 4: np.uint32, 8: np.uint64}  # hdrh counter sizes (bytes)


class BucketCounter:
    """Cumulative counts of HdrHistograms at fixed bounds (all :class:`LatencyHistogram`\\ s
    share one layout, so the index of each bound and each HDR bucket's value are computed
    once, from the first histogram seen)."""

    def __init__(self, bounds_s: Sequence[float] = LATENCY_BOUNDS_S):
        self.bounds_s = tuple(bounds_s)
        self._index: np.ndarray | None = None
        self._values_us: np.ndarray | None = None

    def _layout(self, hist: LatencyHistogram) -> None:
        hdr = hist.hdr
        last = hdr.counts_len - 1
        self._index = np.array([min(last, hdr.get_counts_array_index(max(1, int(b * 1e6))))
                                for b in self.bounds_s], dtype=np.int64)
        self._values_us = _median_values(hdr)

    def counts(self, hist: LatencyHistogram) -> tuple[list[int], int, float]:
        """``(cumulative count at each bound, total count, sum of values in seconds)``."""
        if self._index is None:
            self._layout(hist)
        counts = np.frombuffer(hist.hdr.counts, dtype=WORD_TYPES[hist.hdr.get_word_size()])  # a view, no copy
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1]) if len(cumulative) else 0
        # Element-wise, not np.dot: BLAS threads on a busy machine cost milliseconds.
        sum_s = float((counts * self._values_us).sum()) / 1e6
        return cumulative[self._index].tolist(), total, sum_s


def _median_values(hdr) -> np.ndarray:
    """The middle of each HDR bucket's value range (µs), index by index (hdrh's
    ``get_value_from_index`` plus half the bucket's width, vectorised)."""
    index = np.arange(hdr.counts_len, dtype=np.int64)
    half_count = hdr.sub_bucket_half_count
    bucket = (index >> hdr.sub_bucket_half_count_magnitude) - 1
    sub = (index & (half_count - 1)) + half_count
    first = bucket < 0
    sub[first] -= half_count
    bucket[first] = 0
    lowest = sub << (bucket + hdr.unit_magnitude)
    width = np.left_shift(1, bucket + hdr.unit_magnitude)
    return (lowest + width // 2).astype(np.float64)
