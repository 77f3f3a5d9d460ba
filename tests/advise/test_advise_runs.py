"""``loadgen advise`` against a real Flow whose truth is known: the demo Flow with a
deliberately slow encoder (SlowEncoder sleeps 40 ms per request -- a sleep, so replicas help
even on 2 busy cores -- and one replica serves one request at a time: at most 25 req/s per
replica) and the fast demo indexer (about 1 ms). At 30 req/s one encoder replica cannot keep
up (120 % busy) and two can (60 % busy: the p99 of two 40-ms servers at 60 % stays far below
the 400 ms gate), so the advisor must add exactly one encoder replica, never an indexer
replica, and stop there. At 120 req/s nothing within 3 processes holds (3 encoders: 75 req/s).

Each advice runs as a ``python -m loadgen`` process (Locust patches the process it runs in),
from a workspace built here like create_workspace builds it (the user's YAML case: relative
``py_modules``, replicas from the environment). A trial whose load generator was starved by a
busy machine (``generator`` saturated) ends the advice honestly with exit 1: the test checks
that and skips -- rerun it alone.
"""
import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.locust]
DELAY_MS = 40
LOAD = ["--slo", "/search:p99<400ms", "--task-mix", "search:1", "--request-size", "1", "--image-shape", "16,16,3",
        "--preindex-docs", "40", "--window", "2", "--trial-warmup", "1", "--max-windows", "4", "--quiet"]


@pytest.fixture
def slow_flow(tmp_path):
    """A workspace with the slow-encoder Flow YAML (DELAY_MS substituted), the demo package and slow.py."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copytree(ROOT / "scenarios/flows/executors", workspace / "executors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "scenarios/workspaces/slow/slow.py", workspace)
    text = (ROOT / "scenarios/workspaces/slow/slow_encoder.yml").read_text()
    (workspace / "flow.yml").write_text(text.replace("${DELAY_MS:-40}", str(DELAY_MS)))
    return workspace / "flow.yml"


def advise(flow, results, *options, timeout=420):
    """Run an advice; returns (exit code, advice.json or None, stdout, stderr)."""
    argv = [sys.executable, "-m", "loadgen", "advise", "--flow", str(flow), "--results-dir", str(results), *LOAD,
            *options]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    path = results / "advice.json"
    return proc.returncode, json.loads(path.read_text()) if path.is_file() else None, proc.stdout, proc.stderr


def skip_if_starved(code, data):
    """A saturated generator stops the advice (exit 1, no recommendation): checked, then skipped."""
    if data is not None and data["stopped_because"].startswith("generator:"):
        assert code == 1 and data["chosen"] is None and data["tried"][-1]["verdict"] == "generator-saturated"
        pytest.skip("the busy machine starved the load generator (" + data["stopped_because"][:160] + "); rerun alone")


def test_adds_encoder_replicas_until_the_target_holds(slow_flow, tmp_path):
    before = slow_flow.read_text()
    code, data, out, err = advise(slow_flow, tmp_path / "advice", "--target-rate", "30", "--max-processes", "4")
    skip_if_starved(code, data)
    assert code == 0, err[-2000:]
    assert set(data) == {"target_rate", "slo", "chosen", "tried", "stopped_because"}
    assert (data["target_rate"], data["slo"]) == (30.0, ["/search:p99<400ms"])
    assert data["chosen"] == {"topology": {"encoder": {"replicas": 2, "shards": 1}, "indexer": {"replicas": 1, "shards": 1}},
                              "processes": 3, "max_rate": 30.0}
    first, second = data["tried"]
    assert (first["change"], first["verdict"], first["bottleneck"]) == ("the Flow as given", "violated", "encoder")
    assert first["achieved_rate"] <= 1.05 * 1000 / DELAY_MS  # one replica, one request at a time
    assert first["shares"]["encoder"] > 0.8  # the encoder's queue
    assert (second["change"], second["verdict"], second["p99_ms"] < 400) == ("encoder +1 replica", "held", True)
    assert data["stopped_because"].startswith("target-held: encoder 2, indexer 1 holds 30 req/s")
    results = tmp_path / "advice"
    for name in ("advice.html", "recommended.yml", f"{first['dir']}/flow.yml", f"{second['report']}"):
        assert (results / name).is_file(), name
    assert "replicas: 2" in out and slow_flow.read_text() == before  # the fragment; the user's file untouched


def test_a_target_beyond_the_bound_exits_3_with_the_reason(slow_flow, tmp_path):
    code, data, out, err = advise(slow_flow, tmp_path / "advice", "--target-rate", "120", "--max-processes", "3")
    skip_if_starved(code, data)
    assert code == 3, err[-2000:]
    assert data["chosen"] is None and [t["change"] for t in data["tried"]] == ["the Flow as given", "encoder +1 replica"]
    assert data["stopped_because"].startswith("max-processes: one more replica of the bottleneck encoder makes 4")
    assert all(not t["held"] for t in data["tried"]) and "no recommendation" in out
    one, two = (t["achieved_rate"] for t in data["tried"])
    assert one <= 1.05 * 1000 / DELAY_MS and 1.5 * one < two <= 1.05 * 2000 / DELAY_MS  # the replica helped
