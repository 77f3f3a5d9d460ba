"""loadgen's state inside one Locust process, and the event listeners that drive it.

Lifecycle (master/local process unless noted):

- ``init``: validate options (exit 2 on bad input); pick the protocol (``--host``'s scheme,
  else ``--protocol``, else the one the users pin, else grpc; a disagreement exits 2); with
  no ``--host`` start the embedded demo Flow with it, else probe the host; pre-index documents.
- ``test_start`` (every process): reset metrics, start the run clock; on load-generating
  processes build the request pools (encoding happens here, never in a timed span).
- ``report_to_master`` (worker) / ``worker_report`` (master): ship and merge metrics;
  workers send deltas, HDR histograms merge exactly.
- ``test_stop``: stop the clock. ``quitting``: Locust fires it in reverse order of
  registration, so the master's own listener (which sends ``quit`` to the workers and waits
  for their final reports) has run before ours. We stop the embedded Flow, write
  ``summary.json``, print the table and check ``--slo`` gates (exit code 3 on a violation).
"""
from __future__ import annotations

import logging
import os
import random
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import gevent
from gevent.lock import BoundedSemaphore
from locust.rpc import Message
from locust.runners import WORKER_REPORT_INTERVAL, STATE_INIT, STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner

from loadgen.breakdown import Breakdown, breakdown, timings
from loadgen.config import PROTOCOLS, TargetConfig, resolve_protocol
from loadgen.datasets import open_dataset, summary_line
from loadgen.documents import worker_seed
from loadgen.encoding import EncodedRequest, encode
from loadgen.errors import ConfigError, FlowError, ValidationError
from loadgen.plugins import load_function
from loadgen.replies import truncate
from loadgen.html_report import write_report
from loadgen.flowctl import FlowConfig, FlowProcess, start_flow
from loadgen.locust_adapter import webui
from loadgen.locust_adapter.weblogin import install_login
from loadgen.locust_adapter.replay_feed import DONE_MESSAGE, DoneTracker, ReplayFeed, check_replay
from loadgen.locust_adapter.options import RunOptions, add_arguments, read_options
from loadgen.metrics import Metrics
from loadgen.pacing import Pacer
from loadgen.pools import PoolSet, build_pools, request_specs
from loadgen.protocols import open_transport, probe
from loadgen.redact import redact_url
from loadgen.replay import ReplayCheck
from loadgen.reports import NO_ROUTES_NOTE, render_table, summarize
from loadgen.files import write_json_atomic
from loadgen.results import Result
from loadgen.slo import EXIT_CODE as SLO_EXIT_CODE, evaluate
from loadgen.timeseries import TimeSeriesWriter

log = logging.getLogger("loadgen")
AUTO_PREINDEX_DOCS = 1000
REPORT_KEY = "loadgen_metrics"


