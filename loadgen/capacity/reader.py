"""A trial's report intervals, read from its ``timeseries.csv`` and ``histograms.hlog`` while it runs.

Every ``--report-interval`` the master (or the single process) appends one row per key to
``timeseries.csv`` (requests and failures of the interval; ``elapsed_s`` is the interval's
end) and one line per key with timed requests to ``histograms.hlog`` (start, length and the
compressed histogram), both flushed together (:mod:`loadgen.reports.series`). Only request
keys are kept (request type = a protocol; not the per-Executor breakdown), merged by
endpoint name as in ``summary.json``. :meth:`IntervalReader.poll` reads what was appended
since the last call, so that a running trial costs each line once: the decode of a new
histogram (about 0.2 ms), never a re-read of the whole file.
"""
from __future__ import annotations

import csv
from pathlib import Path

from loadgen.config import PROTOCOLS
from loadgen.metrics import EndpointStats
from loadgen.reports.series import read_hlog
from loadgen.capacity.windows import Span

MATCH_S = 0.01  # an hlog line's start + length and its CSV rows' elapsed_s agree to the ms


class _Tail:
    """The complete lines appended to a file since the last :meth:`lines` call."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read()
        except FileNotFoundError:
            return []
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits for the next call
        self.offset += len(complete)
        return complete.decode("utf-8", errors="replace").splitlines()


class IntervalReader:
    """The report intervals of the trial in ``directory`` so far, as :class:`Span` records."""

    def __init__(self, directory: Path):
        self._csv, self._hlog = _Tail(directory / "timeseries.csv"), _Tail(directory / "histograms.hlog")
        self._ticks: dict[float, dict[str, EndpointStats]] = {}  # interval end (s) -> endpoint -> stats

    def poll(self) -> list[Span]:
        """Read the new lines; returns every interval so far, in order."""
        for row in csv.reader(self._csv.lines()):
            if len(row) > 5 and row[2] in PROTOCOLS:
                stats = self._ticks.setdefault(self._tick_at(float(row[1])), {}).setdefault(row[3], EndpointStats())
                stats.requests += int(row[4])
                stats.failures += int(row[5])
        requests = [line for line in self._hlog.lines() if line.split(":", 1)[0][len("Tag="):] in PROTOCOLS]
        for interval in read_hlog(iter(requests)):
            end = self._tick_at(interval.start_s + interval.length_s)
            name = interval.tag.split(":", 1)[1]
            self._ticks.setdefault(end, {}).setdefault(name, EndpointStats()).latency.merge(interval.histogram)
        return self.spans()

    def _tick_at(self, end_s: float) -> float:
        """The CSV interval end that an hlog line's end matches (itself when none does yet)."""
        near = [end for end in self._ticks if abs(end - end_s) <= MATCH_S]
        return near[0] if near else end_s

    def spans(self) -> list[Span]:
        out, start = [], 0.0
        for end in sorted(self._ticks):
            out.append(Span(start, end, self._ticks[end]))
            start = end
        return out
