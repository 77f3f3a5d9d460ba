"""Distributed runs: workers ship their metrics as deltas, the master merges them exactly.

Worker: at each of Locust's ``report_to_master`` events (every 3 s) and once more at
``test_stop``, :func:`ship` puts the metrics measured since its last report into the report
(HdrHistograms encoded: same bucket layout everywhere, so merging is exact addition) and
starts a new delta, as Locust's own stats do. Master: :func:`receive` merges each report
into the current interval and remembers which worker sent it (:class:`Fleet`).

Shutdown: Locust's own ``quit`` waits only 0.5 s for the workers' final reports, which a
busy worker can miss -- and with them up to 3 s of samples. :func:`finish_reports_before_quit`
makes the master stop the workers first and quit after; a stopping worker ships its last
report before it says it stopped (one ordered channel).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from loadgen.metrics import Metrics

REPORT_KEY = "loadgen_metrics"
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


def send_final_report(runner: Any) -> None:
    """Worker at ``test_stop``: ship what it measured since its last periodic report now;
    the master receives it before this worker's "client_stopped"."""
    runner._send_stats()  # Locust's own periodic report, sent once more
