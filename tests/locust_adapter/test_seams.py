"""The adapter's seams without processes: fake worker reports into the distributed merge,
fake clocks into the open-loop turns and the ticker, a mock transport into the session.

Each truth is computed here from the values the test feeds in, not by the code under test.
"""
import csv
import io
import random
import subprocess
import sys
from types import SimpleNamespace

import pytest

from loadgen.config import PayloadConfig
from loadgen.errors import ValidationError
from loadgen.locust_adapter import distributed
from loadgen.locust_adapter.intervals import Intervals, RunClock, Ticker
from loadgen.locust_adapter.open_loop import CLOSED_LOOP, Turns, turns_for
from loadgen.locust_adapter.replay_feed import ReplayShare
from loadgen.locust_adapter.session import Session
from loadgen.metrics import LatencyHistogram
from loadgen.pacing import Constant, Pacer
from loadgen.protocols.mock import MockTransport
from loadgen.results import Result, Route


class FakeClock:
    """Seconds that move only when the test (or a fake sleep) moves them."""

    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _result(endpoint="/search", latency_s=0.01, error=None, docs_sent=1):
    return Result(endpoint=endpoint, protocol="grpc", started_at=0.0, latency_s=latency_s, bytes_out=100,
                  docs_sent=docs_sent, error=error)


# -- the distributed merge ------------------------------------------------------------------
def test_worker_deltas_merge_exactly_into_the_master():
    rng = random.Random(7)
    master, fleet = Intervals(), distributed.Fleet()
    everything = LatencyHistogram()
    sent = {"/search": 0, "/index": 0}
    workers = {f"w{i}": Intervals() for i in range(3)}
    for report in range(4):  # every worker reports four deltas
        for client_id, worker in workers.items():
            for _ in range(rng.randint(50, 300)):
                endpoint = rng.choice(list(sent))
                latency = rng.lognormvariate(-4, 1.5)  # ~0.1 ms .. seconds
                worker.current.add(_result(endpoint, latency))
                everything.record(latency)
                sent[endpoint] += 1
            data = {"stats": []}  # Locust's own keys stay untouched
            distributed.ship(worker, data)
            assert not worker.current.entries  # a delta: the worker starts afresh
            distributed.receive(master, fleet, client_id, data)
            assert data["stats"] == []
        master.flush()
    merged = master.total
    assert {name: merged.entry("grpc", name).requests for name in sent} == sent
    combined = LatencyHistogram()
    for name in sent:
        combined.merge(merged.entry("grpc", name).latency)
    assert combined.count == everything.count == sum(sent.values())
    for p in (50, 90, 99, 99.9, 100):  # the same histogram: the same value, to the microsecond
        assert combined.percentile_ms(p) == everything.percentile_ms(p)
    assert combined.max_s == everything.max_s
    assert fleet.seen == set(workers)


def test_a_report_without_loadgen_metrics_is_ignored():
    master, fleet = Intervals(), distributed.Fleet()
    distributed.receive(master, fleet, "w-failed-init", {"stats": []})
    assert not master.current.entries and fleet.seen == set()


def test_lost_workers_are_remembered_after_locust_forgets_them():
    fleet = distributed.Fleet()
    runner = SimpleNamespace(clients=SimpleNamespace(missing=[SimpleNamespace(id="w1")]))
    fleet.note_lost(runner)
    runner.clients.missing = []  # Locust drops missing workers soon after
    fleet.note_lost(runner)
    assert fleet.lost == {"w1"}
    fleet.reset()
    assert fleet.lost == set() and fleet.seen == set()


class FakeFleetRunner:
    """A master's runner as :class:`distributed.Rounds` sees it: clients, and what it sent."""

    def __init__(self, connected, missing=()):
        every = [SimpleNamespace(id=c) for c in (*connected, *missing)]
        self.clients = SimpleNamespace(all=every, missing=[c for c in every if c.id in missing])
        self.sent = []

    def send_message(self, msg_type, data=None, client_id=None):
        self.sent.append((msg_type, data, client_id))


def test_a_round_asks_every_connected_worker_and_ends_when_all_answered():
    rounds, runner = distributed.Rounds(), FakeFleetRunner(["w1", "w2"], missing=["w3"])
    rounds.ask(runner)
    assert runner.sent == [(distributed.TICK_MESSAGE, 1, "w1"), (distributed.TICK_MESSAGE, 1, "w2")]
    rounds.answered("w1", 1)
    rounds.answered("w2", None)  # a report of its own (the warm-up's end): not this round's answer
    assert not rounds.wait(0.01) and rounds.waiting == {"w2"}
    rounds.answered("w2", 1)
    assert rounds.wait(0.01)
    rounds.ask(runner)
    rounds.answered("w1", 1)  # late for round 1: does not answer round 2
    assert rounds.waiting == {"w1", "w2"} and not rounds.wait(0.01)


