"""The benchmarks' loadgen client (benchmarks/locust_client.py: every loadgen row of ``make
bench`` and the generator-throughput runs) run twice into one results directory, as rounds
and repeated ``make bench`` runs do: the second run replaces the first one's files instead
of stopping at loadgen's "holds an earlier run's results" check."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.locust


def test_the_bench_client_runs_again_into_the_same_results_dir(tmp_path, launch_fake_gateway):
    port = launch_fake_gateway("--delay-ms", "1", "--canned")
    results = tmp_path / "bench-row"
    windows = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/locust_client.py"), "--host",
                               f"grpc://127.0.0.1:{port}", "--users", "2", "--duration", "1", "--warmup", "0.5",
                               "--results-dir", str(results)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        windows.append(json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1]))
    assert all(w["requests"] > 0 and w["failures"] == 0 for w in windows)
    summary = json.loads((results / "summary.json").read_text())
    assert summary["total"]["requests"] >= windows[1]["requests"]  # the second run's files
