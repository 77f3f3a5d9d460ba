"""Latency histograms: an HdrHistogram of **integer microseconds**, mergeable across processes.

:class:`LatencyHistogram` covers 1 µs .. 1 h with 3 significant digits (any percentile is
within 0.1% of the recorded value). Values above the range are counted in ``out_of_range``
(hdrh's ``record_value`` would drop them silently); values under 1 µs are recorded as 1 µs.
Recording is cheap on the hub: a value is appended to a list and folded into the
HdrHistogram, vectorised, when the histogram is read or the list is long
(:mod:`loadgen.hdr_record`; the counters are exactly those of recording one by one).
Percentiles are computed after merging, never averaged (:mod:`loadgen.hdr_figures`).
:class:`HistogramSum` reads several as if merged, without merging them.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional, Sequence

import numpy as np
from hdrh.histogram import HdrHistogram

from loadgen.hdr_figures import (
    layout_of,
    mean_value,
    summed_counts,
    values_at_percentiles,
)
from loadgen.hdr_record import record_values

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # 1 hour
SIGNIFICANT_FIGURES = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
# Values waiting to be folded into the HdrHistogram: a fold of this many takes ~0.2 ms and
# the list stays below ~40 KB when nothing reads the histogram for a while.
FOLD_AT = 4096


class LatencyHistogram:
    """HdrHistogram of latencies in µs plus an out-of-range counter and the exact maximum."""

    def __init__(self) -> None:
        self._hdr: Optional[HdrHistogram] = None  # made on first use: ~0.1-0.25 ms and 184 KB each
        self._pending: list[int] = []  # recorded µs values not yet in _hdr
        self.out_of_range = 0
        self.max_s = 0.0

    def record(self, seconds: float) -> None:
        """Record one latency given in seconds."""
        micros = max(LOWEST_US, round(seconds * 1e6))
        if micros > HIGHEST_US:
            self.out_of_range += 1
            return
        self._pending.append(micros)
        self.max_s = max(self.max_s, seconds)
        if len(self._pending) >= FOLD_AT:
            self._fold()

    @property
    def _hist(self) -> HdrHistogram:
        """The HdrHistogram with every recorded value in it (folds the pending ones)."""
        if self._pending or self._hdr is None:
            self._fold()
        return self._hdr

    def _fold(self) -> None:
        """Move the pending values into the HdrHistogram (made now if need be), vectorised."""
        pending, self._pending = self._pending, []
        if self._hdr is None:
            self._hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        record_values(self._hdr, pending)

    @property
    def count(self) -> int:
        """Recorded values (out-of-range ones excluded)."""
        return (self._hdr.get_total_count() if self._hdr is not None else 0) + len(self._pending)

    def percentile_ms(self, percentile: float) -> float:
        """The value at ``percentile`` (0-100) in milliseconds; 0.0 when empty."""
        return self.percentiles_ms([percentile])[percentile]

    def percentiles_ms(self, percentiles: list[float]) -> dict[float, float]:
        """Several percentiles (0-100) in ms, exactly hdrh's values, vectorised
        (:mod:`loadgen.hdr_figures`: ~0.05 ms, never a walk in Python); 0.0 when empty."""
        return summed_percentiles_ms([self], percentiles)

    @property
    def hdr(self) -> HdrHistogram:
        """The hdrh histogram itself, for read-only use of its bucket layout and counts
        (e.g. :mod:`loadgen.observe.hdr_buckets`); record through :meth:`record`."""
        return self._hist

    def mean_ms(self) -> float:
        """The mean in ms, exactly hdrh's ``get_mean_value``, vectorised; 0.0 when empty."""
        return summed_mean_ms([self])

    def merge(self, other: "LatencyHistogram | HistogramSum") -> None:
        """Add ``other``'s values to this histogram (exact: same bucket layout)."""
        if isinstance(other, HistogramSum):
            for part in other.parts:
                self.merge(part)
            return
        if other._hdr is not None or other._pending:  # an empty one adds nothing (and costs no HdrHistogram)
            self._hist.add(other._hist)
        self.out_of_range += other.out_of_range
        self.max_s = max(self.max_s, other.max_s)

    def nonzero_buckets(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, counts)`` of the non-empty buckets, indices into :func:`bucket_values_us`
        (numpy arrays, a copy): the counts array without its zeros, for vectorised merges."""
        counts = np.ctypeslib.as_array(self._hist.counts)
        indices = np.flatnonzero(counts)
        return indices, counts[indices].astype(np.int64)

    def encode(self) -> dict[str, Any]:
        """A msgpack/JSON-safe form: base64 HdrHistogram blob plus the extra counters."""
        blob = self._hist.encode().decode("ascii") if self.count else ""
        return {"hdr": blob, "out_of_range": self.out_of_range, "max_s": self.max_s}

    @classmethod
    def decode(cls, data: dict[str, Any]) -> "LatencyHistogram":
        """Inverse of :meth:`encode`; a bare ``{"hdr": blob}`` (as in an interval log) takes
        its maximum from the histogram (precise to 3 significant digits)."""
        hist = cls()
        if data.get("hdr"):
            hist._hist.decode_and_add(data["hdr"])
        hist.out_of_range = int(data.get("out_of_range", 0))
        fallback = hist._hist.get_max_value() / 1e6 if hist.count else 0.0
        hist.max_s = float(data.get("max_s", fallback))
        return hist


@lru_cache(maxsize=1)
def bucket_values_us() -> np.ndarray:
    """The value in µs that each bucket index of a :class:`LatencyHistogram` stands for in a
    percentile: HdrHistogram's highest equivalent value, as ``percentile_ms`` reports it.
    Computed once (about 20 ms) from hdrh's own index arithmetic."""
    hist = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
    return np.array([hist.get_highest_equivalent_value(hist.get_value_from_index(i)) for i in range(hist.counts_len)],
                    dtype=np.float64)


