"""Replay files under Locust: each line of a pass sent exactly once across the whole fleet.

Master (or the single process), at start: the whole file is read once, so a bad line stops
the run before any load (``--skip-bad-lines`` counts and skips them instead); the number of
lines per pass travels to the workers with the spawn message.

Each load-generating process: worker *i* of *n* takes the lines whose request index modulo
*n* is *i* (:func:`loadgen.replay.worker_share`), in file order. A producer greenlet has
them read and encoded ahead, a batch at a time, in a native thread
(:mod:`~loadgen.locust_adapter.refills`: never on the gevent hub that times the requests),
into a bounded queue — documents come from each line's seed, so two runs send identical
requests, and no encoding happens inside a timed span. The first batch is encoded before
the load starts; a user that finds the queue empty waits (before its timed span) and the
wait is counted (``on_wait``). ``--reuse-file`` starts the
file again at its end; ``--max-requests`` caps the lines of the whole fleet (line *k* of pass
*p* is fleet-wide number ``p × lines + k``). When a process's share is used up its users stop;
when every process is done, the run stops.
"""
from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Callable, Iterator, Optional

import gevent
from gevent.queue import Queue

from loadgen.config import PayloadConfig
from loadgen.encoding import EncodedRequest, encode
from loadgen.errors import ConfigError
from loadgen.locust_adapter.options import ReplayOptions
from loadgen.pools import InlineExecutor
from loadgen.replay import (ReplayCheck, ReplayLine, UnreadableReplayFile, check_file, open_replay, read,
                            to_request_spec, worker_share)

log = logging.getLogger("loadgen")
AHEAD = 64  # lines encoded ahead per process: enough to ride out a burst, bounded memory
BATCH = 16  # lines read and encoded per trip to the thread
DONE_MESSAGE = "loadgen_replay_done"


def check_replay(options: ReplayOptions) -> ReplayCheck:
    """Read the whole file once (:func:`loadgen.replay.check_file`), as the run will.

    :returns: ``requests`` is the lines of one pass, ``bad_lines`` those ``--skip-bad-lines`` skipped.
    :raises ConfigError: for a file that cannot be read; the ReplayError naming FILE:LINE of
        the first bad line, or of a file without requests.
    """
    try:
        result = check_file(options.path, endpoint_map=options.endpoint_map, skip_bad_lines=options.skip_bad_lines,
                            max_errors=1)
    except UnreadableReplayFile as exc:
        raise ConfigError(f"--replay-file: cannot read {options.path} ({exc.reason}); give an existing file") from None
    if result.errors:
        raise result.errors[0]
    if result.bad_lines:
        log.warning("--skip-bad-lines: skipped %d bad lines of %s", result.bad_lines, options.path)
    return result


class ReplayFeed:
    """This process's share of the file, encoded ahead; :meth:`next` is None when it is used up.

    :param executor: where lines are read and encoded (``submit(fn) -> future``); default:
        :class:`loadgen.pools.InlineExecutor` (in the producer greenlet itself).
    :param on_wait: called with the seconds a user waited for the next line.
    """

    def __init__(self, options: ReplayOptions, *, payload: PayloadConfig, wire: str, lines_per_pass: int,
                 worker_index: int = 0, worker_count: int = 1, executor: Any = None,
                 on_wait: Callable[[float], Any] = lambda seconds: None,
                 clock: Callable[[], float] = time.perf_counter):
        self.options, self.payload, self.wire = options, payload, wire
        self.lines_per_pass, self.worker_index, self.worker_count = lines_per_pass, worker_index, worker_count
        self.sent = 0
        self._executor = executor if executor is not None else InlineExecutor()
        self._on_wait, self._clock = on_wait, clock
        self._queue: Queue = Queue(maxsize=AHEAD + BATCH)
        lines = self._lines()
        first = self._encode_batch(lines)  # before the load: the users' first lines are ready
        for item in first:
            self._queue.put_nowait(item)
        self._producer = gevent.spawn(self._produce, lines, more=len(first) == BATCH)

    def next(self) -> Optional[tuple[ReplayLine, EncodedRequest]]:
        if self._queue.empty():
            started = self._clock()
            item = self._queue.get()
            if item is not None:
                self._on_wait(self._clock() - started)
        else:
            item = self._queue.get()
        if item is None:
            self._queue.put(None)  # every later caller learns it too
            return None
        self.sent += 1
        return item

    def close(self) -> None:
        self._producer.kill(block=False)

    def _produce(self, lines: Iterator[ReplayLine], *, more: bool) -> None:
        try:
            while more:
                batch = self._executor.submit(self._encode_batch, lines).result()  # cooperative wait
                for item in batch:
                    self._queue.put(item)
                more = len(batch) == BATCH
        finally:
            self._queue.put(None)

    def _encode_batch(self, lines: Iterator[ReplayLine]) -> list[tuple[ReplayLine, EncodedRequest]]:
        # In a native thread: the only reader of ``lines`` while it runs (one batch at a time).
        return [(line, encode(to_request_spec(line, payload=self.payload), wire=self.wire))
                for line in itertools.islice(lines, BATCH)]

    def _lines(self) -> Iterator[ReplayLine]:
        cap = self.options.max_requests or None
        passes = 0
        while True:
            with open_replay(self.options.path) as stream:
                lines = read(stream, source=self.options.path, endpoint_map=self.options.endpoint_map,
                             skip_bad_lines=self.options.skip_bad_lines)
                for line in worker_share(lines, worker_index=self.worker_index, worker_count=self.worker_count):
                    if cap is not None and passes * self.lines_per_pass + line.index >= cap:
                        return
                    yield line
            passes += 1
            if not self.options.reuse_file:
                return


class ReplayShare:
    """This process's share as its users see it: the next line, the lines in flight, and one
    notice (``on_done``) when the share is used up with nothing in flight. Without a feed
    (no ``--replay-file``) there is nothing to send."""

    def __init__(self, feed: Optional[ReplayFeed] = None, *, on_done: Callable[[], Any] = lambda: None):
        self.feed, self._on_done = feed, on_done
        self._inflight = 0
        self._done = False

    def next(self) -> Optional[tuple[ReplayLine, EncodedRequest]]:
        """The next (line, request) of the share, or None when it is used up."""
        item = self.feed.next() if self.feed is not None else None
        if item is None:
            self._check_done()
        else:
            self._inflight += 1
        return item

    def sent(self) -> None:
        """The request of a line taken by :meth:`next` is done."""
        self._inflight -= 1

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()

    def _check_done(self) -> None:
        # The last user to find the share used up, with nothing in flight, reports it once.
        if self._done or self._inflight:
            return
        self._done = True
        self._on_done()


class DoneTracker:
    """Stops the run when every load-generating process has used up its share."""

    def __init__(self, environment: Any, processes: int):
        self.environment, self.remaining = environment, max(1, processes)

    def process_done(self, *_: Any, **__: Any) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            log.info("replay: every line was sent; stopping the run")
            gevent.spawn(self.environment.runner.quit)
