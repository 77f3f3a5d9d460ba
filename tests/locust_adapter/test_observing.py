"""The adapter's server watch and exporter hand-off, with fakes: rounds never overlap, the
exporter ends on the final figures. gevent is imported, never monkey-patched, here."""
import threading
import time
from types import SimpleNamespace

import gevent

from loadgen.locust_adapter.observing import Observer
from loadgen.metrics import Metrics
from loadgen.observe.settings import ObserveOptions


class SlowWatch:
    """A watch whose rounds take a while; counts how many run at once."""

    def __init__(self):
        self.lock, self.running, self.most, self.rounds, self.closed = threading.Lock(), 0, 0, 0, False

    def collect(self):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.2)  # a native thread of gevent's pool: the hub goes on meanwhile
        with self.lock:
            self.running -= 1
            self.rounds += 1

    def close(self):
        self.closed = True
        return {"executors": {}, "intervals": self.rounds}

    def latest(self):
        return []


def observer_with(watch) -> Observer:
    options = SimpleNamespace(observe=ObserveOptions(), arrival_shape=None, results_dir="unused")
    session = SimpleNamespace(options=options, flow=None, intervals=SimpleNamespace(total=Metrics(), started_at=0.0),
                              clock=SimpleNamespace(duration_s=1.0),
                              environment=SimpleNamespace(runner=SimpleNamespace(user_count=0)))
    observer = Observer(session)
    observer.watch = watch
    return observer


def test_ticks_during_the_last_round_start_no_round_of_their_own():
    watch = SlowWatch()
    observer = observer_with(watch)
    observer.tick()  # a round in flight
    ticker = gevent.spawn(lambda: [(observer.tick(), gevent.sleep(0.02)) for _ in range(40)])
    gevent.sleep(0.05)
    observer.last_round()
    ticker.join()
    assert watch.most == 1, "rounds overlapped"
    assert watch.closed and observer.watch is None and observer.summary["intervals"] == watch.rounds == 2
    assert observer.summary["skipped_intervals"] >= 1, "ticks while a round ran were skipped and counted"


def test_a_tick_while_a_round_runs_is_skipped():
    watch = SlowWatch()
    observer = observer_with(watch)
    observer.tick()
    observer.tick()
    gevent.sleep(0.4)
    observer.tick()
    observer.last_round()
    assert watch.most == 1 and watch.rounds == 3 and observer.skipped == 1
