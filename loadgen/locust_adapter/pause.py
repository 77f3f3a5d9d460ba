"""What a loadgen user does between two tasks: yield to the hub only now and then.

Locust yields to the hub after every task (``gevent.sleep(0)`` for a wait of 0). A request
already yields while it waits for its reply, so a loadgen user yields after every
:data:`YIELD_EVERY`-th task of no wait only: at most that many requests run back to back when
replies are there before they are asked for (a saturated process, or failures that need no
network), and the hub's other greenlets (the ticker, the stop) still get their turn.
Measured: the extra switch cost ~11 µs per request at ~320 req/s (docs/performance.md).
Imports no Locust (its tests run in the test process; importing Locust monkey-patches it).
"""
from __future__ import annotations

from typing import Any, Callable

import gevent

YIELD_EVERY = 8


class Pause:
    """What a loadgen user's Locust task set does between tasks (its ``_sleep``): a wait of
    ``seconds`` > 0 as Locust does it; a wait of 0 is a yield to the hub every ``every``-th time."""

    def __init__(self, *, every: int = YIELD_EVERY, sleep: Callable[[float], Any] = gevent.sleep):
        self._every, self._sleep, self._since = every, sleep, 0

    def __call__(self, seconds: float) -> None:
        self._since += 1
        if seconds > 0 or self._since >= self._every:
            self._since = 0
            self._sleep(seconds)


def pause_between_tasks(user: Any) -> None:
    """Make a Locust ``user``'s task set wait between tasks with a :class:`Pause` (call it from
    ``on_start``: Locust's ``User.run`` makes the root task set just before)."""
    taskset = getattr(user, "_taskset_instance", None)
    if taskset is not None:
        taskset._sleep = Pause()
