"""Scrape the server's metrics endpoints once per report interval: :class:`ServerWatch`.

:meth:`ServerWatch.start` finds the endpoints of the Flows named by ``pid:`` (and samples
their processes from then on) and takes a first reading of every source: the baseline, so
that requests made before the run (pre-indexing, readiness probes) are not counted.
:meth:`ServerWatch.collect` reads every source again, writes one ``server_metrics.csv`` row
per series with what changed since that source's previous good reading, and accumulates
the run's totals (:class:`~loadgen.observe.totals.ServerTotals`). A source that is down,
slow or sends garbage is skipped for that interval, counted, and reported once (the
``report`` callback); its next good reading covers the gap, so no count is lost.

All of it is blocking work (HTTP, parsing, psutil, a file): the Locust adapter runs
``start``/``collect`` in a native thread, one call at a time, never on a hub that sends load.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from loadgen.observe.processes import WSGI_ERROR, Endpoint, ProcessSampler, find_endpoints, flow_processes
from loadgen.observe.rates import figures, zero
from loadgen.observe.scrape import Reading, ScrapeError, keeper, scrape
from loadgen.observe.table import CPU_METRIC, FILE_NAME, RSS_METRIC, TableWriter, format_labels
from loadgen.observe.totals import QUANTILES_NOTE, ServerTotals

JINA_500_HINT = ("; Jina 3.33's monitoring needs prometheus_client < 0.22 in the Flow's virtualenv "
                 "(docs/observability.md)")


@dataclass
class Source:
    """One endpoint: its last good reading, its record, and its first problem."""

    url: str
    pid: Optional[int] = None  # the Flow process serving it, when found by pid:
    runtime: str = ""  # Jina's runtime_name on its page
    previous: Optional[Reading] = None
    scrapes: int = 0
    failures: Counter = field(default_factory=Counter)
    problem: Optional[str] = None

    def record(self) -> dict[str, Any]:
        return {"runtime": self.runtime or None, "pid": self.pid, "scrapes": self.scrapes,
                "failures": dict(self.failures), "problem": self.problem}


class ServerWatch:
    """The server-side record of one run (see the module docstring).

    :param urls: endpoints given by URL.
    :param flow_pids: parent processes of local Flows (endpoints found, CPU/RSS sampled).
    :param metric_names: families kept besides Jina's own.
    :param directory: where ``server_metrics.csv`` goes.
    :param report: called with a one-line message the first time a source fails.
    """

    def __init__(self, *, urls: tuple[str, ...] = (), flow_pids: tuple[int, ...] = (),
                 metric_names: tuple[str, ...] = (), directory: Path, timeout_s: float = 2.0,
                 report: Callable[[str], Any] = print, clock: Callable[[], float] = time.time,
                 find: Callable[[int], list[Endpoint]] = find_endpoints):
        self.sources = {url: Source(url) for url in urls}
        self.flow_pids, self.directory, self.timeout_s = flow_pids, directory, timeout_s
        self._keep, self._report, self._clock, self._find = keeper(metric_names), report, clock, find
        self.totals = ServerTotals()
        self.table: Optional[TableWriter] = None
        self.sampler: Optional[ProcessSampler] = None
        self.process_names: dict[int, str] = {}
        self.notes: list[str] = []
        self.collections = 0  # intervals collected after the baseline

    # -- the run --------------------------------------------------------------------------
    def start(self, start_epoch: float) -> None:
        """Find the Flows' endpoints, open the table, take the baseline readings."""
        pids = []
        for root in self.flow_pids:
            processes = [p.pid for p in flow_processes(root)]
            if not processes:
                self._note(f"server metrics: no process {root} on this machine (pid:{root} ignored)")
                continue
            pids += processes
            self.process_names.setdefault(root, "flow")
            endpoints = self._find(root)
            if not endpoints:
                self._note(f"server metrics: the Flow of process {root} serves no metrics endpoint "
                           f"(monitoring off?); only its CPU and memory are recorded")
            for endpoint in endpoints:
                self.sources.setdefault(endpoint.url, Source(endpoint.url, pid=endpoint.pid))
        self.sampler = ProcessSampler(pids) if pids else None
        try:
            self.table = TableWriter(self.directory, start_epoch=start_epoch)
        except OSError as exc:
            self._note(f"server metrics: cannot write {self.directory / FILE_NAME}: {exc}")
        for source in self.sources.values():
            self._read(source)

    def collect(self) -> None:
        """One interval: read every source, write its rows, sample the processes."""
        self.collections += 1
        at = self._clock()  # the round's time: every row of one round carries it
        for source in self.sources.values():
            previous = source.previous
            reading = self._read(source)
            if reading is not None and previous is not None:
                self._rows(source, previous, reading, at)
        if self.sampler is not None:
            self._sample_processes(at)
        if self.table is not None:
            try:
                self.table.flush()
            except OSError as exc:
                self._note(f"server metrics: {FILE_NAME} stopped: {exc}")
                self.table = None

    def close(self) -> dict[str, Any]:
        """Close the table; the ``server`` entry of ``summary.json``."""
        if self.table is not None:
            try:
                self.table.close()
            except OSError as exc:
                self._note(f"server metrics: {FILE_NAME} incomplete: {exc}")
            self.table = None
        return self.summary()

    def summary(self) -> dict[str, Any]:
        out = self.totals.summary()
        out.update(sources={url: s.record() for url, s in self.sources.items()},
                   intervals=self.collections,
                   file=FILE_NAME, notes=list(self.notes))
        if any(e["processing_ms"]["calls"] and e["processing_ms"]["p99"] is None for e in out["executors"].values()):
            out["quantiles_note"] = QUANTILES_NOTE
        return out

    def latest(self) -> list[Reading]:
        """The latest good reading of every source (for the live exporter)."""
        return [s.previous for s in self.sources.values() if s.previous is not None]

    # -- inside an interval ---------------------------------------------------------------------
    def _read(self, source: Source) -> Optional[Reading]:
        try:
            reading = scrape(source.url, keep=self._keep, timeout_s=self.timeout_s, clock=self._clock)
        except ScrapeError as exc:
            hint = JINA_500_HINT if exc.kind == "http" and WSGI_ERROR.decode() in str(exc) else ""
            self._fail(source, exc.kind, f"{exc}{hint}")
            return None
        source.scrapes += 1
        if not reading.series:
            self._fail(source, "empty", "the page has no Jina or --server-metric series", count=False)
        runtimes = {dict(labels).get("runtime_name") for _, labels in reading.series} - {None}
        if runtimes and not source.runtime:
            source.runtime = sorted(runtimes)[0]
            if source.pid is not None:
                self.process_names[source.pid] = source.runtime
        source.previous = reading
        return reading

    def _fail(self, source: Source, kind: str, message: str, *, count: bool = True) -> None:
        if count:
            source.failures[kind] += 1
        if source.problem is None:
            source.problem = f"{kind}: {message}"
            self._report(f"server metrics: {source.url}: {message} (reported once; the run goes on)")

    def _rows(self, source: Source, previous: Reading, reading: Reading, at: float) -> None:
        seconds = reading.at - previous.at
        for (family, labels), series in reading.series.items():
            figs = figures(previous.series.get((family, labels)) or zero(series), series, seconds)
            label_map = dict(labels)
            self.totals.add_series(family, label_map, figs)
            if self.table is not None:
                self.table.row(at, source=source.url, runtime=label_map.get("runtime_name", ""),
                               metric=family, labels=format_labels(label_map), kind=figs.kind, value=figs.value,
                               increase=figs.increase, rate=figs.rate, mean=figs.mean, p50=figs.p50, p99=figs.p99)

    def _sample_processes(self, at: float) -> None:
        samples = []
        for sample in self.sampler.sample():
            name = self.process_names.get(sample.pid, f"pid {sample.pid}")
            samples.append((name, sample.pid, sample.cpu_pct, sample.rss_bytes))
            if self.table is not None:
                for metric, value in ((CPU_METRIC, sample.cpu_pct), (RSS_METRIC, float(sample.rss_bytes))):
                    self.table.row(at, source="os", runtime=name, metric=metric, labels=f'pid="{sample.pid}"',
                                   kind="gauge", value=value)
        self.totals.add_processes(samples)

    def _note(self, message: str) -> None:
        self.notes.append(message)
        self._report(message)
