"""loadgen's live figures in Prometheus format (``--prometheus-port``).

:meth:`Exporter.update` takes the run's merged metrics so far (the master's total after each
interval flush, and once more after the last one: so the counts equal ``summary.json``'s)
and keeps a snapshot of plain numbers: bucket counting is vectorised, well under 1 ms.
The snapshot is rendered only when Prometheus asks, in the exporter's own thread
(:meth:`Exporter.handle`, served by :class:`loadgen.observe.rawhttp.Listener`):
``prometheus_client`` writes the counters, gauges and the server's families; the latency
histograms (about 300 buckets each) are written here in the same text format, because
prometheus_client's per-sample formatting costs ~10 µs a line, 15 ms a scrape with the GIL
held (measured: benchmarks/bench_exporter.py).

Metrics (``endpoint`` is the Jina endpoint, ``protocol`` grpc/websocket/http):

- ``loadgen_requests_total{endpoint,protocol}``: requests answered or failed (summary.json ``requests``).
- ``loadgen_failures_total{endpoint,protocol,kind}``: failed requests by class.
- ``loadgen_latency_seconds{endpoint,protocol}``: histogram of successful requests' latency
  (corrected for schedule lag in open loop), bounds in :mod:`loadgen.observe.hdr_buckets`.
- ``loadgen_executor_seconds{executor}``: histogram of each Executor's span from the replies' routes.
- ``loadgen_users``: users running now.
- open loop only: ``loadgen_offered_rate`` (requests/s the schedule asks for now) and
  ``loadgen_late_total{endpoint,protocol}`` (sends that left after their scheduled time).
- ``loadgen_generator_loop_lag_seconds``: when the run measures its event-loop lag (all
  load-generating processes merged, as in summary.json ``generator``).
- the server's own families scraped with ``--server-metrics`` (Jina's names and labels,
  plus ``server="host:port"``), so one Prometheus job sees both sides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from loadgen.metrics import Metrics
from loadgen.observe.hdr_buckets import BucketCounter
from loadgen.observe.rawhttp import Response
from loadgen.observe.series import Reading
from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG
from loadgen.reports.summary import BREAKDOWN_TYPES  # parts of a request (loadgen.breakdown), not requests



@dataclass(frozen=True)
class HistogramRow:
    labels: tuple[str, ...]
    cumulative: list[int]
    total: int
    sum_s: float


@dataclass(frozen=True)
class Snapshot:
    """Plain numbers for one rendering (immutable: swapped whole, read by another thread)."""

    requests: tuple[tuple[tuple[str, str], int], ...] = ()
    failures: tuple[tuple[tuple[str, str, str], int], ...] = ()
    late: tuple[tuple[tuple[str, str], int], ...] = ()
    latency: tuple[HistogramRow, ...] = ()
    executors: tuple[HistogramRow, ...] = ()
    loop_lag: tuple[HistogramRow, ...] = ()
    users: Optional[int] = None
    offered_rate: Optional[float] = None
    open_loop: bool = False
    servers: tuple[Reading, ...] = ()
    generation: int = 0


@dataclass
class Exporter:
    """The live export of one process (master or single process)."""

    buckets: BucketCounter = field(default_factory=BucketCounter)
    snapshot: Snapshot = field(default_factory=Snapshot)
    # Per scraper (its User-Agent: Prometheus, an agent, a curl loop ...): the generation of the
    # latest snapshot it received in full. The end of a run lingers until every scraper that
    # watched the run got the final figures, not only whichever asked first.
    served: dict[str, int] = field(default_factory=dict)
    rendered_generation: int = -1  # generation rendered for the reply being sent

    def __post_init__(self) -> None:
        self._bounds: tuple[str, ...] = ()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_SnapshotCollector(self))

    def update(self, metrics: Metrics, *, users: Optional[int] = None, offered_rate: Optional[float] = None,
               open_loop: bool = False, servers: tuple[Reading, ...] = ()) -> None:
        """Take the run's figures so far (the caller's merged total; it is only read here)."""
        requests, failures, late = [], [], []
        latency, executors, loop_lag = [], [], []
        for (rtype, name), stats in sorted(metrics.entries.items()):
            if rtype == "executor":
                executors.append(self._histogram((name,), stats.latency))
            elif (rtype, name) == (GENERATOR_TYPE, LOOP_LAG):  # the generator's self-check
                loop_lag.append(self._histogram((), stats.latency))
            elif rtype not in BREAKDOWN_TYPES:
                requests.append(((name, rtype), stats.requests))
                late.append(((name, rtype), stats.late))
                failures += [((name, rtype, kind), count) for kind, count in sorted(stats.failure_kinds.items())]
                latency.append(self._histogram((name, rtype), stats.latency))
        self.snapshot = Snapshot(requests=tuple(requests), failures=tuple(failures), late=tuple(late),
                                 latency=tuple(latency), executors=tuple(executors), loop_lag=tuple(loop_lag),
                                 users=users, offered_rate=offered_rate, open_loop=open_loop,
                                 servers=tuple(servers), generation=self.snapshot.generation + 1)

    def _histogram(self, labels: tuple[str, ...], hist: Any) -> HistogramRow:
        cumulative, total, sum_s = self.buckets.counts(hist) if hist.count else ([0] * len(self.buckets.bounds_s), 0, 0.0)
        return HistogramRow(labels=labels, cumulative=cumulative, total=total, sum_s=sum_s)

    @property
    def final_figures_served(self) -> bool:
        """Has every scraper seen so far (at least one) received the latest update in full?"""
        return bool(self.served) and min(self.served.values()) >= self.snapshot.generation

    def render(self) -> bytes:
        """The exposition text of the latest snapshot."""
        snap = self.snapshot
        bounds = self._bound_texts()
        parts = [generate_latest(self.registry).decode("utf-8"),
                 histogram_text("loadgen_latency_seconds", "Latency of successful requests (corrected in open loop)",
                                ("endpoint", "protocol"), snap.latency, bounds),
                 histogram_text("loadgen_executor_seconds", "Each Executor's span from the replies' routes",
                                ("executor",), snap.executors, bounds)]
        if snap.loop_lag:
            parts.append(histogram_text("loadgen_generator_loop_lag_seconds", "How late the load generator's event "
                                        "loop wakes", (), snap.loop_lag, bounds))
        self.rendered_generation = snap.generation
        return "".join(parts).encode("utf-8")

    def _bound_texts(self) -> tuple[str, ...]:
        if len(self._bounds) != len(self.buckets.bounds_s):
            self._bounds = tuple(repr(b) for b in self.buckets.bounds_s)
        return self._bounds

    def sent(self, scraper: str = "") -> None:
        """The reply of the latest :meth:`handle` went out to ``scraper`` (its User-Agent; the
        listener's ``on_sent``)."""
        self.served[scraper] = max(self.served.get(scraper, -1), self.rendered_generation)

    def handle(self, method: str, path: str) -> Response:
        """An HTTP request to the exporter (runs in the exporter's thread)."""
        if method not in ("GET", "HEAD"):
            return Response(status=405, body=b"GET /metrics\n", headers={"Allow": "GET, HEAD"})
        if path.split("?")[0] == "/favicon.ico":
            return Response(status=404, body=b"")
        return Response(status=200, body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


class _SnapshotCollector:
    """A prometheus_client collector that turns the exporter's snapshot into families."""

    def __init__(self, exporter: Exporter):
        self.exporter = exporter

    def collect(self) -> Iterator[Metric]:
        snap = self.exporter.snapshot
        yield _counter("loadgen_requests", "Requests sent and answered or failed", ("endpoint", "protocol"), snap.requests)
        yield _counter("loadgen_failures", "Failed requests by class", ("endpoint", "protocol", "kind"), snap.failures)
        if snap.users is not None:
            yield _gauge("loadgen_users", "Users running now", snap.users)
        if snap.open_loop:
            yield _counter("loadgen_late", "Sends that left after their scheduled time", ("endpoint", "protocol"),
                           snap.late)
            if snap.offered_rate is not None:
                yield _gauge("loadgen_offered_rate", "Requests per second the arrival schedule asks for now",
                             snap.offered_rate)
        yield from _server_families(snap.servers)


def _counter(name: str, doc: str, labels: tuple[str, ...], rows) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, count in rows:
        family.add_metric(list(values), count)
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def histogram_text(name: str, doc: str, label_names: tuple[str, ...], rows: tuple[HistogramRow, ...],
                   bounds: tuple[str, ...]) -> str:
    """A histogram family in Prometheus' text format (0.0.4), as prometheus_client writes it."""
    lines = [f"# HELP {name} {doc}", f"# TYPE {name} histogram"]
    for row in rows:
        labels = ",".join(f'{k}="{escape_label(v)}"' for k, v in zip(label_names, row.labels))
        head, sep = f"{name}_bucket{{{labels}", "," if labels else ""
        lines += [f'{head}{sep}le="{le}"}} {count}' for le, count in zip(bounds, row.cumulative)]
        lines.append(f'{head}{sep}le="+Inf"}} {row.total}')
        braces = f"{{{labels}}}" if labels else ""
        lines += [f"{name}_count{braces} {row.total}", f"{name}_sum{braces} {row.sum_s!r}"]
    return "\n".join(lines) + "\n"


def escape_label(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _server_families(readings: tuple[Reading, ...]) -> Iterator[Metric]:
    """The scraped families again, each sample labelled with its ``server``."""
    merged: dict[str, Metric] = {}
    for reading in readings:
        server = reading.source.split("//", 1)[-1].split("/", 1)[0]
        for family in reading.families:
            if family.name.startswith("loadgen_"):
                continue  # another loadgen's export: its names are ours
            out = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
            for sample in family.samples:
                if not sample.name.endswith("_created"):
                    out.add_sample(sample.name, {**sample.labels, "server": server}, sample.value)
    yield from merged.values()
