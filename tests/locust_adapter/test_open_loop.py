"""Open-loop load against a fake gateway with a known latency (tests/fakegateway.py).

Ground truth comes from the gateway's own arrival log and its latency model, not from the
code under test.
"""
import csv
import io
import json
import time

import numpy as np
import pytest

from conftest import ROOT, run_locust
from fakegateway import FakeGateway

pytestmark = pytest.mark.locust


@pytest.fixture
def fake_gateway(tmp_path, launch_fake_gateway):
    """Start a fake gateway process; ``start(**options)`` returns its URL and arrival log path."""
    def start(delay_ms=1.0, stall_at=0.0, stall_s=0.0):
        log = tmp_path / "arrivals.log"
        port = launch_fake_gateway("--delay-ms", delay_ms, "--stall-at", stall_at, "--stall-s", stall_s, "--log", log)
        return f"grpc://127.0.0.1:{port}", log

    return start


def _open_loop_args(tmp_path, host, rate, seconds, users):
    return ["-f", "locustfiles/text.py", "--host", host, "--headless", "-u", str(users), "-r", "1000",
            "-t", f"{seconds}s", "--arrival-rate", str(rate), "--arrival", "uniform", "--task-mix", "search:1",
            "--request-size", "1", "--top-k", "3", "--results-dir", str(tmp_path / "results")]


def _arrivals(log):
    return [float(line.split()[0]) for line in log.read_text().splitlines()]


def test_a_held_rate_is_held_and_every_request_is_counted(fake_gateway, tmp_path):
    host, log = fake_gateway(delay_ms=1.0)
    proc = run_locust(_open_loop_args(tmp_path, host, rate=200, seconds=10, users=20), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "results/summary.json").read_text())
    assert summary["load_model"] == "open" and summary["arrival"]["rate"] == "200"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results/timeseries.csv").read_text())))
    steady = [float(r["rps"]) for r in rows if r["request_type"] == "grpc"][1:-1]  # whole seconds only
    assert len(steady) >= 6 and np.mean(steady) == pytest.approx(200.0, rel=0.02)
    total, arrived = summary["total"], len(_arrivals(log))
    # Without --stop-timeout Locust kills users mid-request: those count as unfinished (the
    # gateway may or may not have seen them), never as lost.
    assert total["requests"] <= arrived <= total["requests"] + total["unfinished"]
    assert total["failures"] == 0 and total["late"] <= 0.05 * total["requests"]  # a shared 2-core box