def test_a_round_without_workers_does_not_wait():
    rounds = distributed.Rounds()
    rounds.ask(FakeFleetRunner([], missing=["w1"]))
    assert rounds.wait(0)


def test_a_report_carries_the_round_it_answers():
    runner = FakeFleetRunner([])
    distributed.send_report(runner, lambda: {distributed.REPORT_KEY: "x"}, 7)
    assert runner.sent == [(distributed.REPORT_MESSAGE, {distributed.REPORT_KEY: "x", distributed.ROUND_KEY: 7}, None)]


class FakeMessage:
    def __init__(self, type, data, node_id):
        self.type, self.data, self.node_id = type, data, node_id


class FakeMaster:
    def __init__(self, state, connected):
        self.state, self.clients, self.calls, self.sent = state, {c: object() for c in connected}, [], []
        self.server = SimpleNamespace(send_to_client=lambda message: self.sent.append((message.type, message.node_id)))

    def stop(self):
        self.calls.append("stop")

    def quit(self):
        self.calls.append("quit")


def test_quit_stops_the_workers_first_and_reaches_the_ones_that_already_left():
    runner = FakeMaster("running", connected=["w1"])
    fleet = distributed.Fleet(seen={"w1", "w2"})  # w2 said "client_stopped" and left runner.clients
    distributed.finish_reports_before_quit(runner, fleet, message=FakeMessage)
    runner.quit()
    assert runner.calls == ["stop", "quit"]
    assert runner.sent == [("quit", "w2")]


def test_quit_of_a_stopped_master_does_not_stop_again():
    runner = FakeMaster("stopped", connected=[])
    distributed.finish_reports_before_quit(runner, distributed.Fleet(), message=FakeMessage)
    runner.quit()
    assert runner.calls == ["quit"]


def test_the_seams_import_without_locust_and_agree_with_its_runner_states():
    """These tests run in the test process: importing locust would monkey-patch it."""
    code = ("import sys; from loadgen.locust_adapter import distributed, intervals, open_loop, session, replay_feed; "
            "assert 'locust' not in sys.modules, 'locust imported'; "
            "from locust.runners import STATE_INIT, STATE_STOPPED; "
            "assert distributed.IDLE_STATES == (STATE_INIT, STATE_STOPPED), distributed.IDLE_STATES")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- open-loop turns --------------------------------------------------------------------------
def test_turns_sleep_until_each_scheduled_send_and_report_no_lag_when_on_time():
    clock = FakeClock()
    turns = Turns(Pacer(Constant(10.0), arrival="uniform"), clock=clock, sleep=clock.sleep)
    start = clock.now
    turns_taken = [turns.wait() for _ in range(4)]
    assert turns_taken == [(0.0, pytest.approx(0.1))] * 4
    assert clock.now - start == pytest.approx(0.3)  # sends at 0, 0.1, 0.2, 0.3 s
    assert clock.sleeps == [pytest.approx(0.1)] * 3


def test_a_late_send_carries_its_lag_and_does_not_sleep():
    clock = FakeClock()
    turns = Turns(Pacer(Constant(10.0), arrival="uniform"), clock=clock, sleep=clock.sleep)
    turns.wait()  # the schedule starts now
    clock.now += 0.45  # the user was busy: the next send was due at +0.1
    lag, interval = turns.wait()
    assert lag == pytest.approx(0.35) and interval == pytest.approx(0.1)
    assert clock.sleeps == []


def test_a_weighted_turn_takes_that_many_arrival_intervals():
    clock = FakeClock()
    turns = Turns(Pacer(Constant(10.0), arrival="uniform"), clock=clock, sleep=clock.sleep)
    start = clock.now
    turns.wait(weight=3)  # draws 0, 0.1, 0.2: leaves at +0.2
    assert clock.now - start == pytest.approx(0.2)


def test_each_process_paces_its_share_and_holds_its_share_of_inflight_slots():
    options = SimpleNamespace(arrival_shape=Constant(100.0), arrival="uniform", max_inflight=10,
                              payload=PayloadConfig(kind="text"))
    turns = turns_for(options, index=1, processes=4)
    assert turns.pacer.share == pytest.approx(0.25)
    assert turns._slots.counter == 3  # ceil(10 / 4)
    turns.pacer.next_ticket(0.0)
    assert turns.pacer.next_ticket(0.0).interval_s == pytest.approx(0.04)
    closed = SimpleNamespace(arrival_shape=None)
    assert turns_for(closed, index=0, processes=1) is CLOSED_LOOP and CLOSED_LOOP.wait(3) is None


