"""``loadgen run`` end to end on loopback: real demo Flows, real Locust child processes."""
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadgen.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.locust]
ROOT = Path(__file__).resolve().parents[2]
LOADGEN = Path(sys.executable).parent / "loadgen"


def loadgen_run(*args, timeout=240):
    return subprocess.run([str(LOADGEN), "run", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def table_rows(results):
    with open(results / "table.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def test_smoke_scenario_end_to_end(tmp_path):
    """start_flow → index → query → terminate_flow → report against the demo Flow."""
    results = tmp_path / "results"
    proc = loadgen_run("scenarios/smoke.yml", "--results-dir", results, "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = table_rows(results)
    assert [(r["job"], r["step"]) for r in rows] == [("smoke", "02-index"), ("smoke", "03-query")]
    for row in rows:
        assert int(row["requests"]) > 0 and int(row["failures"]) == 0 and row["status"] == "ok"
        assert float(row["req/s"]) > 0 and 0 < float(row["p50 ms"]) <= float(row["p99 ms"])
        assert float(row["encoder mean ms"]) > 0 and float(row["indexer mean ms"]) > 0  # mean time per Executor
    point = results / "smoke" / "point1_rep1"
    index = json.loads((point / "02-index" / "summary.json").read_text())
    assert list(index["endpoints"]) == ["/index"] and index["request_size"] == 2
    query = json.loads((point / "03-query" / "summary.json").read_text())
    assert list(query["endpoints"]) == ["/search"] and query["top_k"] == 5
    # A step records the `locust` command it equals, not `loadgen run`'s own argv.
    assert query["run"]["command"].startswith("locust -f ") and "--top-k 5" in query["run"]["command"]
    assert list((point / "01-start_flow").glob("flow-*.log"))
    assert "| smoke | 02-index | 1 |" in (results / "table.md").read_text()
    data = json.loads((results / "results.json").read_text())
    assert [s["status"] for s in data["steps"]] == ["ok", "ok"] and len(data["table"]) == 2
    assert "03-query" in proc.stdout and "requests" in proc.stdout  # the printed table
    assert proc.stdout.count("03-query") == 1, "printed once: by the report step, not again at the end"
    assert proc.stderr == ""  # --quiet


FAILING = """
jobs:
  unreachable:
    steps:
      - method: index
        gateway_host: 127.0.0.1
        gateway_port: {port}
        execution_time: 1
      - method: report
  next:
    steps:
      - method: report
"""


def test_failing_step_stops_its_job_and_the_run_goes_on(tmp_path):
    scenario = tmp_path / "failing.yml"
    scenario.write_text(FAILING.format(port=free_port()))
    proc = loadgen_run(scenario, "--results-dir", tmp_path / "results", "--quiet", timeout=120)
    assert proc.returncode == 1, proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("loadgen: error:")]
    assert len(error) == 1 and f"{scenario}:5: jobs.unreachable.steps[0] (index, point1_rep1): " in error[0]
    assert "no Jina gateway answers" in error[0]
    rows = table_rows(tmp_path / "results")
    assert len(rows) == 1 and rows[0]["status"].startswith("failed: ")


INTERRUPTED = """
jobs:
  long:
    steps:
      - method: start_flow
        flow: text
      - method: index
        execution_time: 120
        request_size: 2
        inputs: random_texts
"""


def _port_open(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_ctrl_c_stops_the_flow_and_keeps_results(tmp_path):
    scenario, results = tmp_path / "long.yml", tmp_path / "results"
    scenario.write_text(INTERRUPTED)
    proc = subprocess.Popen([str(LOADGEN), "run", str(scenario), "--results-dir", str(results)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    series = results / "long" / "point1_rep1" / "02-index" / "timeseries.csv"
    deadline = time.monotonic() + 150
    while not (series.exists() and len(series.read_text().splitlines()) > 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
        time.sleep(0.3)
    port = int(next((results / "long" / "point1_rep1" / "01-start_flow").glob("flow-*.log")).stem.split("-")[-1])
    assert _port_open(port)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted: Flows stopped, results so far kept" in err
    rows = table_rows(results)
    assert rows[0]["status"] == "interrupted" and int(rows[0]["requests"]) > 0
    assert not _port_open(port)
    assert json.loads((series.parent / "summary.json").read_text())["total"]["requests"] > 0


def test_scale_out_two_replicas_serve_more_than_one(tmp_path):
    """scenarios/scale_out.yml: a slow Executor (50 ms per request) with replicas 1 and 2;
    the direction only, with a generous margin (ideal: twice as many req/s)."""
    results = tmp_path / "results"
    proc = loadgen_run("scenarios/scale_out.yml", "--results-dir", results, "--quiet", "--set", "EXECUTION_TIME=3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {int(r["replicas"]): r for r in table_rows(results)}
    assert set(rows) == {1, 2} and all(int(r["failures"]) == 0 for r in rows.values())
    assert float(rows[2]["req/s"]) > 1.3 * float(rows[1]["req/s"]) > 0
    assert (results / "scale_out" / "workspace" / "slow.yml").read_text().count("delay_ms: 50") == 1


def test_replay_scenario_holds_a_rate(tmp_path):
    """scenarios/replay.yml at one rate: a warm-up index (not in the table), then the file."""
    results = tmp_path / "results"
    proc = loadgen_run("scenarios/replay.yml", "--results-dir", results, "--quiet", "--set", "rate=40",
                       "--set", "EXECUTION_TIME=3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = table_rows(results)
    assert [(r["rate"], r["step"]) for r in rows] == [("40", "03-query")]
    assert int(rows[0]["requests"]) > 0 and int(rows[0]["failures"]) == 0 and rows[0]["p99 corrected ms"]
    summary = json.loads((results / "replay" / "rate=40_rep1" / "03-query" / "summary.json").read_text())
    assert summary["replay"]["lines_per_pass"] == 300 and summary["load_model"] == "open"


def test_shards_scenario_shows_matches_from_every_shard(tmp_path):
    """scenarios/shards.yml at shards=2: every match names its indexer shard, and both shards
    contribute to the /search results (polling ALL plus the TopKRanker)."""
    results = tmp_path / "results"
    proc = loadgen_run("scenarios/shards.yml", "--results-dir", results, "--quiet", "--set", "shards=2",
                       "--set", "EXECUTION_TIME=3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    query = [r for r in table_rows(results) if r["step"] == "03-query"]
    assert [(r["shards"], r["match shards"], r["status"]) for r in query] == [("2", "2", "ok")]
    summary = json.loads((results / "shards" / "shards=2_rep1" / "03-query" / "summary.json").read_text())
    by_shard = summary["endpoints"]["/search"]["match_values"]
    assert set(by_shard) == {"0", "1"} and sum(by_shard.values()) == 10 * 4 * summary["total"]["requests"]


SEARCH_ONE_SHARD = """
jobs:
  any:
    steps:
      - method: start_flow
        flow: text
        shards: 2
        polling: {/index: ANY, /search: ANY}
      - method: index
        execution_time: 2
        num_clients: 2
        inputs: random_texts
      - method: query
        execution_time: 2
        num_clients: 2
        inputs: random_texts
        on_always: {method: validate_texts, kwargs: {shards: 2}}
      - method: terminate_flow
"""


def test_a_flow_that_searches_one_shard_fails_the_shards_check(tmp_path):
    """The demo text Flow with `/search: ANY` polling (a classic mistake): every reply still
    has exactly top_k matches, but from one shard only -- the step must say so and fail the run."""
    (tmp_path / "any.yml").write_text(SEARCH_ONE_SHARD)
    results = tmp_path / "results"
    proc = loadgen_run(tmp_path / "any.yml", "--results-dir", results, "--quiet")
    assert proc.returncode == 1, proc.stderr[-3000:]
    query = [r for r in table_rows(results) if r["step"] == "03-query"]
    assert [(r["failures"], r["match shards"], r["status"]) for r in query] == [
        ("0", "1", "matches from: 1 of 2 shards")]
    assert "polling=/index:ANY,/search:ANY" in (results / "plan.txt").read_text()


STRAY = """
jobs:
  j:
    steps:
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: {port}
        execution_time: 2
        num_clients: 2
        request_size: 1
        top_k: 3
        workers: 1
        inputs: random_texts
"""


def test_a_steps_options_come_from_the_scenario_alone(tmp_path, launch_fake_gateway):
    """Stray LOADGEN_*/LOCUST_* variables in the environment change no step (docs/scenarios.md):
    neither the master nor its worker reads them, and the equivalent command stays exact."""
    port = launch_fake_gateway("--delay-ms", 1)
    scenario = tmp_path / "stray.yml"
    scenario.write_text(STRAY.format(port=port))
    stray = {"LOADGEN_TASK_MIX": "index:1", "LOADGEN_RUN_LABEL": "stray", "LOADGEN_MATCH_FIELD": "shard",
             "LOADGEN_SLO": "p50<0.001ms", "LOADGEN_IMAGE_DTYPE": "int7", "LOCUST_RESET_STATS": "true"}
    env = {**os.environ, **stray}
    results = tmp_path / "results"
    proc = subprocess.run([str(LOADGEN), "run", str(scenario), "--results-dir", str(results), "--quiet"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    step = results / "j" / "point1_rep1" / "01-query"
    summary = json.loads((step / "summary.json").read_text())
    assert list(summary["endpoints"]) == ["/search"] and summary["slo"] == [] and summary["workers"] == 1
    assert summary["run"]["label"] is None and "match_field" not in summary
    assert [row["status"] for row in table_rows(results)] == ["ok"]


TYPO = """
jobs:
  typo:
    steps:
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: {port}
        execution_time: 30
        replay_file: {replay}
"""


def test_a_step_sending_an_endpoint_the_flow_lacks_fails_before_its_load(flow, tmp_path):
    replay = tmp_path / "typo.replay"
    replay.write_text("/serch?kind=text&docs=1\n")
    scenario = tmp_path / "typo.yml"
    scenario.write_text(TYPO.format(port=flow.target.port, replay=replay))
    started = time.monotonic()
    proc = loadgen_run(scenario, "--results-dir", tmp_path / "results", "--quiet", timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 25, "stopped before its 30 s of load"
    error = [line for line in proc.stderr.splitlines() if line.startswith("loadgen: error:")]
    assert len(error) == 1 and "does not serve '/serch' (did you mean '/search'?)" in error[0], proc.stderr
    assert not list((tmp_path / "results").rglob("summary.json"))