def test_a_stall_is_corrected_and_the_uncorrected_figure_is_shown(fake_gateway, tmp_path):
    """A 1 s stall under a held 100 req/s: requests scheduled during the stall leave late; the
    corrected p99 counts their wait (within 5% of the schedule-based truth)."""
    stall_at = time.time() + 5.0
    host, log = fake_gateway(delay_ms=2.0, stall_at=stall_at, stall_s=1.0)
    proc = run_locust(_open_loop_args(tmp_path, host, rate=100, seconds=10, users=10), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    total = json.loads((tmp_path / "results/summary.json").read_text())["total"]
    arrivals = _arrivals(log)
    assert arrivals[0] < stall_at < arrivals[-1], "the stall must fall inside the run"
    model = FakeGateway(delay_s=0.002, stall_at=stall_at, stall_s=1.0, log_path=None)
    scheduled = arrivals[0] + np.arange(total["requests"]) / 100.0  # uniform: one every 10 ms
    truth_p99_ms = np.percentile([model.latency_at(t) for t in scheduled], 99) * 1000
    corrected, uncorrected = total["latency_ms"]["p99"], total["latency_ms_uncorrected"]["p99"]
    assert corrected == pytest.approx(truth_p99_ms, rel=0.05)
    assert uncorrected < 0.5 * corrected, "without correction the stall hides (coordinated omission)"
    assert total["late"] > 50


def test_with_a_stop_timeout_every_sent_request_is_answered_and_counted(fake_gateway, tmp_path):
    host, log = fake_gateway(delay_ms=20.0)
    args = [*_open_loop_args(tmp_path, host, rate=100, seconds=4, users=10), "--stop-timeout", "5"]
    proc = run_locust(args, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    total = json.loads((tmp_path / "results/summary.json").read_text())["total"]
    assert total["unfinished"] == 0 and total["requests"] == len(_arrivals(log)) > 300


def test_locusts_own_table_and_csv_carry_the_corrected_latency(fake_gateway, tmp_path):
    """Locust's CSV (its table and charts get the same numbers from the request event) shows
    what a user would have experienced: under a 1 s stall its max and p99 agree with the
    summary's corrected figures, not with the uncorrected ones."""
    stall_at = time.time() + 4.0
    host, _ = fake_gateway(delay_ms=2.0, stall_at=stall_at, stall_s=1.0)
    args = [*_open_loop_args(tmp_path, host, rate=100, seconds=7, users=10), "--csv", str(tmp_path / "locust")]
    proc = run_locust(args, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    total = json.loads((tmp_path / "results/summary.json").read_text())["total"]
    corrected, uncorrected = total["latency_ms"], total["latency_ms_uncorrected"]
    # The users stuck in the stall wait as long either way: p95 tells the two apart.
    assert uncorrected["p95"] < 0.5 * corrected["p95"], "the stall must make the two differ"
    rows = list(csv.DictReader(io.StringIO((tmp_path / "locust_stats.csv").read_text())))
    row = next(r for r in rows if r["Type"] == "grpc" and r["Name"] == "/search")
    assert int(row["Request Count"]) == pytest.approx(total["requests"], abs=3)  # Locust's CSV is written first
    # Locust writes whole ms and rounds its percentiles to 2 significant digits above 100 ms.
    assert float(row["Max Response Time"]) == pytest.approx(corrected["max"], abs=1.0)
    for column, key in (("95%", "p95"), ("99%", "p99")):
        assert float(row[column]) == pytest.approx(corrected[key], rel=0.06), column
    assert float(row["95%"]) > 2 * uncorrected["p95"]


def _gauges(tmp_path):
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results/timeseries.csv").read_text())))
    return [r for r in rows if r["request_type"] == "total" and r["users"] != ""], rows


def test_users_and_requests_in_flight_over_time(fake_gateway, tmp_path):
    """Uniform arrivals every 100 ms into a gateway that answers in 200 ms: 2 requests are in
    flight at any instant (Little's law: 10/s x 0.2 s; 3 for a moment at each arrival, more
    only if the shared machine slows the replies), whatever the 20 users."""
    host, _ = fake_gateway(delay_ms=200.0)
    proc = run_locust(_open_loop_args(tmp_path, host, rate=10, seconds=6, users=20), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    totals, rows = _gauges(tmp_path)
    assert len(totals) >= 4 and {r["users"] for r in totals} == {"20"}
    steady = [int(r["inflight"]) for r in totals[1:]]
    assert all(2 <= n <= 4 for n in steady) and np.mean(steady) <= 3.2, steady
    assert {r["users"] for r in rows if r["elapsed_s"] == totals[2]["elapsed_s"]} == {"20"}, "every row of an interval"


def test_in_closed_loop_every_user_is_in_flight(fake_gateway, tmp_path):
    """5 users against a 200 ms gateway: each spends all but a fraction of a millisecond of its
    cycle waiting for a reply, so every sample finds 5 in flight."""
    host, _ = fake_gateway(delay_ms=200.0)
    args = ["-f", "locustfiles/text.py", "--host", host, "--headless", "-u", "5", "-r", "1000", "-t", "5s",
            "--task-mix", "search:1", "--request-size", "1", "--top-k", "3", "--results-dir", str(tmp_path / "results")]
    proc = run_locust(args, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    totals, _ = _gauges(tmp_path)
    assert len(totals) >= 3 and [(r["users"], r["inflight"]) for r in totals] == [("5", "5")] * len(totals)


def test_with_workers_each_interval_holds_the_fleets_rate(fake_gateway, tmp_path):
    """Two workers pace 30 req/s each (uniform); the master's intervals last 1.5 s while
    Locust's own worker reports come every 3 s. Each whole interval must show 60 req/s: it
    holds one delta per worker over the same stretch of time (binned by the arrival of
    Locust's reports, with 4.5 s intervals, they alternated between one and two deltas per
    worker: 80 and 40 req/s; and intervals under 3 s were not possible)."""
    host, log = fake_gateway(delay_ms=5.0)
    args = [*_open_loop_args(tmp_path, host, rate=60, seconds=17, users=10), "--processes", "2",
            "--report-interval", "1.5"]
    proc = run_locust(args, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [r for r in csv.DictReader(io.StringIO((tmp_path / "results/timeseries.csv").read_text()))
            if r["request_type"] == "total"]
    whole = rows[1:-1]  # the first holds the start, the last the stop
    assert len(whole) >= 6, rows
    ends = [float(r["elapsed_s"]) for r in rows]
    assert all(1.5 <= b - a < 1.5 + 0.5 for a, b in zip(ends, ends[1:-1])), ends  # a round's answers take ms
    assert [float(r["rps"]) for r in whole] == [pytest.approx(60.0, rel=0.08)] * len(whole), rows
    summary = json.loads((tmp_path / "results/summary.json").read_text())
    assert summary["workers"] == 2
    assert sum(int(r["requests"]) for r in rows) == summary["total"]["requests"], "every report in one interval"
    assert summary["total"]["requests"] <= len(_arrivals(log)) <= summary["total"]["requests"] + summary["total"]["unfinished"]
