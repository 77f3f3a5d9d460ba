"""The records of a scrape: a :class:`Series` per metric family and label set, and a
:class:`Reading` of one source (no parsing here: :mod:`loadgen.observe.scrape` fills them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Series:
    """The state of one series at one scrape (values as the server counts them)."""

    kind: str  # counter | gauge | summary | histogram | untyped
    value: float = math.nan  # counter / gauge / untyped
    count: float = math.nan  # summary / histogram
    sum: float = math.nan
    buckets: dict[float, float] = field(default_factory=dict)  # upper bound -> cumulative count
    quantiles: dict[float, float] = field(default_factory=dict)  # a server-side summary's


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]  # (family, sorted labels)


@dataclass(frozen=True)
class Reading:
    """One scrape of one source: when (epoch s) and its series; ``families`` are the parsed
    families kept (for passing them on, e.g. to the live exporter)."""

    source: str
    at: float
    series: dict[SeriesKey, Series]
    families: tuple = ()
