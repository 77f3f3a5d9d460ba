"""The generator's self-check and --warmup at their seams, without processes: a fake clock and
sleep into the loop monitor, fake CPU clocks into the meter, fake worker reports through the
warm-up tags into the master's phases.

Each truth is computed here from the values the test feeds in.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from loadgen.locust_adapter import distributed, warmup
from loadgen.locust_adapter.intervals import Intervals
from loadgen.locust_adapter.monitor import CpuMeter, LoopMonitor
from loadgen.locust_adapter.warmup import PHASE_KEY, Phases
from loadgen.metrics import Metrics
from loadgen.results import Result
from loadgen.selfcheck import GENERATOR_TYPE, LOOP_LAG, LOOP_LAG_PERIOD_S, CpuTime, generator_summary


class FakeClock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


class Stop(Exception):
    pass


def _result(endpoint="/search", latency_s=0.01):
    return Result(endpoint=endpoint, protocol="grpc", started_at=0.0, latency_s=latency_s, bytes_out=10)


# -- the loop monitor ---------------------------------------------------------------------------
class FakeTimer:
    """A repeating timer of a fake loop: records what it was asked; the test fires it."""

    def __init__(self, after, repeat):
        self.after, self.repeat, self.callback, self.armed, self.closed = after, repeat, None, 0, False

    def start(self, callback):
        self.callback, self.armed = callback, self.armed + 1

    def again(self, callback):
        self.start(callback)

    def stop(self):
        self.callback = None

    def close(self):
        self.closed = True


class FakeLoop:
    def __init__(self):
        self.timers = []

    def timer(self, after, repeat=0.0):
        self.timers.append(FakeTimer(after, repeat))
        return self.timers[-1]


def test_the_monitor_records_the_lag_the_clock_imposes():
    """The fake loop fires the monitor's timer ``imposed[i]`` s late (or early: a negative
    value) after each arming; the monitor must record exactly that lateness, never below 0,
    and re-arm its timer, of its period, after each wake."""
    rng = np.random.default_rng(3)
    imposed = np.concatenate([rng.exponential(0.0005, 400), rng.uniform(0.02, 0.3, 8), [-0.002, 0.0]])
    clock, loop, recorded = FakeClock(100.0), FakeLoop(), []

    metrics = Metrics()

    def record(lag):
        recorded.append(lag)
        metrics.add_time(GENERATOR_TYPE, LOOP_LAG, lag)
        clock.now += 1e-6  # the record itself takes time: the next wait is asked after it

    monitor = LoopMonitor(record, clock=clock, loop=loop)
    monitor.start()
    (timer,) = loop.timers
    assert (timer.after, timer.repeat) == (LOOP_LAG_PERIOD_S, LOOP_LAG_PERIOD_S)
    for lateness in imposed:
        clock.now += LOOP_LAG_PERIOD_S + lateness
        timer.callback()
    assert timer.armed == len(imposed) + 1  # started once, re-armed after every wake
    monitor.stop()
    assert timer.callback is None and timer.closed and len(loop.timers) == 1
    truth = np.maximum(imposed, 0.0)
    assert recorded == pytest.approx(truth, abs=1e-9)
    figures = generator_summary(metrics.entry(GENERATOR_TYPE, LOOP_LAG).latency, {}, processes=1)
    ordered = np.sort(truth) * 1000
    for key, p in (("p50", 50), ("p99", 99)):  # nearest rank, as HdrHistogram ranks (3 significant digits)
        assert figures["loop_lag_ms"][key] == pytest.approx(ordered[max(int(p / 100 * len(ordered) + 0.5), 1) - 1],
                                                            rel=1e-3, abs=1e-3)
    assert figures["loop_lag_ms"]["max"] == pytest.approx(ordered[-1], abs=1e-3)


def test_a_record_that_fails_still_rearms_the_timer_from_its_wake():
    """A failing record must not leave the next lag measured from an old wake: the timer is
    re-armed, and the next lag is the next wake's own lateness."""
    clock, loop, recorded = FakeClock(0.0), FakeLoop(), []

    def record(lag):
        recorded.append(lag)
        if len(recorded) == 1:
            raise RuntimeError("a record failed")

    monitor = LoopMonitor(record, clock=clock, loop=loop)
    monitor.start()
    (timer,) = loop.timers
    clock.now += LOOP_LAG_PERIOD_S + 0.5
    with pytest.raises(RuntimeError):
        timer.callback()
    assert timer.armed == 2
    clock.now += LOOP_LAG_PERIOD_S + 0.003
    timer.callback()
    assert recorded == pytest.approx([0.5, 0.003], abs=1e-9)


