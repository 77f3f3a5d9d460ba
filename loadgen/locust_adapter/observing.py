"""Server metrics and the live Prometheus export inside a Locust run (master or single
process; a worker never scrapes nor exports).

- ``init``: bind ``--prometheus-port`` (a port in use stops the run: exit 2, one line) and
  serve it from a native thread (:mod:`loadgen.observe.rawhttp`; Locust's monkey-patched
  ``threading`` would make it a greenlet on the hub).
- ``test_start``: a :class:`~loadgen.observe.watch.ServerWatch` for ``--server-metrics``
  and the embedded demo Flow; its baseline readings are taken before the users start.
- every interval flush (:func:`on_tick`): the exporter takes the merged total (numbers only,
  well under 1 ms); one scrape round is handed to gevent's native thread pool and the hub
  goes on at once. A round still running at the next tick makes that tick skip (counted).
- the end (:func:`on_run_end`, after the last flush): a last round, ``server_metrics.csv``
  closed, the exporter's final update (so its counts equal ``summary.json``'s); after the
  files are written (:func:`after_finish`) the exporter waits up to ``--prometheus-linger``
  seconds for one scrape of those final figures, then stops.
"""
from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Optional

import gevent
from gevent.monkey import get_original

from loadgen.errors import ConfigError
from loadgen.observe.exporter import Exporter
from loadgen.observe.rawhttp import Listener, start_listener
from loadgen.observe.watch import ServerWatch

log = logging.getLogger("loadgen")
ROUND_WAIT_S = 30.0  # at most this long for a scrape round at the start and at the end


def _native_thread(target: Callable[[], None]) -> None:
    get_original("_thread", "start_new_thread")(target, ())