def test_a_turn_holds_an_inflight_slot_until_it_ends():
    clock = FakeClock()
    turns = Turns(Pacer(Constant(10.0), arrival="uniform"), slots=1, clock=clock, sleep=clock.sleep)
    turns.wait()
    assert turns._slots.locked()
    turns.end()
    assert not turns._slots.locked()


# -- intervals and the ticker -------------------------------------------------------------------
def test_each_flush_writes_one_interval_and_moves_it_into_the_total(tmp_path):
    clock = FakeClock(now=1_700_000_000.0)
    intervals = Intervals(clock=clock)
    intervals.open_series(tmp_path)
    for seconds, count in ((1.0, 10), (2.0, 30)):  # two intervals of different load
        for _ in range(count):
            intervals.current.add(_result(latency_s=0.02))
        clock.now += seconds
        intervals.flush()
    intervals.current.add(_result(latency_s=0.5))
    assert intervals.live().entry("grpc", "/search").requests == 41 and intervals.total.entry("grpc", "/search").requests == 40
    clock.now += 1.0
    intervals.close_series()
    all_rows = list(csv.DictReader(io.StringIO((tmp_path / "timeseries.csv").read_text())))
    rows = [r for r in all_rows if r["request_type"] == "grpc"]
    assert [(r["elapsed_s"], r["requests"], r["rps"]) for r in rows] == [
        ("1.000", "10", "10.000"), ("3.000", "30", "15.000"), ("4.000", "1", "1.000")]
    totals = [r for r in all_rows if r["request_type"] == "total"]  # one endpoint: the same figures
    assert [(r["elapsed_s"], r["requests"], r["rps"]) for r in totals] == [
        (r["elapsed_s"], r["requests"], r["rps"]) for r in rows]
    assert float(rows[2]["max_ms"]) == pytest.approx(500.0)
    assert intervals.total.entry("grpc", "/search").requests == 41
    assert len([line for line in (tmp_path / "histograms.hlog").read_text().splitlines()
                if line.startswith("Tag=")]) == 3


