"""How a Locust run drives loadgen: :func:`register` and the event listeners.

Lifecycle (master/local process unless noted):

- ``init``: validate options (exit 2 on bad input), read ``--replay-file`` and ``--dataset``
  once, then :mod:`~loadgen.locust_adapter.bootstrap` (target, demo Flow, pre-index).
- ``test_start`` (every process): reset the metrics, start the run clock; on
  load-generating processes build the request pools (encoding happens here, never in a
  timed span), the open-loop turns and the replay share; on the master/local process start
  the time series and arm ``--duration`` and the end of a replay.
- each interval's end (master): every worker is asked for its metrics and answers at once
  (:mod:`~loadgen.locust_adapter.distributed`); Locust's own ``worker_report`` carries only its stats.
- ``test_stopping`` / ``test_stop``: stop the self-check (:mod:`~loadgen.locust_adapter.monitor`);
  at ``test_stop`` stop the clock (a worker ships its final report).
- ``quitting``: Locust fires it in reverse order of registration, so the master's own
  listener (which sends ``quit`` to the workers and waits for their final reports) has run
  before ours. We stop the embedded Flow and :mod:`~loadgen.locust_adapter.finish` the run.
- ``quit``: print loadgen's table after Locust's own.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional

import gevent
from locust.runners import STATE_INIT, STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner

from loadgen.errors import ConfigError, FlowError
from loadgen.locust_adapter import bootstrap, distributed, hdr_tab, observing, stats_rows, warmup
from loadgen.locust_adapter.finish import attempt, finish_run
from loadgen.locust_adapter.monitor import ProcessMonitor
from loadgen.locust_adapter.intervals import Ticker
from loadgen.locust_adapter.open_loop import turns_for
from loadgen.locust_adapter.options import add_arguments, read_options
from loadgen.locust_adapter.replay_feed import DONE_MESSAGE, DoneTracker, ReplayFeed, ReplayShare, check_replay
from loadgen.locust_adapter.session import Session, attach, current_session, session_of
from loadgen.locust_adapter.weblogin import install_login
from loadgen.replay import SentTally

log = logging.getLogger("loadgen")
REPLAY_SENT_KEY = "loadgen_replay_sent"  # a worker report's replay counts (SentTally.encode)
INFLIGHT_KEY = "loadgen_inflight"  # a worker report's requests in flight at that moment


def register(events: Any, *, kind: str = "image") -> None:
    """Wire loadgen's options and listeners into Locust; call once from a locustfile.

    :param events: ``locust.events``.
    :param kind: documents this locustfile sends: ``image`` or ``text``.
    """
    events.init_command_line_parser.add_listener(add_arguments)
    events.init.add_listener(lambda environment, runner=None, **_: _on_init(environment, runner, kind))
    events.test_start.add_listener(_on_test_start)
    events.test_stopping.add_listener(_on_test_stopping)
    events.test_stop.add_listener(_on_test_stop)
    events.worker_report.add_listener(_on_worker_report)
    events.quitting.add_listener(lambda environment, **_: _on_quitting(environment))
    # Locust prints its own final tables after `quitting`; ours go last, at `quit`.
    events.quit.add_listener(lambda **_: _print_report())


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error and exit (no traceback)."""
    print(f"loadgen: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# -- init ---------------------------------------------------------------------------------
def _on_init(environment: Any, runner: Any, kind: str) -> None:
    try:
        options = read_options(environment.parsed_options, kind=kind)
    except ConfigError as exc:
        fail(str(exc))
    session = Session(environment, kind=kind, options=options)
    session.stats_entry = stats_rows.entry
    attach(environment, session)
    if isinstance(runner, WorkerRunner):
        runner.register_message(warmup.END_MESSAGE, lambda **_: warmup.end(
            session, role="worker", send_report=lambda: _send_report(session)))
        runner.register_message(distributed.TICK_MESSAGE, lambda msg, **_: _send_report(session, msg.data))
        return  # the master sends the host and the options with the spawn message
    if isinstance(runner, MasterRunner):
        distributed.finish_reports_before_quit(runner, session.fleet)
        runner.register_message(distributed.REPORT_MESSAGE, lambda msg, **_: _take_report(session, msg.node_id, msg.data))
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is not None:
        hdr_tab.install(web_ui, session)
    try:
        if web_ui is not None and web_ui.web_login:
            install_login(web_ui)  # --web-login: LOADGEN_WEB_PASSWORD's user only
        observing.on_init(session)  # binds --prometheus-port before the Flow starts: in use = exit 2
        _prepare(session)
    except ConfigError as exc:
        bootstrap.stop_demo_flow(session)
        fail(str(exc))
    except FlowError as exc:
        fail(str(exc), code=1)
    except OSError as exc:
        bootstrap.stop_demo_flow(session)
        fail(f"{exc.strerror or exc}: {exc.filename or ''}", code=1)
    except BaseException:  # Ctrl-C while the Flow starts or pre-indexes: leave no Flow behind
        bootstrap.stop_demo_flow(session)
        raise


def _prepare(session: Session) -> None:
    """Everything that can fail before the load, in the order a user would fix it."""
    bootstrap.check_results_dir(session.options)
    session.load_validator()
    if session.options.replay is not None:
        session.replay_check = check_replay(session.options.replay)  # a bad line stops the run here
    bootstrap.read_dataset(session)
    bootstrap.resolve_target(session)
    bootstrap.preindex(session)


# -- test_start / test_stop -----------------------------------------------------------------
def _on_test_start(environment: Any, **_: Any) -> None:
    session = session_of(environment)
    runner = environment.runner
    session.intervals.reset()
    session.part_ms.clear()
    session.replay_sent = SentTally()
    session.workers_inflight.clear()
    session.fleet.reset()
    session.clock.start()
    if not isinstance(runner, WorkerRunner) and not _take_form_options(session, runner):
        return
    if isinstance(runner, WorkerRunner):
        # The master's values: without them a separate `locust --worker` process would send
        # its own defaults (e.g. the default --task-mix instead of the master's).
        session.use_options(read_options(environment.parsed_options, kind=session.kind))
        session.load_validator()
    session.phases.reset(session.options.warmup_s)
    if isinstance(runner, MasterRunner):
        # Travels to the workers with the spawn message: each paces 1/n of --arrival-rate and
        # takes every n-th replay line.
        environment.parsed_options.loadgen_processes = runner.worker_count
        if session.replay_check is not None:
            environment.parsed_options.loadgen_replay_lines = session.replay_check.requests
    else:
        _start_load_generation(session)
        _stop_monitor(session)
        session.monitor = ProcessMonitor(session.intervals)  # after the pools: building them is not load
    warmup.arm(session, role=_role(runner), send_report=lambda: _send_report(session),
               tell_workers=lambda: runner.send_message(warmup.END_MESSAGE))
    if not isinstance(runner, WorkerRunner):
        _start_series(session)
        observing.on_test_start(session)  # baseline scrape of the server's metrics
        _arm_stops(session, runner)
        if not getattr(environment, "loadgen_embedded", False):  # library runs handle signals themselves
            _route_sigint_to_sigterm()


def _take_form_options(session: Session, runner: Any) -> bool:
    """The options as the web UI's start form left them (checked as at init); False, the
    error logged and the run stopped, when they are bad."""
    before = session.options
    try:
        bootstrap.take_form_options(session)
        return True
    except ConfigError as exc:
        log.error("loadgen: %s; the run is stopped (fix the form and start again)", exc)
        session.use_options(before)
        gevent.spawn(runner.stop)
        return False


def _start_load_generation(session: Session) -> None:
    """A load-generating process: pools (unless replaying), open-loop turns, replay share."""
    index, processes = session.process_share()
    if session.options.replay is None:
        session.build_pools()
    session.turns = turns_for(session.options, index=index, processes=processes)
    session.replay.close()
    session.replay = ReplayShare()
    opts = session.options
    if opts.replay is None:
        return
    lines = getattr(session.environment.parsed_options, "loadgen_replay_lines", None) or session.replay_check.requests
    feed = ReplayFeed(opts.replay, payload=opts.payload, wire=session.target.wire, lines_per_pass=lines,
                      worker_index=index, worker_count=processes, executor=session.refill_threads(),
                      on_wait=session.record_data_wait)
    session.replay = ReplayShare(feed, on_done=lambda: _replay_done(session))


def _replay_done(session: Session) -> None:
    runner = session.environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message(DONE_MESSAGE)
    elif session.done_tracker is not None:
        session.done_tracker.process_done()


def _start_series(session: Session) -> None:
    """Open timeseries.csv/histograms.hlog and flush an interval every ``--report-interval``
    s (a master asks its workers for their figures first: :func:`_tick`)."""
    interval = session.options.report_interval_s
    session.phases.interval_s = interval  # the stability windows are whole intervals
    session.intervals.open_series(Path(session.options.results_dir))
    _stop_ticker(session)
    session.ticker = Ticker(interval, lambda: _tick(session))
    session.ticker.start()


def _stop_ticker(session: Session) -> None:
    if session.ticker is not None:
        session.ticker.stop()
        session.ticker = None


def _tick(session: Session) -> None:
    runner = session.environment.runner
    if isinstance(runner, MasterRunner):  # the interval ends when every worker has sent its delta
        session.rounds.ask(runner)
        session.rounds.wait()
    warmup.flush(session, local=not isinstance(runner, MasterRunner), gauges=_gauges(session, runner))
    observing.on_tick(session)  # after the flush: the exporter shows the interval just flushed
    if isinstance(runner, MasterRunner):
        session.fleet.note_lost(runner)


def _gauges(session: Session, runner: Any) -> dict[str, int]:
    """Users running and requests in flight at the end of an interval (the whole fleet: a
    master sums what its workers last reported)."""
    return {"users": int(getattr(runner, "user_count", 0) or 0),
            "inflight": session.inflight + sum(session.workers_inflight.values())}


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
        session.done_tracker = DoneTracker(session.environment, processes)
        if isinstance(runner, MasterRunner):
            runner.register_message(DONE_MESSAGE, session.done_tracker.process_done)


def _role(runner: Any) -> str:
    return "worker" if isinstance(runner, WorkerRunner) else "master" if isinstance(runner, MasterRunner) else "local"


def _stop_monitor(session: Session) -> None:
    """At ``test_stopping`` (stopping users is not load: killing them stalls the hub for
    hundreds of ms) or at the latest ``test_stop``; the last CPU time is shipped or flushed after."""
    if session.monitor is not None:
        session.monitor.stop()


def _on_test_stopping(environment: Any, **_: Any) -> None:
    session = session_of(environment)
    _stop_monitor(session)
    session.phases.stopping_s = session.clock.duration_s  # the load's end, for the stability windows


def _on_test_stop(environment: Any, **_: Any) -> None:
    session = session_of(environment)
    warmup.disarm(session)
    _stop_monitor(session)
    session.clock.stop()
    session.log_parts()  # before Locust's final tables and a worker's last stats report
    if isinstance(environment.runner, WorkerRunner):
        _send_report(session)


# -- reports between processes ----------------------------------------------------------------
def _send_report(session: Session, number: Optional[int] = None) -> None:
    """Worker: send the master :func:`_report` (as the answer to round ``number``, if any)."""
    distributed.send_report(session.environment.runner, lambda: _report(session), number)


def _report(session: Session) -> dict[str, Any]:
    """Worker: what it measured since its previous report, and what travels with it."""
    data: dict[str, Any] = {}
    session.log_parts()  # into Locust's rows: its next stats report carries them to the master
    distributed.ship(session.intervals, data)
    warmup.tag_report(session.phases, session.monitor, data)
    data[INFLIGHT_KEY] = session.inflight
    if session.replay_sent.entries:  # a delta, like the metrics
        sent, session.replay_sent = session.replay_sent, SentTally()
        data[REPLAY_SENT_KEY] = sent.encode()
    return data


def _take_report(session: Session, client_id: str, data: dict) -> None:
    """Master: a worker's report into the current interval, its phase and the gauges."""
    metrics = distributed.receive(session.intervals, session.fleet, client_id, data)
    warmup.route_report(session.phases, client_id, data, metrics)
    session.replay_sent.merge(SentTally.decode(data.get(REPLAY_SENT_KEY)))
    if INFLIGHT_KEY in data:
        session.workers_inflight[client_id] = int(data[INFLIGHT_KEY])
    session.rounds.answered(client_id, data.get(distributed.ROUND_KEY))


def _on_worker_report(client_id: str, data: dict, **_: Any) -> None:
    """Master: Locust's own report (its stats; loadgen's metrics come in :func:`_take_report`)."""
    session = current_session()
    if session is not None:
        stats_rows.prepare_report(session.environment.stats, data)  # before Locust's listener merges it


# -- the end ----------------------------------------------------------------------------------
def _on_quitting(environment: Any) -> None:
    session = getattr(environment, "loadgen", None)
    if session is None:
        return
    runner = environment.runner
    if isinstance(runner, LocalRunner) and runner.state not in (STATE_STOPPED, STATE_INIT):
        runner.quit()  # e.g. SIGTERM: stop the users first so that the summary is final
    observing.on_load_end(session)  # the server's last figures, while the demo Flow still runs
    # No user is running any more (the table should be the last output); what they left in
    # flight is drained first.
    bootstrap.stop_demo_flow(session, drain=True)
    session.stop_refills()
    if isinstance(runner, WorkerRunner):
        return
    session.clock.stop()
    if isinstance(runner, MasterRunner):
        session.fleet.note_lost(runner)
    _stop_ticker(session)
    attempt("cannot close timeseries.csv and histograms.hlog",
            lambda: warmup.flush(session, local=not isinstance(runner, MasterRunner), close=True))
    attempt("cannot finish the server metrics", lambda: observing.on_run_end(session))
    code = attempt("cannot summarize the run (no table, summary.json or report.html; exit code 1)",
                   lambda: finish_run(session, duration_s=session.clock.duration_s,
                                      users=getattr(runner, "target_user_count", None)))
    if code is None:  # nothing to judge the SLO gates by: never pass silently
        code = 1
    if code:
        environment.process_exit_code = code
    observing.after_finish(session)


def _print_report() -> None:
    session = current_session()
    if session is not None and session.report_text:
        print(session.report_text, flush=True)
