"""The benchmarks' loadgen client (benchmarks/locust_client.py: every loadgen row of ``make
bench`` and the generator-throughput runs) against the fake gateway, run twice into one
results directory as rounds and repeated ``make bench`` runs do: the second run replaces the
first one's files instead of stopping at loadgen's "holds an earlier run's results" check.
Over websocket as the throughput runs do it (``--skip-host-check``: the fake gateway's
replies carry no Executor route, so it cannot say which endpoints it serves)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.locust


@pytest.mark.parametrize("protocol, scheme", [("grpc", "grpc"), ("websocket", "ws")])
def test_the_bench_client_runs_again_into_the_same_results_dir(protocol, scheme, tmp_path, launch_fake_gateway):
    port = launch_fake_gateway("--delay-ms", "1", "--canned", "--protocol", protocol)
    results = tmp_path / "bench-row"
    windows = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/locust_client.py"), "--host",
                               f"{scheme}://127.0.0.1:{port}", "--users", "2", "--duration", "1", "--warmup", "0.5",
                               "--results-dir", str(results), "--skip-host-check"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        windows.append(json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1]))
    assert all(w["requests"] > 0 and w["failures"] == 0 for w in windows)
    summary = json.loads((results / "summary.json").read_text())
    assert summary["protocol"] == protocol
    assert summary["total"]["requests"] >= windows[1]["requests"]  # the second run's files


@pytest.mark.parametrize("floor, protocol, scheme", [("floor_grpc_gevent", "grpc", "grpc"),
                                                     ("floor_websocket_gevent", "websocket", "ws"),
                                                     ("floor_http_gevent", "http", "http")])
def test_each_gevent_floor_measures_a_window(floor, protocol, scheme, launch_fake_gateway):
    port = launch_fake_gateway("--delay-ms", "1", "--canned", "--protocol", protocol)
    proc = subprocess.run([sys.executable, str(ROOT / f"benchmarks/{floor}.py"), "--host", f"{scheme}://127.0.0.1:{port}",
                           "--users", "2", "--duration", "1", "--warmup", "0.3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    window = json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])
    assert window["requests"] > 0 and window["failures"] == 0 and window["crashed"] == 0, window


@pytest.mark.parametrize("protocol, scheme", [("grpc", "grpc"), ("websocket", "ws"), ("http", "http")])
def test_the_locust_floor_measures_a_window_through_locusts_stats(protocol, scheme, launch_fake_gateway):
    """benchmarks/floor_locust.py: a plain Locust user doing the gevent floor's request; its
    requests are counted by Locust's stats, so a window with requests proves the event fired."""
    port = launch_fake_gateway("--delay-ms", "1", "--canned", "--protocol", protocol)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/floor_locust.py"), "--host", f"{scheme}://127.0.0.1:{port}",
                           "--users", "2", "--duration", "1", "--warmup", "0.3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    window = json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])
    assert window["requests"] > 0 and window["failures"] == 0 and window["errors"] == {}, window
    assert window["cpu_us_per_req"] > 0


def test_the_ratios_split_loadgens_cost_into_locusts_and_its_own():
    """bench.json's ratios: loadgen ÷ the Locust floor (loadgen's own work) and the Locust floor
    ÷ the gevent floor (Locust's), informational, next to the targets of the loadgen rows."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_clients import ratios
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    row = lambda cpu: {"protocol": "websocket", "cpu_us_per_req": cpu, "rps": 300.0}  # noqa: E731
    out = ratios({"loadgen-websocket": row(210.0), "floor-locust-websocket": row(120.0),
                  "floor-websocket-gevent": row(100.0)})
    gevent = out["cpu_per_req_vs_gevent_floor"]["loadgen-websocket"]
    assert (gevent["value"], gevent["target"], gevent["met"]) == (2.1, "<= 1.15", False)
    assert out["cpu_per_req_vs_locust_floor"] == {"loadgen-websocket": {
        "value": 1.75, "metric": "cpu_us_per_req", "baseline": "floor-locust-websocket", "target": None, "met": None}}
    assert out["locust_floor_vs_gevent_floor"] == {"floor-locust-websocket": {
        "value": 1.2, "metric": "cpu_us_per_req", "baseline": "floor-websocket-gevent", "target": None, "met": None}}
    assert "cpu_per_req_vs_floor" not in out  # its baseline (floor-websocket) did not run
