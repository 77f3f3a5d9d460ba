"""The capacity search end to end with the pieces it leans on: the generator's self-check
(a generator that cannot keep up ends the search with ``limit: "generator"``, never as the
Flow's limit) and ``loadgen compare`` (two real searches, one against a Flow of half the
capacity, judged by their ``max_rate``).

Truths: a ``--validator`` that burns 15 ms of CPU per reply (tests/locustfiles/cpu_burn.py)
asks R × 15 ms of one core at R req/s, so one process saturates above ~67 req/s whatever the
gateway does; a fake gateway with C slots × D ms serves at most C / D req/s.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.locust
FAST = ["--window", "2", "--trial-warmup", "1", "--max-windows", "4"]


def _loadgen(*args, timeout=300):
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT / "tests/locustfiles")) if p)
    return subprocess.run([sys.executable, "-m", "loadgen", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": path})


def _capacity(host, results, *options):
    proc = _loadgen("capacity", "-f", "locustfiles/text.py", "--host", host, "--task-mix", "search:1",
                    "--request-size", "1", "--results-dir", results, "--quiet", *options)
    path = results / "capacity.json"
    return proc, json.loads(path.read_text()) if path.is_file() else None


def test_a_saturated_generator_ends_the_search_as_the_generators_limit(launch_fake_gateway, tmp_path):
    """20, 40, 80 req/s against a 5 ms gateway that holds far more: at 80 req/s the validator
    asks 1.2 cores of one process, so that trial is the generator's, and the search stops."""
    host = f"grpc://127.0.0.1:{launch_fake_gateway('--delay-ms', 5)}"
    proc, data = _capacity(host, tmp_path, "--slo", "/search:p99<500ms", "--rate-start", "20", "--rate-factor", "2",
                           "--precision", "10%", "--validator", "cpu_burn:burn", "--validator-kwargs", '{"ms": 15}', *FAST)
    assert data is not None, proc.stderr[-3000:]
    assert data["limit"] == "generator", (data["limit"], [t["verdict"] for t in data["trials"]])
    last = data["trials"][-1]
    assert last["verdict"] == "generator-saturated" and last["offered_rate"] <= 80
    summary = json.loads((tmp_path / last["dir"] / "summary.json").read_text())
    assert summary["generator"]["saturated"] is True and summary["generator"]["reason"] in last["reason"]
    assert all(t["verdict"] == "held" for t in data["trials"][:-1])  # nothing before it was the gateway's limit
    assert data["max_rate"] == (data["trials"][-2]["offered_rate"] if len(data["trials"]) > 1 else None)
    assert proc.returncode == (0 if data["max_rate"] else 3), proc.stderr[-2000:]
    assert "generator" in proc.stdout.splitlines()[-1]


def test_compare_judges_two_real_searches_by_their_max_rate(launch_fake_gateway, tmp_path):
    """8 slots × 50 ms (160 req/s) against 4 slots × 50 ms (80 req/s), gate p99 < 120 ms: the
    second search finds about half the rate, and compare calls it a regression (exit 4)."""
    searches = {}
    for name, slots in (("base", 8), ("new", 4)):
        port = launch_fake_gateway("--slots", slots, "--service-ms", 50, "--delay-ms", 0, "--threads", 512)
        proc, data = _capacity(f"grpc://127.0.0.1:{port}", tmp_path / name, "--slo", "/search:p99<120ms",
                               "--rate-start", "40", "--precision", "15%", *FAST)
        assert proc.returncode == 0 and data["max_rate"], proc.stderr[-3000:]
        searches[name] = data
    assert searches["new"]["max_rate"] < 0.8 * searches["base"]["max_rate"], searches
    proc = _loadgen("compare", tmp_path / "base", tmp_path / "new", timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "new" / "compare.json").read_text())
    rows = [r for r in result["rows"] if r["metric"] == "max_rate"]
    assert len(rows) == 1 and rows[0]["verdict"] == "worse", rows
    assert rows[0]["base"] == searches["base"]["max_rate"] and rows[0]["new"] == searches["new"]["max_rate"]
    proc = _loadgen("compare", tmp_path / "new", tmp_path / "base", timeout=120)  # the other way round
    assert proc.returncode == 0, proc.stdout + proc.stderr
