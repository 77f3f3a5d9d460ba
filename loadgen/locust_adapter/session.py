"""loadgen's state inside one Locust process: what a user calls to send, record and validate.

One :class:`Session` per Locust environment (``environment.loadgen``) holds the run's
options and target, the request pools, the open-loop turns
(:mod:`~loadgen.locust_adapter.open_loop`), this process's share of a replay file
(:mod:`~loadgen.locust_adapter.replay_feed`) and the metrics of the current interval
(:mod:`~loadgen.locust_adapter.intervals`). The listeners that create and drive it are in
:mod:`~loadgen.locust_adapter.lifecycle`; starting the target in
:mod:`~loadgen.locust_adapter.bootstrap`; the distributed merge in
:mod:`~loadgen.locust_adapter.distributed`; the end-of-run files in
:mod:`~loadgen.locust_adapter.finish`. See docs/architecture.md.
"""
from __future__ import annotations

import bisect
import itertools
import logging
import random
import time
from dataclasses import replace
from typing import Any, Optional

import gevent

from loadgen.breakdown import breakdown, timings
from loadgen.config import TargetConfig
from loadgen.datasets import open_dataset
from loadgen.documents import worker_seed
from loadgen.encoding import EncodedRequest
from loadgen.errors import ConfigError, ValidationError
from loadgen.locust_adapter.distributed import Fleet, Rounds
from loadgen.locust_adapter.intervals import Intervals, RunClock
from loadgen.locust_adapter.open_loop import CLOSED_LOOP, ClosedLoop, Turns
from loadgen.locust_adapter.options import RunOptions
from loadgen.locust_adapter.refills import refill_executor
from loadgen.locust_adapter.replay_feed import ReplayShare
from loadgen.locust_adapter.warmup import Phases
from loadgen.plugins import load_function
from loadgen.pools import PoolSet, build_pools
from loadgen.protocols import open_transport
from loadgen.replay import ReplayCheck, ReplayLine, SentTally
from loadgen.replies import truncate
from loadgen.results import Result

log = logging.getLogger("loadgen")

#: Most parts of one kind held back from Locust's rows: a full batch is logged at once. At
#: ~0.35-0.75 µs per value a batch blocks the hub well under the ~1 ms any periodic work
#: may take, whatever the rate (a whole interval of 1,000 req/s × 4 parts took 1.4 ms).
PART_BATCH = 256