def test_an_unwritable_results_directory_costs_the_series_not_the_figures(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    intervals = Intervals()
    intervals.open_series(blocker / "results")  # a directory below a file: cannot be made
    intervals.current.add(_result())
    intervals.close_series()
    assert intervals.series is None and intervals.total.entry("grpc", "/search").requests == 1


class Stop(Exception):
    pass


def test_the_ticker_works_once_per_interval_of_its_clock():
    clock = FakeClock(now=0.0)
    seen = []

    def work():
        seen.append(clock.now)
        if len(seen) == 3:
            raise Stop

    with pytest.raises(Stop):
        Ticker(2.5, work, sleep=clock.sleep).run()
    assert seen == [2.5, 5.0, 7.5]


def test_the_run_clock_counts_from_start_to_stop():
    clock = FakeClock(now=10.0)
    run = RunClock(clock=clock)
    run.start()
    clock.now += 4.0
    assert run.duration_s == 4.0  # so far, while running
    run.stop()
    clock.now += 100.0
    assert run.duration_s == 4.0


# -- the session with a mock transport ---------------------------------------------------------------
class FakeStats:
    def __init__(self):
        self.logged = []

    def get(self, name, request_type):
        return SimpleNamespace(log=lambda ms, length: self.logged.append((request_type, name, ms)),
                               log_many=lambda values, now: self.logged.extend((request_type, name, ms) for ms in values))


def _session(options_factory, **option_changes):
    fired = []
    environment = SimpleNamespace(
        host="grpc://127.0.0.1:1", runner=None, parsed_options=SimpleNamespace(), stats=FakeStats(),
        events=SimpleNamespace(request=SimpleNamespace(fire=lambda **kw: fired.append(kw))))
    return Session(environment, kind="text", options=options_factory(**option_changes)), fired


@pytest.fixture
def options_factory():
    from loadgen.locust_adapter.options import RunOptions

    def make(**changes):
        base = dict(protocol="grpc", grpc_mode="unary", timeout_s=1.0, task_mix={"/search": 1},
                    payload=PayloadConfig(kind="text", request_size=1, pool_size=2), results_dir="unused",
                    preindex_docs=0, flow="text", flow_replicas=1, flow_shards=1, skip_host_check=True)
        return RunOptions(**{**base, **changes})

    return make


def test_a_result_from_the_transport_is_counted_once_and_its_routes_are_parts_not_requests(options_factory):
    session, fired = _session(options_factory)
    routes = (Route("gateway", 100.0, 100.008), Route("encoder", 100.001, 100.006))

    def reply(request):
        return Result(endpoint=request.endpoint, protocol="grpc", started_at=0.0, latency_s=0.010,
                      bytes_out=request.size, bytes_in=50, docs_sent=1, routes=routes)

    with MockTransport(reply) as transport:
        session.record(transport.send(session.next_request("/search")))
    assert [(f["request_type"], f["name"], f["response_time"]) for f in fired] == [("grpc", "/search", 10.0)]
    entries = session.intervals.current.entries
    assert entries[("grpc", "/search")].requests == 1
    assert entries[("executor", "encoder")].latency.percentile_ms(50) == pytest.approx(5.0, rel=1e-3)
    assert ("breakdown", "network + client") in entries  # 2 ms between client and gateway
    assert session.environment.stats.logged == []  # parts reach Locust's rows in batches
    session.log_parts()
    assert ("executor", "encoder", pytest.approx(5.0, rel=1e-3)) in session.environment.stats.logged
    session.log_parts()
    assert len(session.environment.stats.logged) == 3  # encoder, gateway overhead, network + client: once


def test_a_full_batch_of_parts_is_logged_at_once_so_no_flush_logs_more_than_a_batch(options_factory):
    from loadgen.locust_adapter.session import PART_BATCH
    session, _ = _session(options_factory)
    routes = (Route("gateway", 100.0, 100.008), Route("encoder", 100.001, 100.006))
    result = Result(endpoint="/search", protocol="grpc", started_at=0.0, latency_s=0.010, bytes_out=1, routes=routes)
    logged = session.environment.stats.logged
    for _ in range(PART_BATCH - 1):
        session.record(result)
    assert logged == []
    session.record(result)  # the batch is full: its 3 kinds go to Locust's rows now
    assert len(logged) == 3 * PART_BATCH and session.part_ms == {}
    session.record(result)
    session.log_parts()
    assert len(logged) == 3 * (PART_BATCH + 1)


def test_a_validator_message_or_exception_becomes_a_validation_failure(options_factory):
    session, _ = _session(options_factory, validator="unused:unused", validator_kwargs={"limit": 1})
    session.validator = lambda result, limit: None if result.docs_sent <= limit else "too many docs"
    assert session.validate(_result()).error is None
    failed = session.validate(_result(docs_sent=2))
    assert isinstance(failed.error, ValidationError) and str(failed.error) == "too many docs"
    session.validator = lambda result, limit: 1 / 0
    raised = session.validate(_result())
    assert "raised ZeroDivisionError" in str(raised.error)


def test_a_request_cut_short_by_the_end_of_the_run_is_unfinished_not_lost(options_factory):
    session, fired = _session(options_factory)
    session.record_unfinished("grpc", "/search")
    stats = session.intervals.current.entry("grpc", "/search")
    assert (stats.unfinished, stats.requests, fired) == (1, 0, [])


def test_the_replay_share_reports_done_once_when_used_up_with_nothing_in_flight():
    items = [("line1", "req1"), ("line2", "req2"), None]
    feed = SimpleNamespace(next=lambda: items.pop(0) if items[0] is not None else None, close=lambda: None)
    done = []
    share = ReplayShare(feed, on_done=lambda: done.append(1))
    assert share.next() == ("line1", "req1") and share.next() == ("line2", "req2")
    assert share.next() is None and done == []  # two lines still in flight
    share.sent()
    assert share.next() is None and done == []
    share.sent()
    assert share.next() is None and share.next() is None
    assert done == [1]


# -- the end of a run ------------------------------------------------------------------------------
@pytest.mark.parametrize("broken", ["write_report", "render_table"])
def test_a_renderer_that_raises_costs_only_its_own_output(options_factory, tmp_path, monkeypatch, capsys, broken):
    """summary.json, report.html, the printed table and the --slo exit code are made one by
    one: whatever one of them raises, the others are there and the error names what is missing."""
    from loadgen.locust_adapter import finish, warmup
    from loadgen.slo import parse_slo

    session, _ = _session(options_factory, results_dir=str(tmp_path), slos=(parse_slo("p50<0.001ms"),))
    session.clock.start()
    session.intervals.open_series(tmp_path)
    for latency_s in (0.010, 0.020, 0.030):
        session.record(_result(latency_s=latency_s))
    session.clock.stop()
    warmup.flush(session, local=True, close=True)  # as lifecycle does at quitting

    def boom(*_, **__):
        raise RuntimeError("boom")

    monkeypatch.setattr(finish, broken, boom)
    code = finish.finish_run(session, duration_s=session.clock.duration_s, users=1)
    assert code == 3, "the violated gate still sets the exit code"
    assert (tmp_path / "summary.json").is_file()
    assert (tmp_path / "report.html").is_file() == (broken != "write_report")
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("loadgen: error: ") and "RuntimeError: boom" in errors[0]
    assert "SLO gates" in session.report_text and "FAIL" in session.report_text.upper()
    if broken == "write_report":
        assert "report.html is missing" in session.report_text and "/search" in session.report_text
    else:
        assert "table NOT rendered" in session.report_text and "summary written to" in session.report_text
