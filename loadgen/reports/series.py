"""Per-interval figures of a run: ``timeseries.csv`` rows and ``histograms.hlog`` intervals.

``timeseries.csv`` has one row per key and interval, then a ``total`` row (request type and
name ``total``) of all the interval's requests; percentiles never exceed the interval's
exact max (HdrHistogram reports a bucket's highest equivalent value). ``users`` and
``inflight`` are the users running and the requests in flight at the interval's end (the
same in each row of an interval; empty for the last, written after the users stopped).

The interval log uses HdrHistogram's standard log format (the one Java's
``HistogramLogProcessor`` reads), one line per key and interval, tagged ``Tag=TYPE:NAME``::

    Tag=grpc:/search,12.000,1.000,35.201,HISTFAAAA...

(start seconds since the run's start, interval length in seconds, interval max in **ms**,
then the compressed histogram of integer µs). :func:`read_hlog` reads it back, so
``loadgen report`` can re-render or merge runs from their logs.

Tags are percent-escaped (:func:`escape_tag`): the format's readers end a tag at the first
comma (Java's at a space, too), so a name such as ``a,b c`` is written ``a%2Cb%20c``.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional
from urllib.parse import quote, unquote

from loadgen.metrics import EndpointStats, LatencyHistogram, Metrics
from loadgen.reports.summary import BREAKDOWN_TYPES

CSV_COLUMNS = ("timestamp", "elapsed_s", "request_type", "name", "requests", "failures", "rps",
               "p50_ms", "p95_ms", "p99_ms", "max_ms", "users", "inflight")
GAUGES = ("users", "inflight")  # values at the interval's end, the same in each of its rows
HLOG_LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'
MAX_VALUE_UNIT_RATIO = 1000.0  # µs values, interval max written in ms
TOTAL = "total"  # request_type and name of an interval's row of all its requests

# Printable ASCII kept as is in a tag, except "%" (the escape), "," (ends a tag in every
# reader) and " " (a delimiter of Java's HistogramLogScanner); the rest is %XX of its UTF-8.
_TAG_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%,")


def escape_tag(tag: str) -> str:
    """``tag`` as written after ``Tag=``: no comma, space, control character or non-ASCII
    character; :func:`unescape_tag` gives it back exactly."""
    return quote(tag, safe=_TAG_SAFE)


def unescape_tag(text: str) -> str:
    """Inverse of :func:`escape_tag` (``%XX`` sequences decoded as UTF-8)."""
    return unquote(text)


class TimeSeriesWriter:
    """Appends one interval at a time; files are flushed after every interval so that a
    killed run keeps everything up to its last interval."""

    def __init__(self, directory: Path, *, start_epoch: float):
        directory.mkdir(parents=True, exist_ok=True)
        self.start_epoch = start_epoch
        self._csv_file = open(directory / "timeseries.csv", "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(CSV_COLUMNS)
        self._hlog = open(directory / "histograms.hlog", "w", encoding="utf-8")
        self._hlog.write(_hlog_header(start_epoch))

    def write_interval(self, metrics: Metrics, *, start_epoch: float, end_epoch: float,
                       gauges: Optional[dict[str, int]] = None) -> None:
        """Write the rows of one interval ``[start_epoch, end_epoch)`` (wall-clock seconds): one
        per key, then a ``total`` row of the interval's requests (breakdown parts left out).
        ``gauges``: users running and requests in flight at its end (empty cells without)."""
        length = max(end_epoch - start_epoch, 1e-9)
        tail = [(gauges or {}).get(key, "") for key in GAUGES]
        total = EndpointStats()
        for (rtype, name), stats in sorted(metrics.entries.items()):
            self._csv_row(rtype, name, stats, end_epoch=end_epoch, length=length, tail=tail)
            if rtype not in BREAKDOWN_TYPES:
                total.merge(stats)
            h = stats.latency
            if h.count:
                tag = escape_tag(f"{rtype}:{name}")
                self._hlog.write(f"Tag={tag},{start_epoch - self.start_epoch:.3f},{length:.3f},"
                                 f"{h.max_s * 1e6 / MAX_VALUE_UNIT_RATIO:.3f},{h.encode()['hdr']}\n")
        if total.requests:
            self._csv_row(TOTAL, TOTAL, total, end_epoch=end_epoch, length=length, tail=tail)
        self._csv_file.flush()
        self._hlog.flush()

    def _csv_row(self, rtype: str, name: str, stats: EndpointStats, *, end_epoch: float, length: float,
                 tail: list) -> None:
        h = stats.latency
        max_ms = h.max_s * 1000
        # HDR gives a bucket's highest equivalent value: no percentile may exceed the exact max.
        percentiles = (min(v, max_ms) for v in h.percentiles_ms([50, 95, 99]).values())
        self._csv.writerow([f"{end_epoch:.3f}", f"{end_epoch - self.start_epoch:.3f}", rtype, name,
                            stats.requests, stats.failures, f"{stats.requests / length:.3f}",
                            *(f"{v:.3f}" for v in percentiles), f"{max_ms:.3f}", *tail])

    def close(self) -> None:
        """Close both files (both are closed even when the first one fails to flush)."""
        try:
            self._csv_file.close()
        finally:
            self._hlog.close()


def _hlog_header(start_epoch: float) -> str:
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch))
    return (f"#[Histogram log written by jina-loadgen; values in microseconds, interval max in ms]\n"
            f"#[StartTime: {start_epoch:.3f} (seconds since epoch), {iso}]\n"
            f"#[BaseTime: {start_epoch:.3f} (seconds since epoch)]\n{HLOG_LEGEND}\n")


@dataclass(frozen=True)
class Interval:
    """One line of an interval log."""

    tag: str
    start_s: float
    length_s: float
    histogram: LatencyHistogram


def read_hlog(stream: IO[str]) -> Iterator[Interval]:
    """Yield the intervals of an hlog written by :class:`TimeSeriesWriter` (or any
    HdrHistogram log of µs values; untagged lines get the tag ``""``).

    :raises ValueError: naming the line number of a line that is not an interval.
    """
    for number, line in enumerate(stream, start=1):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith('"'):
            continue
        tag = ""
        if line.startswith("Tag="):
            tag, _, line = line[4:].partition(",")
            tag = unescape_tag(tag)
        parts = line.split(",")
        try:
            start, length = float(parts[0]), float(parts[1])
            hist = LatencyHistogram.decode({"hdr": parts[3]})
        except (IndexError, ValueError, TypeError) as exc:
            raise ValueError(f"line {number}: not an HdrHistogram interval ({exc})") from None
        yield Interval(tag=tag, start_s=start, length_s=length, histogram=hist)


@dataclass
class MergedTag:
    """All intervals of one tag, merged: the histogram and the time span they cover (s)."""

    histogram: LatencyHistogram
    start_s: float
    end_s: float


def merge_intervals(intervals: Iterator[Interval], merged: dict[str, MergedTag] | None = None) -> dict[str, MergedTag]:
    """Merge intervals by tag (exactly: HdrHistogram addition); extends ``merged`` if given."""
    merged = {} if merged is None else merged
    for interval in intervals:
        end = interval.start_s + interval.length_s
        entry = merged.get(interval.tag)
        if entry is None:
            merged[interval.tag] = MergedTag(interval.histogram, interval.start_s, end)
            continue
        entry.histogram.merge(interval.histogram)
        entry.start_s, entry.end_s = min(entry.start_s, interval.start_s), max(entry.end_s, end)
    return merged
