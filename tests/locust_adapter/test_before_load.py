"""Mistakes caught before any load (real Locust processes): an endpoint the Flow does not serve,
a schemeless --host at an HTTP/1 server, a --results-dir that holds an earlier run."""
import json

import pytest

from conftest import ROOT, run_locust

pytestmark = [pytest.mark.integration, pytest.mark.locust]


def _run(host, tmp_path, *extra, locustfile="text"):
    return run_locust(["-f", f"locustfiles/{locustfile}.py", "--headless", "-u", "1", "-r", "1", "-t", "2s",
                       "--host", host, "--request-size", "1", "--results-dir", str(tmp_path / "results"), *extra],
                      cwd=ROOT, timeout=90)


def _one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.startswith("loadgen: error:")]
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return lines[0]


@pytest.mark.parametrize("fixture", ["flow", "flow_ws", "flow_http"])
def test_a_task_mix_endpoint_the_flow_lacks_stops_the_run(request, fixture, tmp_path):
    host = request.getfixturevalue(fixture).target.url
    line = _one_error_line(_run(host, tmp_path, "--task-mix", "index:1,serch:4"))
    assert f"--task-mix: the Flow at {host} does not serve '/serch' (did you mean '/search'?)" in line
    assert "/index, /search" in line
    assert not (tmp_path / "results" / "summary.json").exists(), "no load was sent"


def test_a_replay_file_endpoint_the_flow_lacks_stops_the_run(flow, tmp_path):
    replay = tmp_path / "typo.replay"
    replay.write_text("/search?kind=text&docs=1\n/indx?kind=text&docs=1\n")
    line = _one_error_line(_run(flow.target.url, tmp_path, "--replay-file", str(replay), locustfile="replay"))
    assert f"--replay-file {replay}: the Flow at {flow.target.url} does not serve '/indx' (did you mean '/index'?)" in line


def test_skip_host_check_sends_anyway(flow, tmp_path):
    proc = _run(flow.target.url, tmp_path, "--task-mix", "serch:1", "--skip-host-check")
    assert proc.returncode == 1, proc.stderr[-2000:]  # every request failed: the gateway skipped its Executors
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["total"]["failures"] == summary["total"]["requests"] > 0


@pytest.mark.parametrize("fixture", ["flow_http", "flow_ws"])
def test_a_schemeless_host_at_an_http1_server_gets_a_hint(request, fixture, tmp_path):
    address = request.getfixturevalue(fixture).target.address
    line = _one_error_line(_run(address, tmp_path))
    assert "answers HTTP/1, not gRPC (a host without a scheme means grpc://)" in line
    assert f"--host http://{address}" in line and f"ws://{address}" in line


def test_a_results_dir_with_an_earlier_run_is_refused_unless_overwrite(flow, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    (results / "summary.json").write_text("{}")
    line = _one_error_line(_run(flow.target.url, tmp_path))
    assert line == (f"loadgen: error: --results-dir {results}: holds an earlier run's results (summary.json); "
                    "give a new directory, or --overwrite to replace them")
    assert (results / "summary.json").read_text() == "{}"
    proc = _run(flow.target.url, tmp_path, "--overwrite")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((results / "summary.json").read_text())["total"]["requests"] > 0
    monkeypatch.setenv("LOADGEN_OVERWRITE", "true")
    assert _run(flow.target.url, tmp_path).returncode == 0