class Session:
    """Options, target, pools and metrics of one Locust process (``environment.loadgen``)."""

    def __init__(self, environment: Any, *, kind: str, options: RunOptions):
        self.environment = environment
        self.kind = kind
        self.metrics = Metrics()  # the current interval (workers: since their last report)
        self.total = Metrics()  # everything flushed so far (master/local)
        self.series: Optional[TimeSeriesWriter] = None
        self._ticker: Any = None
        self._interval_start = time.time()
        self.pools: Optional[PoolSet] = None
        self.replay_check: Optional[ReplayCheck] = None  # master/local: the file read once
        self.dataset_stats: Optional[dict[str, Any]] = None  # master/local: --dataset read once
        self.replay: Optional[ReplayFeed] = None  # load-generating processes
        self._replay_inflight = 0
        self._replay_done = False
        self._done_tracker: Optional[DoneTracker] = None
        self.pacer: Optional[Pacer] = None  # open loop only
        self._slots: Any = None  # open loop with --max-inflight: a gevent semaphore
        self.flow: Optional[FlowProcess] = None
        self.validator: Any = None  # --validator's function (load-generating processes)
        self.report_text = ""  # the final table, printed after Locust's own
        self.workers_seen: set[str] = set()  # client ids that sent a report (master only)
        self.workers_lost: set[str] = set()  # client ids Locust marked missing (master only)
        self._started: Optional[float] = None
        self._duration_s = 0.0
        self.use_options(options)

    def use_options(self, options: RunOptions) -> None:
        """Take ``options`` and what derives from them (a worker gets the master's values
        with the spawn message, after its own ``init``)."""
        self.options = options
        self._rng = random.Random(options.payload.seed)
        self._endpoints = list(options.task_mix)
        self._weights = list(options.task_mix.values())

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
        return self._rng.choices(self._endpoints, self._weights)[0]

    def next_request(self, endpoint: str) -> EncodedRequest:
        if self.pools is None:
            self.build_pools()
        return self.pools.pools[endpoint].next()

    def wait_turn(self, weight: int = 1) -> Optional[tuple[float, float]]:
        """Open loop: sleep until the next scheduled send time (and a free in-flight slot);
        returns ``(lag_s, interval_s)``: how late the send leaves and the arrival interval. Closed loop:
        returns None at once."""
        if self.pacer is None:
            return None
        for _ in range(weight):  # a line of weight k takes k inter-arrival draws (Iago)
            ticket = self.pacer.next_ticket(time.perf_counter())
        delay = ticket.at - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        if self._slots is not None:
            self._slots.acquire()
        return max(0.0, time.perf_counter() - ticket.at), ticket.interval_s

    def end_turn(self) -> None:
        if self._slots is not None:
            self._slots.release()

    def start_replay(self) -> None:
        """Load-generating processes: open this process's share of ``--replay-file``."""
        opts = self.options
        if self.replay is not None:
            self.replay.close()
        self.replay, self._replay_inflight, self._replay_done = None, 0, False
        if opts.replay is None:
            return
        parsed, runner = self.environment.parsed_options, self.environment.runner
        lines = getattr(parsed, "loadgen_replay_lines", None) or self.replay_check.requests
        self.replay = ReplayFeed(opts.replay, payload=opts.payload, wire=self.target.wire, lines_per_pass=lines,
                                 worker_index=getattr(runner, "worker_index", 0) or 0,
                                 worker_count=max(1, int(getattr(parsed, "loadgen_processes", 1) or 1)))

    def replay_next(self):
        """The next (line, request) of this process's share, or None when it is used up."""
        item = self.replay.next() if self.replay is not None else None
        if item is None:
            self._check_replay_done()
        else:
            self._replay_inflight += 1
        return item

    def replay_sent(self) -> None:
        self._replay_inflight -= 1

    def _check_replay_done(self) -> None:
        # The last user to find the share used up, with nothing in flight, reports it once.
        if self._replay_done or self._replay_inflight:
            return
        self._replay_done = True
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(DONE_MESSAGE)
        elif self._done_tracker is not None:
            self._done_tracker.process_done()

    def record_unfinished(self, protocol: str, endpoint: str) -> None:
        """A request was sent but the run stopped (the user was killed) before its reply."""
        self.metrics.entry(protocol, endpoint).unfinished += 1

    def record(self, result: Result) -> None:
        """Account a result in the HDR metrics and fire Locust's ``request`` event; then its
        per-Executor breakdown (see :mod:`loadgen.breakdown`)."""
        self.metrics.add(result)
        self.environment.events.request.fire(
            request_type=result.protocol, name=result.endpoint, response_time=result.latency_s * 1000.0,
            response_length=result.bytes_in, exception=result.error, context={},
        )
        parts = breakdown(result)
        if parts is not None:
            self._record_breakdown(parts)

    def _record_breakdown(self, parts: Breakdown) -> None:
        # Logged into Locust's per-entry stats (UI, CSV, worker reports) but not through the
        # request event: these are parts of a request, and must not inflate Locust's
        # "Aggregated" request count or reach listeners that count requests.
        stats = self.environment.stats
        for request_type, name, seconds in timings(parts):
            self.metrics.add_time(request_type, name, seconds)
            stats.get(name, request_type).log(seconds * 1000.0, 0)

    # -- lifecycle ------------------------------------------------------------------
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

    def build_pools(self) -> None:
        runner = self.environment.runner
        index = getattr(runner, "worker_index", 0) or 0
        processes = max(1, int(getattr(self.environment.parsed_options, "loadgen_processes", 1) or 1))
        dataset = self.open_dataset()
        documents = None
        if dataset is not None:  # each process goes through its own disjoint share, pass after pass
            documents = lambda endpoint: dataset.endless(worker_index=index, workers=processes)  # noqa: E731
        self.pools = build_pools(self.options.payload, self._endpoints,
                                 seed=worker_seed(self.options.payload.seed, index), wire=self.target.wire,
                                 between=lambda: gevent.sleep(0), documents=documents)
        for note in self.pools.notes:
            log.warning(note)
        log.info("request pools ready: %d requests, %.1f MiB", sum(len(p) for p in self.pools.pools.values()),
                 self.pools.nbytes / 2**20)

    def start_clock(self) -> None:
        self.metrics, self.total = Metrics(), Metrics()
        self.workers_seen.clear()
        self.workers_lost.clear()
        self._started = time.perf_counter()
        self._interval_start = time.time()

    def stop_clock(self) -> None:
        if self._started is not None:
            self._duration_s = time.perf_counter() - self._started
            self._started = None

    def start_pacing(self) -> None:
        """Open loop: pace this process's share of ``--arrival-rate`` (the master tells the
        workers how many they are, in the spawn message's options)."""
        opts = self.options
        self.pacer, self._slots = None, None
        if opts.arrival_shape is None:
            return
        processes = max(1, int(getattr(self.environment.parsed_options, "loadgen_processes", 1) or 1))
        index = getattr(self.environment.runner, "worker_index", 0) or 0
        self.pacer = Pacer(opts.arrival_shape, share=1.0 / processes, arrival=opts.arrival,
                           seed=worker_seed(opts.payload.seed, index))
        if opts.max_inflight:
            self._slots = BoundedSemaphore(max(1, -(-opts.max_inflight // processes)))

    def start_series(self) -> None:
        """Open timeseries.csv/histograms.hlog and flush an interval every
        ``--report-interval`` s (on a master at least Locust's worker report period)."""
        interval = self.options.report_interval_s
        if isinstance(self.environment.runner, MasterRunner):
            interval = max(interval, WORKER_REPORT_INTERVAL)
        self.close_series()
        try:
            self.series = TimeSeriesWriter(Path(self.options.results_dir), start_epoch=self._interval_start)
        except OSError as exc:
            log.error("cannot write the time series to %s: %s", self.options.results_dir, exc)
        self._ticker = gevent.spawn(self._tick, interval)

    def _tick(self, interval: float) -> None:
        while True:
            gevent.sleep(interval)
            self.flush_interval()
            self.note_lost_workers()

    def note_lost_workers(self) -> None:
        """Master: remember workers Locust marked missing (it forgets them soon after); their
        reports so far stay merged, and the summary lists them as lost."""
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            self.workers_lost.update(client.id for client in runner.clients.missing)

    def flush_interval(self) -> None:
        """Move the current interval into the total and write its time-series rows."""
        now = time.time()
        if self.series is not None and self.metrics.entries:
            try:
                self.series.write_interval(self.metrics, start_epoch=self._interval_start, end_epoch=now)
            except OSError as exc:  # e.g. a full disk: keep measuring, say so once
                log.error("time series stopped: %s", exc)
                self.series = None
        self.total.merge(self.metrics)
        self.metrics, self._interval_start = Metrics(), now

    def close_series(self) -> None:
        if self._ticker is not None:
            self._ticker.kill(block=True)
            self._ticker = None
        self.flush_interval()
        if self.series is not None:
            try:
                self.series.close()
            except OSError as exc:  # the last buffered rows did not fit (e.g. a full disk)
                log.error("time series incomplete: %s", exc)
            self.series = None

    @property
    def duration_s(self) -> float:
        """Seconds from test start to test stop (so far, while running)."""
        return time.perf_counter() - self._started if self._started is not None else self._duration_s

    def summary(self) -> dict[str, Any]:
        runner = self.environment.runner
        run = {
            "target": redact_url(self.environment.host or ""), "protocol": self.options.protocol,
            "grpc_mode": self.options.grpc_mode, "kind": self.kind,
            "request_size": self.options.payload.request_size, "top_k": self.options.payload.top_k,
            "task_mix": self.options.task_mix, "users": getattr(runner, "target_user_count", None),
            "workers": len(self.workers_seen), "workers_lost": sorted(self.workers_lost), **self._load_model(),
        }
        if self.dataset_stats is not None:
            run["dataset"] = self.dataset_stats
        if self.options.payload.match_field:
            run["match_field"] = self.options.payload.match_field
        if self.options.replay is not None and self.replay_check is not None:
            run["replay"] = {"file": self.options.replay.path, "lines_per_pass": self.replay_check.requests,
                             "bad_lines_skipped": self.replay_check.bad_lines}
        if self.options.protocol == "http":
            run["executors_note"] = NO_ROUTES_NOTE
        if self.options.headers:  # names only: the values are credentials
            run["headers"] = [name for name, _ in self.options.headers]
        return summarize(self.total, duration_s=self.duration_s, run=run)


    def _load_model(self) -> dict[str, Any]:
        opts = self.options
        if opts.arrival_shape is None:
            return {"load_model": "closed"}
        return {"load_model": "open", "arrival": {"rate": opts.arrival_rate, "process": opts.arrival,
                                                  "max_inflight": opts.max_inflight or None}}


def session_of(environment: Any) -> Session:
    session = getattr(environment, "loadgen", None)
    if session is None:
        raise ConfigError("loadgen is not registered: call loadgen.locust_adapter.register(events) in the locustfile")
    return session


def fail(message: str, code: int = 2) -> None:
    """Print a one-line error and exit (no traceback)."""
    print(f"loadgen: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def register(events: Any, *, kind: str = "image") -> None:
    """Wire loadgen's options and listeners into Locust; call once from a locustfile.

    :param events: ``locust.events``.
    :param kind: documents this locustfile sends: ``image`` or ``text``.
    """
    events.init_command_line_parser.add_listener(add_arguments)
    events.init.add_listener(lambda environment, runner=None, **_: _on_init(environment, runner, kind))
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.report_to_master.add_listener(_on_report_to_master)
    events.worker_report.add_listener(_on_worker_report)
    events.quitting.add_listener(lambda environment, **_: _on_quitting(environment))
    # Locust prints its own final tables after `quitting`; ours go last, at `quit`.
    events.quit.add_listener(lambda **_: _print_report())


# Locust's report_to_master/worker_report/quit events carry no environment; one Locust
# process runs one environment, so the listeners use the latest session.
_SESSIONS: list[Session] = []


def _on_init(environment: Any, runner: Any, kind: str) -> None:
    try:
        options = read_options(environment.parsed_options, kind=kind)
    except ConfigError as exc:
        fail(str(exc))
    session = Session(environment, kind=kind, options=options)
    environment.loadgen = session
    _SESSIONS.append(session)
    if isinstance(runner, WorkerRunner):
        return  # the master sends the host and the options with the spawn message
    if isinstance(runner, MasterRunner):
        _finish_reports_before_quit(runner, session)
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is not None:
        webui.install(web_ui, session)
    try:
        if web_ui is not None and web_ui.web_login:
            install_login(web_ui)  # --web-login: LOADGEN_WEB_PASSWORD's user only
        session.load_validator()
        if options.replay is not None:
            session.replay_check = check_replay(options.replay)  # a bad line stops the run here
        dataset = session.open_dataset()
        if dataset is not None:  # read once up front: a bad file stops the run before any load
            session.dataset_stats = dataset.stats()
            log.info("dataset: %s", summary_line(session.dataset_stats))
        _resolve_target(session)
        _preindex(session)
    except ConfigError as exc:
        _stop_flow(session)
        fail(str(exc))
    except FlowError as exc:
        fail(str(exc), code=1)
    except OSError as exc:
        _stop_flow(session)
        fail(f"{exc.strerror or exc}: {exc.filename or ''}", code=1)
    except BaseException:  # Ctrl-C while the Flow starts or pre-indexes: leave no Flow behind
        _stop_flow(session)
        raise


def _resolve_target(session: Session) -> None:
    env = session.environment
    protocol = resolve_protocol(host=env.host or "", requested=session.options.protocol,
                                pinned=_pinned_protocols(env))
    session.options = opts = replace(session.options, protocol=protocol)
    if not env.host:
        config = FlowConfig(flow=opts.flow, protocol=opts.protocol, replicas=opts.flow_replicas,
                            shards=opts.flow_shards, top_k=opts.payload.top_k)
        log.info("no --host given: starting the demo Flow %r (%s) ...", config.flow, config.protocol)
        session.flow = start_flow(config, log_dir=Path(opts.results_dir))
        env.host = session.flow.target.url
        log.info("demo Flow ready at %s (log: %s)", env.host, session.flow.log_path)
        return
    target = session.target  # raises ConfigError for a malformed --host
    _keep_headers(session, target.headers)
    # With its scheme (workers take the protocol from the host they are sent) and without a
    # user:password, which Locust would show in its web UI and reports.
    env.host = target.url
    if not opts.skip_host_check:
        reason = probe(target, timeout_s=min(5.0, opts.timeout_s))
        if reason is not None:
            raise ConfigError(f"--host {env.host}: no Jina gateway answers ({reason}); start one with "
                              f"`loadgen flow up`, fix --host, or omit --host to use the demo Flow")


def _keep_headers(session: Session, headers: tuple[tuple[str, str], ...]) -> None:
    """Keep the target's headers (``--header``, plus ``--host``'s ``user:password`` as an
    ``Authorization`` header) in the options once the host loses its password: the master's
    parsed options travel to the workers with the spawn message."""
    if headers != session.options.headers:
        session.environment.parsed_options.header = [f"{name}: {value}" for name, value in headers]
        session.options = replace(session.options, headers=headers)


def _pinned_protocols(environment: Any) -> set[str]:
    """Protocols the locustfile's users pin (``JinaGrpcUser`` ...); ``JinaUser`` pins none."""
    return {cls.protocol for cls in environment.user_classes or () if getattr(cls, "protocol", None) in PROTOCOLS}


def _preindex(session: Session) -> None:
    opts = session.options
    count = opts.preindex_docs
    if count is None:
        count = AUTO_PREINDEX_DOCS if session.flow is not None else 0
    if count <= 0:
        return
    payload = opts.payload
    dataset = session.open_dataset()  # real data is indexed from the data itself
    specs = request_specs(payload, "/index", seed=worker_seed(payload.seed, 999_983),
                          documents=dataset.endless() if dataset is not None else None)
    started, wire = time.perf_counter(), session.target.wire
    with session.open_transport() as transport:
        for _ in range(-(-count // payload.request_size)):
            result = transport.send(encode(next(specs), wire=wire))
            if result.error is not None:
                raise ConfigError(f"--preindex-docs: indexing at {session.environment.host} failed: {result.error}")
    log.info("pre-indexed %d documents in %.1f s", count, time.perf_counter() - started)


def _on_test_start(environment: Any, **_: Any) -> None:
    session = session_of(environment)
    session.start_clock()
    if not isinstance(environment.runner, WorkerRunner):
        session.start_series()
    if isinstance(environment.runner, WorkerRunner):
        # The master's values: without them a separate `locust --worker` process would send
        # its own defaults (e.g. the default --task-mix instead of the master's).
        session.use_options(read_options(environment.parsed_options, kind=session.kind))
        session.load_validator()
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        # Travels to the workers with the spawn message: each paces 1/n of --arrival-rate and
        # takes every n-th replay line.
        environment.parsed_options.loadgen_processes = runner.worker_count
        if session.replay_check is not None:
            environment.parsed_options.loadgen_replay_lines = session.replay_check.requests
    else:
        if session.options.replay is None:
            session.build_pools()
        session.start_pacing()
        session.start_replay()
    if not isinstance(runner, WorkerRunner):
        _arm_stops(session, runner)
        if not getattr(environment, "loadgen_embedded", False):  # library runs handle signals themselves
            _route_sigint_to_sigterm()


def _route_sigint_to_sigterm() -> None:
    """Ctrl-C takes Locust's SIGTERM path (installed by then): a clean shutdown in a greenlet of
    its own. Python's default would raise KeyboardInterrupt inside whichever user greenlet runs
    at that instant, printing its traceback."""
    gevent.signal_handler(signal.SIGINT, lambda: os.kill(os.getpid(), signal.SIGTERM))


def _arm_stops(session: Session, runner: Any) -> None:
    """``--duration`` and the end of a replay stop the run (master or single process)."""
    if session.options.duration_s:
        gevent.spawn_later(session.options.duration_s, runner.quit)
    if session.options.replay is not None:
        processes = runner.worker_count if isinstance(runner, MasterRunner) else 1
        session._done_tracker = DoneTracker(session.environment, processes)
        if isinstance(runner, MasterRunner):
            runner.register_message(DONE_MESSAGE, session._done_tracker.process_done)


def _on_test_stop(environment: Any, **_: Any) -> None:
    session_of(environment).stop_clock()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # Ship what this worker measured since its last periodic report now: the master
        # receives it before this worker's "client_stopped" (one ordered channel).
        runner._send_stats()


def _finish_reports_before_quit(runner: Any, session: Session) -> None:
    """Master: make ``quit`` stop the workers first and wait for them (Locust's own ``quit``
    waits only 0.5 s for final reports, which a busy worker can miss — and with them up to
    3 s of samples). A stopping worker ships its last report before it says it stopped."""
    original = runner.quit

    def quit_after_final_reports() -> None:
        if runner.state not in (STATE_INIT, STATE_STOPPED):
            runner.stop()
        # A worker that said "client_stopped" has left runner.clients and, with --stop-timeout,
        # re-registers only after that timeout: Locust's quit would not reach it and it would
        # linger until its heartbeat to the gone master times out (about a minute).
        for client_id in session.workers_seen - set(runner.clients):
            try:
                runner.server.send_to_client(Message("quit", None, client_id))
            except Exception:  # noqa: BLE001 - a worker that is already gone
                pass
        original()

    runner.quit = quit_after_final_reports


def forget(environment: Any) -> None:
    """Drop the session of a finished run (library runs: the process goes on to other runs)."""
    session = getattr(environment, "loadgen", None)
    if session in _SESSIONS:
        _SESSIONS.remove(session)


def _on_report_to_master(client_id: str, data: dict, **_: Any) -> None:
    if not _SESSIONS:
        return  # a report before init finished (e.g. init failed): nothing measured yet
    session = _SESSIONS[-1]
    data[REPORT_KEY] = session.metrics.encode()
    session.metrics = Metrics()  # workers ship deltas, as Locust's own stats do


def _on_worker_report(client_id: str, data: dict, **_: Any) -> None:
    if REPORT_KEY in data and _SESSIONS:
        session = _SESSIONS[-1]
        session.metrics.merge(Metrics.decode(data[REPORT_KEY]))
        session.workers_seen.add(client_id)


def _on_quitting(environment: Any) -> None:
    session = getattr(environment, "loadgen", None)
    if session is None:
        return
    runner = environment.runner
    if isinstance(runner, LocalRunner) and runner.state not in (STATE_STOPPED, STATE_INIT):
        runner.quit()  # e.g. SIGTERM: stop the users first so that the summary is final
    _stop_flow(session)  # no user is running any more; the table should be the last output
    if isinstance(runner, WorkerRunner):
        return
    session.stop_clock()
    session.note_lost_workers()
    session.close_series()
    summary = session.summary()
    verdicts = [evaluate(slo, summary) for slo in session.options.slos]
    summary["slo"] = [{"slo": v.slo.text, "passed": v.passed, "actual": v.actual} for v in verdicts]
    lines = ["", "jina-loadgen summary (HdrHistogram, successful requests; latency in ms)", render_table(summary)]
    lines.append(_write_summary(session, summary))
    if verdicts:
        lines += ["", "SLO gates (merged over all workers):", *(f"  {v.line}" for v in verdicts)]
    session.report_text = "\n".join(lines)
    if not all(v.passed for v in verdicts):
        session.environment.process_exit_code = SLO_EXIT_CODE


def _write_summary(session: Session, summary: dict[str, Any]) -> str:
    """Write summary.json, then report.html from the run's files; returns the line that says
    where (or why not: the load is over, so a full disk costs the files, not the run)."""
    directory = Path(session.options.results_dir)
    try:
        path = write_json_atomic(directory / "summary.json", summary)
        write_report(directory)
    except OSError as exc:
        print(f"loadgen: error: cannot write the results to {directory}: {exc}", file=sys.stderr, flush=True)
        return "results NOT fully written (see the error above)"
    return f"summary written to {path} (report: {directory / 'report.html'})"


def _print_report() -> None:
    session = _SESSIONS[-1] if _SESSIONS else None
    if session is not None and session.report_text:
        print(session.report_text, flush=True)

def _stop_flow(session: Session) -> None:
    if session.flow is not None:
        log.info("stopping the demo Flow ...")
        session.flow.stop()
        session.flow = None