def test_on_gevents_hub_the_monitor_catches_a_blocked_hub_and_stops():
    """The real hub: a 50 ms stretch in which the hub cannot run makes the next wake at least
    40 ms late (the timer was armed at most one 10 ms period before it); after stop() no wake."""
    import time

    import gevent

    recorded = []
    monitor = LoopMonitor(recorded.append)
    monitor.start()
    gevent.sleep(0.1)
    quiet = len(recorded)
    began = time.perf_counter()
    while time.perf_counter() - began < 0.05:  # the hub cannot run: nothing here yields
        pass
    gevent.sleep(0.05)
    monitor.stop()
    stopped = len(recorded)
    gevent.sleep(0.05)
    assert len(recorded) == stopped, "a wake after stop()"
    assert quiet >= 3, recorded  # ~10 periods of 10 ms, however slow the machine
    assert max(recorded[quiet:]) >= 0.040 - 1e-4, recorded


def test_the_cpu_meter_hands_out_deltas_and_stops_counting_at_stop():
    cpu, wall = FakeClock(5.0), FakeClock(1000.0)
    meter = CpuMeter(cpu=cpu, wall=wall)
    cpu.now, wall.now = 5.3, 1001.0
    first = meter.take()
    assert (first.cpu_s, first.wall_s) == pytest.approx((0.3, 1.0)) and first.pct == pytest.approx(30.0)
    cpu.now, wall.now = 6.2, 1002.0
    meter.stop()
    cpu.now, wall.now = 9.0, 1010.0  # after the stop: not counted
    second = meter.take()
    assert (second.cpu_s, second.wall_s) == pytest.approx((0.9, 1.0))
    assert meter.take().wall_s == 0.0


# -- generator figures -----------------------------------------------------------------------------
def _lags(*values_ms):
    metrics = Metrics()
    for ms in values_ms:
        metrics.add_time(GENERATOR_TYPE, LOOP_LAG, ms / 1000)
    return metrics.entry(GENERATOR_TYPE, LOOP_LAG).latency


def test_a_calm_generator_is_not_saturated():
    g = generator_summary(_lags(*[0.2] * 980, *[3.0] * 20), {"w1": CpuTime(cpu_s=3.0, wall_s=10.0)}, processes=1)
    assert g == {"processes": 1, "cpu_pct_max": 30.0, "loop_lag_ms": {"p50": 0.2, "p99": 3.0, "max": 3.0},
                 "saturated": False, "reason": None}


def test_lag_or_cpu_above_the_limits_saturates_and_the_reason_names_it():
    lagging = generator_summary(_lags(*[0.2] * 970, *[83.0] * 30), {"w1": CpuTime(cpu_s=7.0, wall_s=10.0)},
                                processes=1)
    assert lagging["saturated"] and lagging["reason"] == "event-loop lag p99 83.0 ms > 20 ms"
    busy = generator_summary(_lags(0.5), {"w1": CpuTime(cpu_s=2.0, wall_s=10.0), "w2": CpuTime(cpu_s=9.8, wall_s=10.0)},
                             processes=2)
    assert busy["cpu_pct_max"] == 98.0 and busy["reason"] == "CPU 98% of a core >= 90%"
    starved = generator_summary(_lags(*[50.0] * 10), {"w1": CpuTime(cpu_s=1.0, wall_s=10.0)}, processes=1)
    assert "waited for a core" in starved["reason"]


# -- warm-up: workers tag, the master routes ---------------------------------------------------------
class FakeMonitor:
    def __init__(self, cpu_s_per_report):
        self.cpu = SimpleNamespace(take=lambda: CpuTime(cpu_s=cpu_s_per_report, wall_s=1.0))


def _worker(warmup_s):
    session = SimpleNamespace(intervals=Intervals(), phases=Phases(warmup_s), monitor=FakeMonitor(0.25),
                              warmup_end=None, clock=SimpleNamespace(duration_s=0.0), log_parts=lambda: None)
    return session


