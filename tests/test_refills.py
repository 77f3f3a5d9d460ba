"""Dataset pools refill ahead, on an executor, and count the waits of users that outran them.

Truths come from the test itself: which requests the spec stream produced, in which thread,
and how far a fake clock moved while a user waited.
"""
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from loadgen.config import PayloadConfig
from loadgen.documents import Document
from loadgen.encoding import RequestSpec
from loadgen.metrics import DataWaits, Metrics
from loadgen.pools import MIB, InlineExecutor, RefillingPool, build_pools
from loadgen.reports.summary import summarize
from loadgen.reports.text import render_table


def _specs(log=None, before=lambda: None):
    """Endless specs whose single document's text is its number; ``log`` gets (number, thread)."""
    number = 0
    while True:
        before()
        if log is not None:
            log.append((number, threading.current_thread().name))
        yield RequestSpec(endpoint="/index", docs=[Document(id=f"{number:032x}", text=str(number))])
        number += 1


def _pool(specs, chunk=2, **kwargs):
    from loadgen.encoding import encode

    first = [encode(next(specs), wire="json") for _ in range(chunk)]
    return RefillingPool("/index", first, specs, "json", **kwargs)


def _numbers(requests):
    import json

    return [int(json.loads(r.body)["data"][0]["text"]) for r in requests]


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class ManualExecutor:
    """Futures the test completes; a waiting user's ``result()`` moves the fake clock."""

    def __init__(self, clock, wait_s):
        self.clock, self.wait_s, self.submitted = clock, wait_s, []

    def submit(self, fn, *args):
        future = Future()
        manual = self

        class Waited:
            def done(self):
                return future.done()

            def result(self):
                if not future.done():  # the user waits while the refill finishes
                    manual.clock.now += manual.wait_s
                    future.set_result(fn(*args))
                return future.result()

        self.submitted.append((future, fn, args))
        return Waited()

    def finish_all(self):
        for future, fn, args in self.submitted:
            if not future.done():
                future.set_result(fn(*args))


def test_the_next_chunk_is_encoded_ahead_in_a_thread_and_taken_without_waiting():
    log, waits = [], DataWaits()
    with ThreadPoolExecutor(1, thread_name_prefix="refill") as executor:
        pool = _pool(_specs(log), chunk=3, executor=executor, on_wait=waits.add)
        assert _numbers(pool.next() for _ in range(3)) == [0, 1, 2]
        executor.submit(lambda: None).result()  # the single thread has finished the refill before this
        assert _numbers(pool.next() for _ in range(3)) == [3, 4, 5]
    assert (waits.count, waits.seconds) == (0, 0.0)
    assert {thread for number, thread in log if number >= 3} == {"refill_0"}  # never the caller's thread


def test_a_user_that_outruns_the_refill_waits_outside_the_timed_span_and_is_counted():
    clock, waits = FakeClock(), DataWaits()
    executor = ManualExecutor(clock, wait_s=0.25)
    pool = _pool(_specs(), chunk=2, executor=executor, on_wait=waits.add, clock=clock)
    taken = [pool.next(), pool.next()]
    assert (waits.count, waits.seconds) == (0, 0.0)
    taken.append(pool.next())  # the next chunk is not ready: this user waits 0.25 s for it
    assert (waits.count, waits.seconds) == (1, 0.25)
    executor.finish_all()  # the chunk after it was encoded ahead meanwhile
    taken += [pool.next() for _ in range(3)]
    assert _numbers(taken) == [0, 1, 2, 3, 4, 5] and waits.count == 1


def test_without_an_executor_a_refill_runs_when_needed_and_counts_as_a_wait():
    clock, waits = FakeClock(), DataWaits()

    def slow_spec():
        clock.now += 0.1

    specs = _specs(before=slow_spec)
    pool = _pool(specs, chunk=2, on_wait=waits.add, clock=clock)
    assert isinstance(pool._executor, InlineExecutor)
    assert _numbers(pool.next() for _ in range(6)) == list(range(6))
    assert waits.count == 2 and waits.seconds == pytest.approx(0.4)  # two refills of two specs


def test_a_failed_refill_is_raised_to_the_user():
    def broken():
        raise OSError("cannot read image 7")

    def specs():
        yield from (s for _, s in zip(range(2), _specs()))
        broken()

    pool = _pool(specs(), chunk=2)
    pool.next(), pool.next()
    with pytest.raises(OSError, match="image 7"):
        pool.next()


def test_a_dataset_pool_keeps_both_chunks_within_pool_mb():
    payload = PayloadConfig(kind="image", image_shape=(64, 64, 3), request_size=4, pool_size=50, pool_mb=0.4)
    documents = lambda endpoint: (Document(id=f"{i:032x}", text=f"{i:08d}" * 2000) for i in range(10**6))  # noqa: E731
    result = build_pools(payload, ["/index"], seed=0, wire="json", documents=documents)
    pool = result.pools["/index"]
    assert 2 * pool.nbytes <= 0.4 * MIB < 2 * (pool.nbytes + pool.requests[0].size)
    assert any("as many encoded ahead" in note for note in result.notes)


def test_waits_merge_and_reach_the_summary_and_its_note():
    workers = [Metrics(), Metrics()]
    for metrics, seconds in zip(workers, ([0.5, 0.25], [1.0])):
        for s in seconds:
            metrics.data_waits.add(s)
    merged = Metrics()
    for worker in workers:
        merged.merge(Metrics.decode(worker.encode()))
    summary = summarize(merged, duration_s=10, run={"dataset": {"spec": "images:x", "count": 3}})
    assert summary["dataset"] == {"spec": "images:x", "count": 3, "waits": 3, "wait_s": 1.75}
    assert "data-bound: the generator waited 1.75 s for data (3 requests waited" in render_table(summary)
    quiet = summarize(Metrics(), duration_s=10, run={"replay": {"file": "x.replay"}})
    assert quiet["replay"]["waits"] == 0 and quiet["replay"]["wait_s"] == 0.0
    assert "data-bound" not in render_table(quiet)
    assert "dataset" not in summarize(Metrics(), duration_s=1)