class Session:
    """Options, target, pools and metrics of one Locust process (``environment.loadgen``)."""

    def __init__(self, environment: Any, *, kind: str, options: RunOptions):
        self.environment = environment
        self.kind = kind
        self.intervals = Intervals()  # the current interval (workers: since their last report) and the total
        self.clock = RunClock()  # test_start .. test_stop
        self.ticker: Any = None  # master/local: flushes an interval every --report-interval (intervals.Ticker)
        self.rounds = Rounds()  # master: the workers asked for their reports, and who answered
        self.fleet = Fleet()  # master: the workers that reported, and those Locust lost
        self.phases = Phases()  # --warmup: the warm-up's figures apart from the measured ones
        self.warmup_end: Any = None  # the greenlet that ends the warm-up
        self.monitor: Any = None  # load-generating processes: loop lag and CPU (monitor.ProcessMonitor)
        self.part_ms: dict[tuple[str, str], list[float]] = {}  # parts not yet in Locust's rows (log_parts)
        self.pools: Optional[PoolSet] = None
        self.turns: ClosedLoop | Turns = CLOSED_LOOP
        self.replay = ReplayShare()  # load-generating processes: this process's share of --replay-file
        self.done_tracker: Any = None  # master/local: stops the run when every share is used up
        self.replay_check: Optional[ReplayCheck] = None  # master/local: the replay file, read once
        self.replay_sent = SentTally()  # replay lines sent (a worker: since its last report; master: all)
        self.dataset_stats: Optional[dict[str, Any]] = None  # master/local: --dataset read once
        self.flow: Any = None  # the embedded demo Flow (loadgen.flowctl.FlowProcess), if started
        self.observer: Any = None  # master/local: server metrics and live export (locust_adapter.observing)
        self.validator: Any = None  # --validator's function (load-generating processes)
        self.refills: Any = None  # load-generating processes: native threads that refill dataset pools
        self.report_text = ""  # the final table, printed after Locust's own
        self.inflight = 0  # requests of this process inside a transport's send right now
        # (stats, name, request_type) -> the Locust stats entry to log into; lifecycle puts in
        # loadgen's own entries (stats_rows.entry: aligned rows, parts without req/s).
        self.stats_entry: Any = lambda stats, name, request_type: stats.get(name, request_type)
        self.workers_inflight: dict[str, int] = {}  # master: each worker's, as of its last report
        self.use_options(options)

    def use_options(self, options: RunOptions) -> None:
        """Take ``options`` and what derives from them (a worker gets the master's values
        with the spawn message, after its own ``init``)."""
        self.options = options
        self._rng = random.Random(options.payload.seed)
        self._endpoints = list(options.task_mix)
        self._weights = list(options.task_mix.values())
        # Random.choices(endpoints, weights)[0], without its per-call set-up (~5 µs in a
        # loaded process): the same draw from the same generator state.
        self._cum_weights = list(itertools.accumulate(self._weights))
        self._total_weight = self._cum_weights[-1] + 0.0 if self._cum_weights else 0.0

    # -- what users call ------------------------------------------------------------
    @property
    def target(self) -> TargetConfig:
        """The gateway, from Locust's host (set by ``--host``, the embedded Flow or the master)."""
        return TargetConfig.from_url(self.environment.host, default_protocol=self.options.protocol or "grpc",
                                     grpc_mode=self.options.grpc_mode, timeout_s=self.options.timeout_s,
                                     headers=self.options.headers)

    def open_transport(self):
        return open_transport(self.target)

    def pick_endpoint(self) -> str:
        """An endpoint drawn from ``--task-mix`` weights."""
        endpoints = self._endpoints
        if len(endpoints) == 1:
            return endpoints[0]  # nothing to draw (the generator serves no one else)
        return endpoints[bisect.bisect(self._cum_weights, self._rng.random() * self._total_weight, 0,
                                       len(endpoints) - 1)]

    def next_request(self, endpoint: str) -> EncodedRequest:
        if self.pools is None:
            self.build_pools()
        return self.pools.pools[endpoint].next()

    def record_unfinished(self, protocol: str, endpoint: str) -> None:
        """A request was sent but the run stopped (the user was killed) before its reply."""
        self.intervals.current.entry(protocol, endpoint).unfinished += 1

    def record(self, result: Result) -> None:
        """Account a result in the HDR metrics and fire Locust's ``request`` event; then its
        per-Executor breakdown (see :mod:`loadgen.breakdown`).

        Locust's table, CSV and charts get the latency a user would have experienced (ms): in
        open loop the corrected one, from the scheduled send time, as ``summary.json``'s
        ``latency_ms``; the uncorrected one stays in the HDR metrics (``latency_ms_uncorrected``)."""
        self.intervals.current.add(result)
        stats = self.environment.stats
        self.stats_entry(stats, result.endpoint, result.protocol)  # Locust logs the request into it
        self.environment.events.request.fire(
            request_type=result.protocol, name=result.endpoint, response_time=result.experienced_s * 1000.0,
            response_length=result.bytes_in, exception=result.error, context={},
        )
        parts = breakdown(result)
        if parts is None:
            return
        # Into Locust's per-entry stats (UI, CSV, worker reports) later, in batches
        # (log_parts), and never through the request event: these are parts of a request, and
        # must not inflate Locust's "Aggregated" request count or reach listeners that count requests.
        pending = self.part_ms
        for request_type, name, seconds in timings(parts):
            self.intervals.current.add_time(request_type, name, seconds)
            values = pending.get((request_type, name))
            if values is None:
                values = pending[(request_type, name)] = []
            values.append(seconds * 1000.0)
            if len(values) >= PART_BATCH:
                del pending[(request_type, name)]
                self.stats_entry(stats, name, request_type).log_many(values, time.time())

    def log_parts(self) -> None:
        """Log the parts recorded since the last call into Locust's rows (each a
        :class:`~loadgen.locust_adapter.stats_rows.PartEntry`), stamped now: at each report
        interval and when the load stops, so Locust's part rows are at most one interval
        behind (a kind that reaches :data:`PART_BATCH` values is logged by :meth:`record`)."""
        if not self.part_ms:
            return
        pending, self.part_ms = self.part_ms, {}
        now, stats = time.time(), self.environment.stats
        for (request_type, name), values in pending.items():
            self.stats_entry(stats, name, request_type).log_many(values, now)

    def count_replayed(self, line: ReplayLine) -> None:
        """A replay line's request was sent and its result recorded: count what it carried."""
        self.replay_sent.add(line, payload=self.options.payload)

    def refill_threads(self) -> Any:
        """The native threads that prepare data during the run (made on first use, after
        Locust forked its ``--processes``): see :mod:`~loadgen.locust_adapter.refills`."""
        if self.refills is None:
            self.refills = refill_executor()
        return self.refills

    def stop_refills(self) -> None:
        """End the replay producer and the refill threads once no user takes data any more
        (``quitting``): a library run's process goes on to other runs."""
        self.replay.close()
        if self.refills is not None:
            self.refills.shutdown(wait=False)
            self.refills = None

    def record_data_wait(self, seconds: float) -> None:
        """A user waited ``seconds`` for its request's data (a refill or the replay producer
        not ready), before the timed span: counted in ``summary.json`` ``dataset.waits``."""
        self.intervals.current.data_waits.add(seconds)

    def validate(self, result: Result) -> Result:
        """``result`` as ``--validator`` judges it (called after the timed span, successes
        only): a returned message, or an exception of the validator, makes it a
        ``validation`` failure."""
        try:
            message = self.validator(result, **self.options.validator_kwargs)
        except Exception as exc:  # noqa: BLE001 - user code must not kill the user greenlet
            message = f"{self.options.validator} raised {type(exc).__name__}: {exc}"
        if message is None:
            return result
        return replace(result, error=ValidationError(truncate(str(message))))

    # -- set-up of a load-generating process --------------------------------------------
    def process_share(self) -> tuple[int, int]:
        """``(index, count)`` of this load-generating process in the fleet (``(0, 1)`` alone):
        the master tells the workers how many they are with the spawn message's options."""
        index = getattr(self.environment.runner, "worker_index", 0) or 0
        count = max(1, int(getattr(self.environment.parsed_options, "loadgen_processes", 1) or 1))
        return index, count

    def open_dataset(self):
        """The ``--dataset`` of the run, or None for the random generators."""
        opts = self.options
        if not opts.dataset:
            return None
        return open_dataset(opts.dataset, image_shape=opts.image_shape_given, image_as=opts.image_as,
                            cache_dir=opts.dataset_cache or None, seed=opts.payload.seed,
                            kwargs=opts.dataset_kwargs)

    def load_validator(self) -> None:
        """Import ``--validator`` (user code) now: a bad name stops the run before any load."""
        spec = self.options.validator
        self.validator = load_function(spec, option="--validator") if spec else None

    def build_pools(self) -> None:
        index, processes = self.process_share()
        dataset = self.open_dataset()
        documents = None
        if dataset is not None:  # each process goes through its own disjoint share, pass after pass
            documents = lambda endpoint: dataset.endless(worker_index=index, workers=processes)  # noqa: E731
        self.pools = build_pools(self.options.payload, self._endpoints,
                                 seed=worker_seed(self.options.payload.seed, index), wire=self.target.wire,
                                 between=lambda: gevent.sleep(0), documents=documents,
                                 executor=self.refill_threads() if dataset is not None else None,
                                 on_wait=self.record_data_wait)
        for note in self.pools.notes:
            log.warning(note)
        log.info("request pools ready: %d requests, %.1f MiB", sum(len(p) for p in self.pools.pools.values()),
                 self.pools.nbytes / 2**20)


# Locust's worker_report and quit events carry no environment; one Locust
# process runs one environment at a time, so those listeners use the latest session.
_SESSIONS: list[Session] = []


def attach(environment: Any, session: Session) -> None:
    """Make ``session`` the environment's (``environment.loadgen``) and the current one."""
    environment.loadgen = session
    _SESSIONS.append(session)


def forget(environment: Any) -> None:
    """Drop the session of a finished run (library runs: the process goes on to other runs)."""
    session = getattr(environment, "loadgen", None)
    if session in _SESSIONS:
        _SESSIONS.remove(session)


def current_session() -> Optional[Session]:
    """The latest session of this process, or None before any ``init`` finished."""
    return _SESSIONS[-1] if _SESSIONS else None


def session_of(environment: Any) -> Session:
    session = getattr(environment, "loadgen", None)
    if session is None:
        raise ConfigError("loadgen is not registered: call loadgen.locust_adapter.register(events) in the locustfile")
    return session