class HistogramSum:
    """Several :class:`LatencyHistogram` read as if merged, without merging them: no
    histogram is allocated or added up, figures come from their counters summed on demand
    (what a live view, polled on a load-generating hub, needs). Read-only: it only
    collects more parts (:meth:`merge`)."""

    def __init__(self, parts: Sequence[LatencyHistogram] = ()):
        self.parts = list(parts)

    def merge(self, other: "LatencyHistogram | HistogramSum") -> None:
        self.parts.extend(other.parts if isinstance(other, HistogramSum) else [other])

    @property
    def count(self) -> int:
        return sum(part.count for part in self.parts)

    @property
    def out_of_range(self) -> int:
        return sum(part.out_of_range for part in self.parts)

    @property
    def max_s(self) -> float:
        return max((part.max_s for part in self.parts), default=0.0)

    def percentile_ms(self, percentile: float) -> float:
        return self.percentiles_ms([percentile])[percentile]

    def percentiles_ms(self, percentiles: list[float]) -> dict[float, float]:
        """As :meth:`LatencyHistogram.percentiles_ms` of the merged parts."""
        if not self.parts:
            return {p: 0.0 for p in percentiles}
        return summed_percentiles_ms(self.parts, percentiles)

    def mean_ms(self) -> float:
        return summed_mean_ms(self.parts) if self.parts else 0.0


def summed_percentiles_ms(hists: Sequence[LatencyHistogram], percentiles: list[float]) -> dict[float, float]:
    """Percentiles (0-100) in ms of the merge of ``hists``, without building it; 0.0 when empty."""
    raw = [h._hist for h in hists]
    values = values_at_percentiles(summed_counts(raw), layout_of(raw[0]), percentiles)
    return {p: values[p] / 1000.0 for p in percentiles}


def summed_mean_ms(hists: Sequence[LatencyHistogram]) -> float:
    """The mean in ms of the merge of ``hists``, without building it; 0.0 when empty."""
    raw = [h._hist for h in hists]
    return mean_value(summed_counts(raw), layout_of(raw[0])) / 1000.0
