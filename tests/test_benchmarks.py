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
