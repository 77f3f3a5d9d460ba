"""The one record that flows from a transport to metrics, reports and Locust events.

See docs/architecture.md for the pipeline. Times: ``started_at`` is wall-clock epoch
seconds (for time series); ``latency_s`` is a ``time.perf_counter`` difference in seconds
covering exactly the span documented by the transport that produced it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from loadgen.errors import RequestFailure


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of a reply's routes: who handled the request and when (epoch seconds).

    For an Executor, the span runs from the gateway sending to it until the gateway received
    its reply (so it includes that hop's network and (de)serialization). ``end_s`` is None
    when the gateway skipped the Executor.
    """

    executor: str
    start_s: float
    end_s: Optional[float]

    @property
    def duration_s(self) -> Optional[float]:
        return None if self.end_s is None else self.end_s - self.start_s


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of one request.

    :param endpoint: the Jina endpoint, e.g. ``/search``.
    :param protocol: ``grpc``, ``websocket`` or ``http`` (the Locust request_type).
    :param started_at: epoch seconds when the request was handed to the transport.
    :param latency_s: seconds from send to complete reply (see the transport's docstring).
    :param bytes_out: request bytes put on the wire.
    :param bytes_in: reply bytes received (0 on failure without reply).
    :param docs_sent: documents in the request.
    :param docs_returned: documents in the reply.
    :param routes: the reply's routes (empty when unavailable).
    :param error: the failure, or None for a success.
    :param schedule_lag_s: open loop only: seconds from the scheduled send time to the actual
        send (None in closed loop). The corrected latency is ``latency_s + schedule_lag_s``.
    :param late: open loop only: sent more than one arrival interval after its schedule.
    :param match_values: with ``--match-field``: ``(value, count)`` of that field over the
        reply's matches (values as text).
    """

    endpoint: str
    protocol: str
    started_at: float
    latency_s: float
    bytes_out: int
    bytes_in: int = 0
    docs_sent: int = 0
    docs_returned: int = 0
    routes: tuple[Route, ...] = ()
    error: Optional[RequestFailure] = None
    schedule_lag_s: Optional[float] = None
    late: bool = False
    match_values: tuple[tuple[str, int], ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def experienced_s(self) -> float:
        """Seconds a user would have waited: ``latency_s`` plus, in open loop, the lag behind
        the scheduled send time (the coordinated-omission-corrected latency)."""
        return self.latency_s if self.schedule_lag_s is None else self.latency_s + self.schedule_lag_s
