"""The ``find_capacity`` scenario step: its keys checked while loading, and a short search
against the real demo Flow whose row in the results table has ``max req/s``."""
import csv
import json
import subprocess
import sys

import pytest

from conftest import ROOT, TOP_K
from loadgen.scenarios import parse_plan
from loadgen.scenarios.model import ScenarioError

STEP = """
jobs:
  cap:
    steps:
      - method: find_capacity
        gateway_host: 127.0.0.1
        gateway_port: {port}
        slo: [{slo}]
        request_size: 2
        top_k: {top_k}
        inputs: {{method: random_images, kwargs: {{shape: [16, 16, 3]}}}}
{extra}"""


GATES = "'/search:p99<500ms', 'failures<1%'"


def plan(extra="", slo=GATES):
    return parse_plan(STEP.format(port=1, top_k=TOP_K, extra=extra, slo=slo), file="s.yml", variables={})


def test_the_keys_default_like_the_command():
    kwargs = plan().jobs[0].points[0].steps[0].kwargs
    assert (kwargs["precision"], kwargs["stability"], kwargs["window"], kwargs["trial_warmup"], kwargs["max_windows"],
            kwargs["rate_factor"], kwargs["max_time"], kwargs["num_clients"]) == (0.05, 0.1, 5.0, 3.0, 8, 2.0, 600.0, None)
    assert "execution_time" not in kwargs and "arrival_rate" not in kwargs
    assert plan("        precision: 10%\n").jobs[0].points[0].steps[0].kwargs["precision"] == 0.1


@pytest.mark.parametrize("extra, slo, message", [
    ("        precision: 0\n", GATES, "precision: must be a percentage > 0 such as 5%, got 0"),
    ("        rate_start: 500\n        rate_max: 100\n", GATES, "rate_start: 500 is above rate_max 100"),
    ("        window: 2\n        report_interval: 3\n", GATES,
     "window: 2 s is shorter than the report interval 3 s (report_interval"),
    ("", "'/search:p98<1s'", "metric 'p98'"),
    ("        execution_time: 10\n", GATES, "execution_time: unknown key"),
])
def test_bad_keys_stop_the_scenario_while_loading(extra, slo, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        plan(extra, slo)


@pytest.mark.integration
@pytest.mark.locust
def test_a_short_search_on_the_demo_flow_fills_max_req_s(flow, tmp_path):
    scenario = tmp_path / "cap.yml"
    scenario.write_text(STEP.format(port=flow.target.port, top_k=TOP_K, slo=GATES, extra=(
        "        rate_start: 20\n        rate_max: 80\n        precision: 50%\n        window: 1\n"
        "        trial_warmup: 1\n        max_windows: 4\n        max_time: 60s\n")))
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "loadgen", "run", str(scenario), "--results-dir", str(results),
                           "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(results / "table.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["step"] for r in rows] == ["01-find_capacity"] and rows[0]["status"] == "ok"
    assert float(rows[0]["max req/s"]) >= 20 and float(rows[0]["max docs/s"]) == pytest.approx(
        2 * float(rows[0]["max req/s"]), rel=0.05)
    assert rows[0]["limit"] in ("rate-max", "slo", "time") and float(rows[0]["p99 ms"]) < 500
    step = results / "cap" / "point1_rep1" / "01-find_capacity"
    data = json.loads((step / "capacity.json").read_text())
    assert data["max_rate"] == float(rows[0]["max req/s"]) and (step / "capacity.html").is_file()
    assert "max req/s" in (results / "table.md").read_text()
