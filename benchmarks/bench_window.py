"""The measurement window shared by the client helpers of ``bench_clients.py``.

Standard library only: it is imported both by helpers running in ``.venv`` and by the
jina helper running in ``.venv-flow``.

A helper starts its load, lets it warm up, then brackets the measured window with
:meth:`Window.open` and :meth:`Window.close` and prints :meth:`Window.result` as ONE JSON
line on stdout (the last line starting with ``{`` is what the orchestrator reads). asyncio
helpers do all of that with :func:`measure_tasks` and :func:`run_asyncio_helper`.

What the window covers (all deltas between ``open`` and ``close``):

- ``window_s``: wall time, ``time.perf_counter``, seconds;
- ``cpu_s``: CPU time (user + system) of the whole helper process, all of its threads
  (``time.process_time``), seconds;
- ``requests``: replies completed in the window, successes and failures; ``failures``
  the failed ones. A request in flight when the window opens is counted when it completes.

Derived: ``rps = requests / window_s``; ``cpu_us_per_req = cpu_s * 1e6 / requests`` (µs).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Callable, Coroutine, Iterable, Optional


def client_parser(description: str) -> argparse.ArgumentParser:
    """The options every client helper takes (the orchestrator passes the same to all)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", required=True, help="gateway URL: grpc://, ws:// or http://HOST:PORT")
    parser.add_argument("--users", type=int, default=10, help="concurrent users/tasks")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds in the measured window")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before the window opens")
    return parser


class Tally:
    """Request counters of a helper that counts by itself (asyncio helpers)."""

    def __init__(self) -> None:
        self.requests = 0
        self.failures = 0
        self.errors: Counter = Counter()

    def ok(self) -> None:
        self.requests += 1

    def fail(self, message: str) -> None:
        self.requests += 1
        self.failures += 1
        self.errors[message[:200]] += 1

    def counts(self) -> tuple[int, int]:
        return self.requests, self.failures


class Window:
    """Wall time, process CPU time and request counts between :meth:`open` and :meth:`close`.

    :param counts: returns the cumulative ``(requests, failures)`` of the helper.
    """

    def __init__(self, counts: Callable[[], tuple[int, int]]):
        self._counts = counts
        self._start: Optional[tuple] = None
        self._end: Optional[tuple] = None

    def _snapshot(self) -> tuple:
        return (time.perf_counter(), time.process_time(), *self._counts())

    def open(self) -> None:
        self._start = self._snapshot()

    def close(self) -> None:
        self._end = self._snapshot()

    def run(self, sleep: Callable[[float], None], *, warmup_s: float, duration_s: float) -> None:
        """``sleep(warmup_s)``, then the window: open, ``sleep(duration_s)``, close
        (``sleep``: ``gevent.sleep`` in a gevent helper, so that the load runs meanwhile)."""
        sleep(warmup_s)
        self.open()
        sleep(duration_s)
        self.close()

    def result(self, **extra) -> dict:
        """The window as a dict (units in the module docstring) plus ``extra`` fields."""
        wall, cpu, requests, failures = (end - start for start, end in zip(self._start, self._end))
        return {
            "requests": requests, "failures": failures, "window_s": wall, "cpu_s": cpu,
            "rps": requests / wall if wall > 0 else 0.0,
            "cpu_us_per_req": cpu * 1e6 / requests if requests else None, **extra,
        }


async def measure_tasks(workers: Iterable[Coroutine], tally: Tally, *, warmup_s: float, duration_s: float,
                        stop: Optional[asyncio.Event] = None, grace_s: float = 5.0) -> dict:
    """Run ``workers`` as asyncio tasks: ``warmup_s`` seconds of load, then one window of
    ``duration_s`` seconds (units in the module docstring) counted by ``tally``; then end them.

    :param stop: set when the window has closed; workers that watch it finish their request
        in flight and close their connection cleanly within ``grace_s`` seconds, the others
        (and any still running then) are cancelled.
    :returns: the window's result with ``errors`` (failure message -> count) and ``crashed``
        (how many workers ended with an exception before the window closed; :func:`emit`
        exits with code 1 then).
    """
    tasks = [asyncio.create_task(worker) for worker in workers]
    window = Window(tally.counts)
    await asyncio.sleep(warmup_s)
    window.open()
    await asyncio.sleep(duration_s)
    window.close()
    crashed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    for task in crashed:
        tally.errors[f"worker crashed: {task.exception()!r}"[:200]] += 1
    if stop is not None:
        stop.set()
        await asyncio.wait(tasks, timeout=grace_s)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return window.result(errors=dict(tally.errors), crashed=len(crashed))


#: ``workers(args, tally, stop)``: the coroutines of an asyncio helper's load (see :func:`measure_tasks`).
WorkerFactory = Callable[[argparse.Namespace, Tally, asyncio.Event], list[Coroutine]]


def run_asyncio_helper(workers: WorkerFactory, parser: argparse.ArgumentParser, *, graceful: bool = False) -> None:
    """The ``main()`` of an asyncio helper: parse ``parser``'s options, run the coroutines of
    ``workers(args, tally, stop)`` through :func:`measure_tasks` (``graceful``: they watch
    ``stop``; else they are cancelled), :func:`emit` the result."""
    args = parser.parse_args()

    async def measure() -> dict:
        tally, stop = Tally(), asyncio.Event()
        return await measure_tasks(workers(args, tally, stop), tally, warmup_s=args.warmup,
                                   duration_s=args.duration, stop=stop if graceful else None)

    emit(asyncio.run(measure()))


def emit(result: dict) -> None:
    """Print the helper's result as one JSON line on stdout; exit with code 1 (the crashes
    on stderr) when a worker crashed, so that the orchestrator stops with that message."""
    print(json.dumps(result), flush=True)
    if result.get("crashed"):
        crashes = [message for message in result.get("errors", {}) if message.startswith("worker crashed")]
        sys.exit("\n".join([f"{result['crashed']} worker(s) crashed:", *crashes]))