class Observer:
    """The server watch and the exporter of one run (``session.observer``)."""

    def __init__(self, session: Any):
        self.session = session
        self.options = session.options.observe
        self.exporter: Optional[Exporter] = None
        self.listener: Optional[Listener] = None
        self.watch: Optional[ServerWatch] = None
        self.summary: Optional[dict[str, Any]] = None
        self.servers: tuple = ()  # the server readings of a finished watch (the exporter's last page)
        self._round: Any = None  # the thread pool's result of the running scrape round
        self.skipped = 0  # ticks whose round was still running
        # Messages from the thread, logged on the hub: logging's locks are gevent's here.
        self._messages: deque[str] = deque()

    # -- init -----------------------------------------------------------------------------
    def start_exporter(self) -> None:
        """:raises ConfigError: the port is in use or the address is not this machine's."""
        opts = self.options
        self.exporter = Exporter()
        try:
            self.listener = start_listener(opts.prometheus_host, opts.prometheus_port, self.exporter.handle,
                                           start_thread=_native_thread, on_sent=self.exporter.sent)
        except OSError as exc:
            self.exporter = None
            raise ConfigError(f"--prometheus-port: cannot listen on {opts.prometheus_host}:{opts.prometheus_port} "
                              f"({exc.strerror or exc}); pick a free port or stop what uses it") from None
        log.info("live metrics for Prometheus at http://%s:%d/metrics", opts.prometheus_host, self.listener.port)

    # -- the run ----------------------------------------------------------------------------
    def begin(self) -> None:
        """A new run: the watch's discovery and baseline (waited for: no user runs yet)."""
        self.close_watch()
        opts, session = self.options, self.session
        pids = tuple(opts.flow_pids)
        if opts.auto and session.flow is not None and session.flow.proc.pid not in pids:
            pids += (session.flow.proc.pid,)
        if opts.urls or pids:
            self.watch = ServerWatch(urls=opts.urls, flow_pids=pids, metric_names=opts.metric_names,
                                     directory=Path(session.options.results_dir), timeout_s=opts.scrape_timeout_s,
                                     report=self._messages.append)
            self._in_thread(self.watch.start, session.intervals.started_at, wait=True)
        self.summary, self.skipped, self.servers = None, 0, ()

    def tick(self) -> None:
        """After an interval flush (on the hub: cheap, never waits)."""
        self._log_messages()
        if self.exporter is not None:
            self._update_exporter()
        if self.watch is None:
            return
        if self._round is not None and not self._round.ready():
            self.skipped += 1
            return
        if self._round is not None:
            self._outcome(self._round.get())
        self._round = self._in_thread(self.watch.collect)

    def last_round(self) -> None:
        """The load is over (before the embedded Flow stops): the last round, the table closed."""
        # Taken first: the ticker still runs while this waits, and a round it started now
        # would read the sources concurrently with the last one (counting an interval twice).
        watch, self.watch = self.watch, None
        if watch is not None:
            self.servers = tuple(watch.latest())
            self._wait_round()
            self._in_thread(watch.collect, wait=True)
            self.summary = self._in_thread(watch.close, wait=True)
            if self.summary is not None:
                self.summary["skipped_intervals"] = self.skipped
            self.servers = tuple(watch.latest())
        self._log_messages()

    def end(self) -> None:
        """After the last flush: the exporter's final update (its counts = summary.json's)."""
        self.last_round()
        if self.exporter is not None:
            self._update_exporter()

    def linger_and_stop(self) -> None:
        """Wait (up to ``--prometheus-linger`` s) until a scrape got the final figures, then stop serving."""
        if self.listener is None:
            return
        linger = self.options.prometheus_linger_s
        if linger > 0 and not self.exporter.final_figures_served:
            log.info("waiting up to %g s for Prometheus to scrape the final figures (--prometheus-linger)", linger)
            deadline = time.monotonic() + linger
            while not self.exporter.final_figures_served and time.monotonic() < deadline:
                gevent.sleep(0.05)
        self.listener.close()
        self.listener = None

    def close_watch(self) -> None:
        watch, self.watch = self.watch, None
        if watch is not None:
            self._wait_round()
            self._in_thread(watch.close, wait=True)

    # -- helpers ---------------------------------------------------------------------------------
    def _update_exporter(self) -> None:
        session, opts = self.session, self.session.options
        runner = session.environment.runner
        shape = opts.arrival_shape
        offered = shape.rate_at(session.clock.duration_s) if shape is not None else None
        servers = tuple(self.watch.latest()) if self.watch is not None else self.servers
        self.exporter.update(session.intervals.total, users=getattr(runner, "user_count", None),
                             offered_rate=offered, open_loop=shape is not None, servers=servers)

    def _wait_round(self) -> None:
        if self._round is not None:
            try:
                self._outcome(self._round.get(timeout=ROUND_WAIT_S))
            except gevent.Timeout:
                log.warning("server metrics: a scrape round did not finish within %g s", ROUND_WAIT_S)
            self._round = None

    def _in_thread(self, work: Callable[..., Any], *args: Any, wait: bool = False) -> Any:
        """``work(*args)`` in gevent's native thread pool; an error comes back as a
        :class:`Failed` value (logged here, on the hub), never raised: server metrics
        never fail the run."""
        def guarded() -> Any:
            try:
                return work(*args)
            except Exception as exc:  # noqa: BLE001 - reported by _outcome
                return Failed(f"{type(exc).__name__}: {exc}")
        result = gevent.get_hub().threadpool.spawn(guarded)
        if not wait:
            return result
        try:
            return self._outcome(result.get(timeout=ROUND_WAIT_S))
        except gevent.Timeout:
            log.warning("server metrics: %s did not finish within %g s", getattr(work, "__name__", "work"), ROUND_WAIT_S)
            return None

    def _outcome(self, value: Any) -> Any:
        self._log_messages()
        if isinstance(value, Failed):
            log.error("server metrics: %s", value.error)
            return None
        return value

    def _log_messages(self) -> None:
        while self._messages:
            log.warning(self._messages.popleft())


class Failed:
    """What :meth:`Observer._in_thread` returns when the work raised."""

    def __init__(self, error: str):
        self.error = error


# -- the listeners' calls (lifecycle.py) ------------------------------------------------------------
def on_init(session: Any) -> None:
    """Master/single process at ``init``. :raises ConfigError: ``--prometheus-port`` in use."""
    session.observer = Observer(session)
    if session.options.observe.prometheus_port:
        session.observer.start_exporter()


def on_test_start(session: Any) -> None:
    if session.observer is not None:
        session.observer.begin()


def on_tick(session: Any) -> None:
    if session.observer is not None:
        session.observer.tick()


def on_load_end(session: Any) -> None:
    """``quitting``, before the embedded Flow stops."""
    if session.observer is not None:
        session.observer.last_round()


def on_run_end(session: Any) -> None:
    if session.observer is not None:
        session.observer.end()


def after_finish(session: Any) -> None:
    if session.observer is not None:
        session.observer.linger_and_stop()


def summary_keys(session: Any) -> dict[str, Any]:
    """``{"server": ...}`` for ``summary.json`` when server metrics were scraped."""
    observer = getattr(session, "observer", None)
    return {"server": observer.summary} if observer is not None and observer.summary is not None else {}
