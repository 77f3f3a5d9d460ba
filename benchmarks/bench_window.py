"""The measurement window shared by the client helpers of ``bench_clients.py``.

Standard library only: it is imported both by helpers running in ``.venv`` and by the
jina helper running in ``.venv-flow``.

A helper starts its load, lets it warm up, then brackets the measured window with
:meth:`Window.open` and :meth:`Window.close` and prints :meth:`Window.result` as ONE JSON
line on stdout (the last line starting with ``{`` is what the orchestrator reads).

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
import json
import time
from collections import Counter
from typing import Callable, Optional


def client_parser(description: str) -> argparse.ArgumentParser:
    """The options every client helper takes (the orchestrator passes the same to all)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", required=True, help="gateway URL, grpc://HOST:PORT")
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

    def result(self, **extra) -> dict:
        """The window as a dict (units in the module docstring) plus ``extra`` fields."""
        wall, cpu, requests, failures = (end - start for start, end in zip(self._start, self._end))
        return {
            "requests": requests, "failures": failures, "window_s": wall, "cpu_s": cpu,
            "rps": requests / wall if wall > 0 else 0.0,
            "cpu_us_per_req": cpu * 1e6 / requests if requests else None, **extra,
        }


def emit(result: dict) -> None:
    """Print the helper's result as one JSON line on stdout."""
    print(json.dumps(result), flush=True)
