"""Open loop under Locust: each send waits for its scheduled time, whatever the server does.

The schedule itself is pure (:class:`loadgen.pacing.Pacer`); this module spends the waiting
on the gevent hub and, with ``--max-inflight``, holds the process's share of in-flight
slots. A send's lag behind its scheduled time is what the metrics add to its latency
(coordinated-omission correction; see docs/results.md). In closed loop the users get
:data:`CLOSED_LOOP`, whose turns are free.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import gevent
from gevent.lock import BoundedSemaphore

from loadgen.documents import worker_seed
from loadgen.pacing import Pacer


class ClosedLoop:
    """Closed loop: every turn is now, nothing to wait for."""

    def wait(self, weight: int = 1) -> None:
        return None

    def end(self) -> None:
        return None


CLOSED_LOOP = ClosedLoop()


class Turns:
    """Scheduled send times of one process, shared by its users.

    :param pacer: the process's schedule (its share of the fleet rate).
    :param slots: in-flight requests this process may have (0: as many as users).
    :param clock: seconds, the same clock the schedule is read against (``perf_counter``).
    :param sleep: how to wait (gevent's, so that other users run meanwhile).
    """

    def __init__(self, pacer: Pacer, *, slots: int = 0, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], Any] = gevent.sleep):
        self.pacer, self._clock, self._sleep = pacer, clock, sleep
        self._slots: Optional[BoundedSemaphore] = BoundedSemaphore(slots) if slots else None

    def wait(self, weight: int = 1) -> tuple[float, float]:
        """Sleep until the next scheduled send (and a free in-flight slot); returns
        ``(lag_s, interval_s)``: how late the send leaves its schedule (s, ≥ 0) and the
        arrival interval at that time (s)."""
        for _ in range(weight):  # a replay line of weight k takes k inter-arrival draws (Iago)
            ticket = self.pacer.next_ticket(self._clock())
        delay = ticket.at - self._clock()
        if delay > 0:
            self._sleep(delay)
        if self._slots is not None:
            self._slots.acquire()
        return max(0.0, self._clock() - ticket.at), ticket.interval_s

    def end(self) -> None:
        """The request of the last :meth:`wait` is done (its in-flight slot is free)."""
        if self._slots is not None:
            self._slots.release()


def turns_for(options: Any, *, index: int, processes: int) -> ClosedLoop | Turns:
    """Process ``index`` of ``processes`` paces 1/n of ``--arrival-rate`` and holds 1/n
    (rounded up) of ``--max-inflight``; closed loop without ``--arrival-rate``."""
    if options.arrival_shape is None:
        return CLOSED_LOOP
    pacer = Pacer(options.arrival_shape, share=1.0 / processes, arrival=options.arrival,
                  seed=worker_seed(options.payload.seed, index))
    slots = max(1, -(-options.max_inflight // processes)) if options.max_inflight else 0
    return Turns(pacer, slots=slots)
