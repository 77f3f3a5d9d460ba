"""Distributed runs: workers ship their metrics as deltas, the master merges them exactly.

The master asks, the workers answer (:class:`Rounds`): at the end of each interval the master
sends every connected worker :data:`TICK_MESSAGE`, each worker answers at once with
:data:`REPORT_MESSAGE`, and the master flushes the interval when all have answered (or after
:data:`REPLY_WAIT_S`; a late answer counts in the next interval). So an interval holds one
delta per worker, covering the same stretch of time as the interval. (Locust's own reports
come every 3 s by each worker's clock: binned by their arrival, an interval held two deltas
of one worker or none, and its request rate was off by a worker's whole share -- a capacity
trial at 150 req/s read 124.) A worker also reports once more at ``test_stop`` and when the
warm-up ends.

A report carries the metrics measured since the worker's previous one (:func:`ship`;
HdrHistograms encoded: same bucket layout everywhere, so merging is exact addition). Master:
:func:`receive` merges each report into the current interval and remembers which worker sent
it (:class:`Fleet`).

Shutdown: Locust's own ``quit`` waits only 0.5 s for the workers' final reports, which a
busy worker can miss -- and with them up to 3 s of samples. :func:`finish_reports_before_quit`
makes the master stop the workers first and quit after; a stopping worker ships its last
report before it says it stopped (one ordered channel).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from loadgen.metrics import Metrics

REPORT_KEY = "loadgen_metrics"
TICK_MESSAGE = "loadgen_tick"  # master -> worker: report now (data: the round's number)
REPORT_MESSAGE = "loadgen_report"  # worker -> master: a report (data: a dict, ROUND_KEY among its keys)
ROUND_KEY = "loadgen_round"  # the round a report answers (None: at the worker's own initiative)
REPLY_WAIT_S = 1.0  # how long a master's interval waits for the workers' answers
# Locust's runner states with nothing to stop (locust.runners.STATE_INIT and STATE_STOPPED;
# tests/locust_adapter/test_seams.py checks them against Locust). This module imports without
# Locust -- importing locust monkey-patches the importing process -- so its seams are tested
# in the test process itself.
IDLE_STATES = ("ready", "stopped")


@dataclass
class Fleet:
    """The master's view of its workers: who reported, and whom Locust marked missing."""

    seen: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.seen.clear()
        self.lost.clear()

    def note_lost(self, runner: Any) -> None:
        """Remember workers Locust marked missing (it forgets them soon after); their
        reports so far stay merged, and the summary lists them as lost."""
        self.lost.update(client.id for client in runner.clients.missing)


class Rounds:
    """The master's report rounds: :meth:`ask` every connected worker, then :meth:`wait` until
    each has :meth:`answered` (or the time is up)."""

    def __init__(self) -> None:
        self.number = 0
        self.waiting: set[str] = set()
        self._all_in = threading.Event()  # gevent's in a Locust process (monkey-patched)

    def ask(self, runner: Any) -> None:
        """Start a round: send :data:`TICK_MESSAGE` to every worker Locust has not marked missing."""
        self.number += 1
        missing = {client.id for client in runner.clients.missing}
        self.waiting = {client.id for client in runner.clients.all} - missing
        self._all_in = threading.Event()
        for client_id in sorted(self.waiting):
            runner.send_message(TICK_MESSAGE, self.number, client_id=client_id)
        if not self.waiting:
            self._all_in.set()

    def answered(self, client_id: str, number: Optional[int]) -> None:
        """A report arrived (an answer to an earlier round, or none, changes nothing)."""
        if number == self.number:
            self.waiting.discard(client_id)
            if not self.waiting:
                self._all_in.set()

    def wait(self, timeout_s: float = REPLY_WAIT_S) -> bool:
        """True when every worker asked has answered within ``timeout_s`` s."""
        return self._all_in.wait(timeout_s)


def ship(intervals: Any, data: dict) -> None:
    """Worker: move the current interval's metrics of ``intervals`` into report ``data``."""
    data[REPORT_KEY] = intervals.take().encode()


def receive(intervals: Any, fleet: Fleet, client_id: str, data: dict) -> Optional[Metrics]:
    """Master: merge a worker's report into the current interval and return its metrics
    (reports without loadgen metrics, e.g. from a worker whose init failed, are ignored: None)."""
    if REPORT_KEY not in data:
        return None
    metrics = Metrics.decode(data[REPORT_KEY])
    intervals.current.merge(metrics)
    fleet.seen.add(client_id)
    return metrics


def finish_reports_before_quit(runner: Any, fleet: Fleet, *, message: Optional[Callable[..., Any]] = None) -> None:
    """Master: make ``runner.quit`` stop the workers first, so that their final reports
    arrive before the master quits. ``message``: Locust's ``rpc.Message`` (the default)."""
    if message is None:
        from locust.rpc import Message as message  # a running master has imported Locust already
    original = runner.quit

    def quit_after_final_reports() -> None:
        if runner.state not in IDLE_STATES:
            runner.stop()
        # A worker that said "client_stopped" has left runner.clients and, with --stop-timeout,
        # re-registers only after that timeout: Locust's quit would not reach it and it would
        # linger until its heartbeat to the gone master times out (about a minute).
        for client_id in fleet.seen - set(runner.clients):
            try:
                runner.server.send_to_client(message("quit", None, client_id))
            except Exception:  # noqa: BLE001 - a worker that is already gone
                pass
        original()

    runner.quit = quit_after_final_reports


def send_report(runner: Any, report: Callable[[], dict], number: Optional[int] = None) -> None:
    """Worker: send ``report()`` (the metrics since the previous report, and what travels with
    them) to the master, as the answer to round ``number``. Sent at ``test_stop`` too, it
    arrives before this worker's "client_stopped" (one ordered channel)."""
    runner.send_message(REPORT_MESSAGE, {**report(), ROUND_KEY: number})
