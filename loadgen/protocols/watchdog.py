"""One timer for every overdue reply of a process, instead of one timer per receive.

A blocking receive with a timeout arms a timer and cancels it once per request: under gevent
that is a timer watcher and its bookkeeping on the hub for every reply (measured ~25 µs per
websocket request at ~300 req/s, docs/performance.md). A :class:`Watchdog` keeps the
deadlines of the receives in flight in a dict instead (a set and a pop per request) and
sweeps it every ``period_s`` from a thread of its own (a greenlet under gevent's
monkey-patching): each overdue receive's ``expire`` is called once, and the transport makes
its blocked receive fail (e.g. by shutting its socket down). So a reply is failed as a
timeout between its deadline and ``period_s`` after it.

``threading`` and ``time.sleep`` are looked up when used, not at import: under gevent they
are the patched ones, whatever was imported first. A forked child (Locust's ``--processes``)
starts its own sweeper on first use.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Optional


class Watchdog:
    """Deadlines (``time.perf_counter`` seconds) of receives in flight, swept every ``period_s`` s.

    :param clock: a monotonic clock in s (tests pass a fake one).
    """

    def __init__(self, *, period_s: float, clock: Callable[[], float] = time.perf_counter):
        self.period_s, self._clock = period_s, clock
        self._watched: dict[Any, tuple[float, Callable[[], Any]]] = {}
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def watch(self, key: Any, deadline: float, expire: Callable[[], Any]) -> None:
        """Call ``expire()`` if ``key`` is still watched after ``deadline``."""
        self._watched[key] = (deadline, expire)
        if self._thread is None:
            self._start()

    def unwatch(self, key: Any) -> None:
        self._watched.pop(key, None)

    def sweep(self) -> int:
        """Expire every overdue key (each once: it is no longer watched); how many expired."""
        now, expired = self._clock(), 0
        for key in list(self._watched):
            current = self._watched.get(key)  # as watched now: it may have been re-watched meanwhile
            if current is not None and current[0] <= now:
                del self._watched[key]
                current[1]()
                expired += 1
        return expired

    def _run(self) -> None:
        while True:
            time.sleep(self.period_s)
            self.sweep()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="loadgen-watchdog", daemon=True)
                self._thread.start()

    def _forget(self) -> None:
        """In a forked child: the parent's sweeper does not exist here, nor its receives."""
        self._watched, self._thread, self._start_lock = {}, None, threading.Lock()


#: How often the process's watchdog looks for overdue replies (s).
SWEEP_S = 0.1
#: The process's watchdog: websocket receives (long timeouts) and gRPC streams share it.
WATCHDOG = Watchdog(period_s=SWEEP_S)