def _ship(session):
    data = {}
    distributed.ship(session.intervals, data)
    warmup.tag_report(session.phases, session.monitor, data)
    return data


def test_worker_reports_are_tagged_by_the_workers_own_cut_and_routed_exactly():
    master, phases, fleet = Intervals(), Phases(5.0), distributed.Fleet()
    truth = {"warmup": 0, "measured": 0}
    reports = []
    for client_id, (before, at_cut, after) in {"w1": (7, 3, 11), "w2": (4, 9, 2)}.items():
        worker = _worker(5.0)
        for _ in range(before):
            worker.intervals.current.add(_result())
        reports.append((client_id, _ship(worker)))  # a periodic report during the warm-up
        for _ in range(at_cut):
            worker.intervals.current.add(_result())
        warmup.end(worker, role="worker", send_report=lambda w=worker, c=client_id: reports.append((c, _ship(w))))
        for _ in range(after):
            worker.intervals.current.add(_result())
        reports.append((client_id, _ship(worker)))
        truth["warmup"] += before + at_cut
        truth["measured"] += after
    assert [data[PHASE_KEY] for _, data in reports] == ["warmup", "warmup", "measured"] * 2
    for client_id, data in reversed(reports):  # arrival order does not matter
        warmup.route_report(phases, client_id, data, distributed.receive(master, fleet, client_id, data))
    assert phases.warmup.entry("grpc", "/search").requests == truth["warmup"]
    assert phases.measured.entry("grpc", "/search").requests == truth["measured"]
    assert master.current.entry("grpc", "/search").requests == sum(truth.values())  # the time series keeps all
    assert sum(span.requests["/search"] for span in phases.spans) == sum(truth.values())  # where they happened
    assert phases.processes == {"w1", "w2"}
    assert {k: (c.cpu_s, c.wall_s) for k, c in phases.cpu.items()} == {"w1": (0.25, 1.0), "w2": (0.25, 1.0)}


def test_the_master_tells_its_workers_once():
    session = _worker(3.0)
    told = []
    for _ in range(2):
        warmup.end(session, role="master", tell_workers=lambda: told.append(1))
    assert told == [1] and session.phases.warming is False


def test_a_single_process_routes_each_flushed_interval_and_keeps_every_interval_in_the_series(tmp_path):
    session = _worker(2.0)
    session.intervals.open_series(tmp_path)
    for count in (5, 6):  # two intervals of the warm-up
        for _ in range(count):
            session.intervals.current.add(_result())
        warmup.flush(session, local=True)
    session.intervals.current.add(_result())
    told = []
    warmup.end(session, role="local", tell_workers=lambda: told.append(1))  # the cut: flushes the warm-up's last bit
    warmup.end(session, role="local")  # once only
    assert told == [], "a single process has no workers to tell"
    for _ in range(9):
        session.intervals.current.add(_result())
    warmup.flush(session, local=True, close=True)
    assert session.phases.warmup.entry("grpc", "/search").requests == 12
    assert session.phases.measured.entry("grpc", "/search").requests == 9
    assert session.intervals.total.entry("grpc", "/search").requests == 21
    rows = (tmp_path / "timeseries.csv").read_text().splitlines()[1:]
    assert [row.split(",")[4] for row in rows if row.split(",")[2] == "grpc"] == ["5", "6", "1", "9"]  # total rows aside
    assert [(span.requests["/search"], span.end > span.start) for span in session.phases.spans] == [
        (5, True), (6, True), (1, True), (9, True)]
    assert session.phases.cpu["local"].cpu_s == pytest.approx(0.25)  # the one measured flush


def test_without_a_warmup_everything_is_measured_and_equals_the_total():
    session = _worker(0.0)
    for latency in (0.01, 0.02, 0.5):
        session.intervals.current.add(_result(latency_s=latency))
        warmup.flush(session, local=True)
    measured, total = session.phases.measured.entry("grpc", "/search"), session.intervals.total.entry("grpc", "/search")
    assert measured.requests == total.requests == 3 and not session.phases.warmup.entries
    assert measured.latency.max_s == total.latency.max_s == 0.5
