"""Real Locust processes on loopback against the session's demo Flow (a few seconds each)."""
import csv
import io
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, SMALL_IMAGE, TOP_K, run_locust
from loadgen.ports import free_port
from loadgen.reports.series import read_hlog

pytestmark = [pytest.mark.integration, pytest.mark.locust]
SHAPE = ",".join(map(str, SMALL_IMAGE))


def _common(tmp_path, *extra):
    return ["--headless", "-u", "3", "-r", "3", "-t", "4s", "--top-k", str(TOP_K), "--request-size", "2",
            "--results-dir", str(tmp_path / "results"), *extra]


def _summary(tmp_path):
    return json.loads((tmp_path / "results" / "summary.json").read_text())


def test_headless_text_run_writes_summary_and_csv(flow, tmp_path):
    before = time.time()
    proc = run_locust(["-f", "locustfiles/text.py", "--host", flow.target.url, "--csv", str(tmp_path / "run"),
                       "--run-label", "jina 3.33 baseline", "--seed", "5", *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(tmp_path)
    search = summary["endpoints"]["/search"]
    assert search["requests"] > 0 and search["failures"] == 0 and search["rps"] > 0
    assert set(search["latency_ms"]) >= {"p50", "p95", "p99", "max"}
    assert 0 < search["latency_ms"]["p50"] <= search["latency_ms"]["p99"] <= search["latency_ms"]["max"]
    assert summary["kind"] == "text" and summary["target"] == flow.target.url
    run = summary["run"]
    assert run["label"] == "jina 3.33 baseline" and run["seed"] == 5 and run["host"] == flow.target.url
    started, ended = (datetime.strptime(run[k], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
                      for k in ("started_at", "ended_at"))
    assert before - 1 <= started <= ended <= time.time() and ended - started == pytest.approx(summary["duration_s"], abs=1.5)
    assert run["command"].startswith("locust -f locustfiles/text.py --host ") and "--run-label" in run["command"]
    assert set(run["versions"]) == {"python", "loadgen", "locust", "grpcio"}
    assert run["versions"]["locust"] == metadata.version("locust") and "not installed" not in run["versions"].values()
    assert "jina-loadgen summary" in proc.stdout and "/search" in proc.stdout
    rows = (tmp_path / "run_stats.csv").read_text().splitlines()
    aggregated = [r for r in rows if ",Aggregated," in r][0].split(",")
    assert int(aggregated[2]) > 0 and int(aggregated[3]) == 0  # requests, failures


def test_distributed_image_stream_run_merges_every_request(flow, tmp_path):
    """--processes 2: a master and two workers; HDR metrics merge to Locust's own totals."""
    port = free_port()  # not Locust's default 5557: other runs on the machine may use it
    proc = run_locust(["-f", "locustfiles/image.py", "--host", flow.target.url, "--processes", "2",
                       "--master-bind-port", str(port), "--master-port", str(port),
                       "--grpc-mode", "stream", "--image-shape", SHAPE, "--json-file", str(tmp_path / "locust"),
                       *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(tmp_path)
    entries = json.loads((tmp_path / "locust.json").read_text())
    locust_total = sum(e["num_requests"] for e in entries if e["method"] not in ("executor", "breakdown"))
    assert summary["total"]["requests"] == locust_total > 0
    assert summary["total"]["failures"] == 0 and summary["workers"] == 2
    assert set(summary["endpoints"]) == {"/index", "/search"}
    executors = summary["executors"]
    assert set(executors) == {"encoder", "indexer"}
    assert sum(e["count"] for e in executors.values()) == 2 * summary["total"]["requests"]
    assert executors["indexer"]["latency_ms"]["p50"] <= summary["total"]["latency_ms"]["max"]
    assert set(summary["breakdown"]) == {"gateway overhead", "network + client"}
    locust_executor_rows = {e["name"] for e in entries if e["method"] == "executor"}
    assert locust_executor_rows == {"encoder", "indexer"}, "the breakdown shows in Locust's stats too"


def test_without_host_the_demo_flow_is_started_and_stopped(tmp_path):
    proc = run_locust(["-f", "locustfiles/text.py", *_common(tmp_path, "--preindex-docs", "20")], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(tmp_path)
    assert summary["endpoints"]["/search"]["requests"] > 0 and summary["total"]["failures"] == 0
    port = urlsplit(summary["target"]).port
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the demo Flow must be stopped at quit"


@pytest.mark.parametrize("args, needle", [
    (["--request-size", "0"], "--request-size: must be a whole number >= 1"),
    (["--image-shape", "224,x"], "--image-shape: cannot read '224,x'"),
    (["--protocol", "carrier-pigeon"], "--protocol: unknown protocol 'carrier-pigeon'"),
    (["--task-mix", "search:lots"], "--task-mix: bad item 'search:lots'"),
    (["--grpc-mode", "bidi"], "--grpc-mode: unknown mode 'bidi'"),
    (["--host", "ftp://example:21"], "--host: unsupported scheme 'ftp'"),
    (["--timeout", "-3"], "--timeout: must be a number > 0"),
    (["--protocol", "http", "--host", "grpc://127.0.0.1:1"], "--protocol http does not match --host grpc://127.0.0.1:1"),
    (["--validator", "checks.py"], "--validator 'checks.py': expected MODULE:FUNCTION"),
    (["--validator", "no_such_module_lg:check", "--host", "grpc://127.0.0.1:1"],
     "--validator 'no_such_module_lg:check': cannot import no_such_module_lg: ModuleNotFoundError"),
    (["--validator-kwargs", "[1]"], "--validator-kwargs: give a JSON object of keyword arguments"),
    (["--dataset", "python:json:loads", "--dataset-kwargs", "{oops"], "--dataset-kwargs: not JSON"),
    (["--image-dtype", "int7"], "--image-dtype: unknown dtype 'int7'; use uint8, float32, float16"),
    (["--image-dtype", "float32", "--dataset", "builtin:pydoc"], "--image-dtype float32: applies to loadgen's "
                                                                  "generated images"),
])
def test_bad_options_exit_2_with_a_one_line_error(tmp_path, args, needle):
    proc = run_locust(["-f", "locustfiles/image.py", "--headless", "-t", "2s", *args], cwd=ROOT, timeout=60)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert needle in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("scheme", ["grpc", "ws", "http"])
def test_an_unreachable_host_is_a_usage_error(tmp_path, scheme):
    host = f"{scheme}://127.0.0.1:{free_port()}"
    proc = run_locust(["-f", "locustfiles/text.py", "--headless", "-t", "2s", "--host", host], cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert f"--host {host}: no Jina gateway answers" in proc.stderr and "Traceback" not in proc.stderr


def test_a_refusing_gateway_during_a_run_is_recorded_as_connect_failures(tmp_path):
    host = f"grpc://127.0.0.1:{free_port()}"
    proc = run_locust(["-f", "locustfiles/text.py", "--host", host, "--skip-host-check", "--timeout", "2",
                       *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 1, "Locust's --exit-code-on-error for runs with failures"
    summary = _summary(tmp_path)
    assert summary["total"]["requests"] > 0
    assert summary["total"]["failures"] == summary["total"]["requests"]
    assert set(summary["failures"]) == {"connect"} and "Traceback" not in proc.stderr


def test_web_ui_run_and_sigterm_keep_the_results(flow, tmp_path):
    """The web UI starts a swarm over HTTP; SIGTERM ends Locust and summary.json is written."""
    web_port = free_port()
    locust = Path(sys.executable).parent / "locust"
    proc = subprocess.Popen(
        [str(locust), "-f", "locustfiles/text.py", "--web-host", "127.0.0.1", "--web-port", str(web_port),
         "--host", flow.target.url, "--results-dir", str(tmp_path / "results"), "--request-size", "2",
         "--top-k", str(TOP_K)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{web_port}"
        _wait_http(f"{base}/", proc)
        form = urllib.parse.urlencode({"user_count": 2, "spawn_rate": 2, "host": flow.target.url}).encode()
        assert json.loads(urllib.request.urlopen(f"{base}/swarm", data=form, timeout=10).read())["success"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stats = json.loads(urllib.request.urlopen(f"{base}/stats/requests", timeout=10).read())
            total = [s for s in stats["stats"] if s["name"] == "Aggregated"][0]
            if total["num_requests"] >= 20:
                break
            time.sleep(0.5)
        assert total["num_requests"] >= 20 and total["num_failures"] == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    summary = _summary(tmp_path)
    assert summary["endpoints"]["/search"]["requests"] > 0, out[-2000:]
    assert summary["total"]["failures"] == 0


def _wait_http(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()[-2000:]
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_slo_gates_decide_the_exit_code(flow, tmp_path):
    base = ["-f", "locustfiles/text.py", "--host", flow.target.url, *_common(tmp_path)]
    met = run_locust([*base, "--slo", "/search:p99<60s", "--slo", "failures<1%"], cwd=ROOT)
    assert met.returncode == 0, met.stderr[-2000:]
    assert "PASS  /search:p99<60s" in met.stdout and "PASS  failures<1%" in met.stdout
    assert [g["passed"] for g in _summary(tmp_path)["slo"]] == [True, True]
    # The same --results-dir again: replacing the first run's results takes --overwrite.
    violated = run_locust([*base, "--slo", "/search:p99<1us", "--slo", "rps>0", "--overwrite"], cwd=ROOT)
    assert violated.returncode == 3, violated.stderr[-2000:]
    assert "FAIL  /search:p99<1us" in violated.stdout and "PASS  rps>0" in violated.stdout
    gates = _summary(tmp_path)["slo"]
    assert gates[0]["passed"] is False and gates[0]["actual"] > 0.001


def test_a_malformed_slo_is_a_usage_error(tmp_path):
    proc = run_locust(["-f", "locustfiles/text.py", "--headless", "-t", "2s", "--slo", "p99<<5"], cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "--slo: cannot read 'p99<<5'" in proc.stderr


def test_time_series_files_cover_the_whole_run(flow, tmp_path):
    proc = run_locust(["-f", "locustfiles/text.py", "--host", flow.target.url, *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = _summary(tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "results" / "timeseries.csv").read_text())))
    request_rows = [r for r in rows if r["request_type"] == "grpc"]
    assert len({r["elapsed_s"] for r in request_rows}) >= 3, "one interval per second of a 4 s run"
    assert sum(int(r["requests"]) for r in request_rows) == summary["total"]["requests"]
    with open(tmp_path / "results" / "histograms.hlog") as stream:
        intervals = [i for i in read_hlog(stream) if i.tag.startswith("grpc:")]
    assert sum(i.histogram.count for i in intervals) == summary["total"]["timed_requests"]


def test_default_results_dir_is_timestamped_per_locustfile(flow, tmp_path):
    args = ["-f", str(ROOT / "locustfiles/text.py"), "--host", flow.target.url, "--headless", "-u", "1", "-r", "1",
            "-t", "2s", "--top-k", str(TOP_K)]
    proc = run_locust(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (run_dir,) = (tmp_path / "results").iterdir()
    assert run_dir.name.endswith("-text") and (run_dir / "summary.json").is_file()


@pytest.mark.parametrize("flow_fixture, protocol, locustfile", [
    ("flow_ws", "websocket", "text"), ("flow_http", "http", "image"),
])
def test_headless_run_over_websocket_and_http(request, tmp_path, flow_fixture, protocol, locustfile):
    target = request.getfixturevalue(flow_fixture).target
    proc = run_locust(["-f", f"locustfiles/{locustfile}.py", "--protocol", protocol, "--host", target.url,
                       "--image-shape", SHAPE, *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(tmp_path)
    search = summary["endpoints"]["/search"]
    assert search["requests"] > 0 and search["failures"] == 0 and summary["total"]["failures"] == 0
    assert summary["protocol"] == protocol and summary["target"] == target.url
    assert bool(summary["executors"]) == (protocol == "websocket"), "the HTTP gateway returns no routes"


def test_users_that_pin_another_protocol_are_a_usage_error(tmp_path):
    locustfile = tmp_path / "pinned.py"
    locustfile.write_text("from locust import events\n"
                          "from loadgen.locust_adapter import JinaHttpUser, register\n"
                          "register(events, kind='text')\n"
                          "class Pinned(JinaHttpUser):\n    pass\n")
    proc = run_locust(["-f", str(locustfile), "--headless", "-t", "2s", "--host", "grpc://127.0.0.1:1"],
                      cwd=ROOT, timeout=60)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "--protocol: the locustfile's users speak only http but the run uses grpc" in proc.stderr


@pytest.mark.parametrize("locustfile, dataset, extra", [
    ("locustfiles/image.py", "builtin:digits", ["--image-shape", "16,16,3"]),
    ("locustfiles/text.py", "builtin:pydoc", []),
])
def test_a_real_dataset_is_sent_and_described(flow, tmp_path, locustfile, dataset, extra):
    proc = run_locust(["-f", locustfile, "--host", flow.target.url, "--dataset", dataset, *extra,
                       *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = _summary(tmp_path)
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
    assert summary["dataset"]["spec"] == dataset and summary["dataset"]["count"] > 1000


def test_a_bad_dataset_is_a_usage_error(tmp_path):
    proc = run_locust(["-f", "locustfiles/image.py", "--headless", "-t", "2s", "--dataset", f"images:{tmp_path}/none"],
                      cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "--dataset" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("dtype, itemsize", [("float16", 2), ("float32", 4)])
def test_image_dtype_sends_tensors_of_that_dtype_and_is_recorded(tmp_path, launch_fake_gateway, dtype, itemsize):
    """--image-dtype: each request carries request_size tensors of 16x16x3 values of
    ``itemsize`` bytes (plus ~240 bytes of protobuf and request id); summary.json says which."""
    port = launch_fake_gateway("--delay-ms", 1)
    proc = run_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{port}", "--task-mix", "index:1",
                       "--image-shape", "16,16,3", "--image-dtype", dtype, *_common(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = _summary(tmp_path)
    assert summary["image_dtype"] == dtype
    total = summary["total"]
    tensor_bytes = 2 * 16 * 16 * 3 * itemsize  # --request-size 2
    assert total["requests"] > 0 and tensor_bytes < total["bytes_out"] / total["requests"] < tensor_bytes + 400
