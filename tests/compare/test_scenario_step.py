"""The scenario step ``compare``: its keys are checked while the scenario loads (a missing or
foreign baseline, a bad limit: exit 2 before anything runs); the step waits for the job's last
sweep point (its run against real results: tests/compare/test_gateway_runs.py)."""
import numpy as np
import pytest

from loadgen.scenarios import parse_plan
from loadgen.scenarios.model import ScenarioError

from .conftest import lognormal_intervals, write_run

SCENARIO = """jobs:
  j:
    steps:
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: 1
      - method: compare
        baseline: {baseline}
{extra}"""


def _plan(tmp_path, baseline, extra=""):
    return parse_plan(SCENARIO.format(baseline=baseline, extra=extra), file="s.yml", variables={}, base_dir=tmp_path)


@pytest.fixture
def baseline(tmp_path):
    rng = np.random.default_rng(0)
    return write_run(tmp_path / "base", {"/search": lognormal_intervals(rng, intervals=3, per=5, median_ms=10)})


def test_a_valid_step_gets_an_absolute_baseline_and_defaults(tmp_path, baseline):
    step = _plan(tmp_path, "base").jobs[0].points[0].steps[1]
    assert dict(step.kwargs) == {"baseline": str(baseline.resolve()), "max_regression": (), "confidence": 0.99}
    limits = _plan(tmp_path, "base", "        max_regression: ['p99:+15%', '/search:rps:-10%']\n"
                                     "        confidence: 0.95\n").jobs[0].points[0].steps[1]
    assert limits.kwargs["max_regression"] == ("p99:+15%", "/search:rps:-10%") and limits.kwargs["confidence"] == 0.95


@pytest.mark.parametrize("baseline_dir, extra, message", [
    ("nowhere", "", "s.yml:8: jobs.j.steps[1].baseline: no baseline directory 'nowhere' (relative to {tmp}); "
                    "fix the path"),
    ("notes", "", "s.yml:8: jobs.j.steps[1].baseline: baseline {tmp}/notes: not a results directory (no "
                  "summary.json, results.json or capacity.json); give the --results-dir of a run"),
    ("base", "        max_regression: ['p99:-5%']\n",
     "s.yml:9: jobs.j.steps[1].max_regression[0]: max_regression 'p99:-5%': a higher p99 is worse; write p99:+5%"),
    ("base", "        confidence: 2\n",
     "s.yml:9: jobs.j.steps[1].confidence: must be a number between 0.5 and 1 (e.g. 0.99), got 2"),
    (None, "", "s.yml:7: jobs.j.steps[1].baseline: is required: a results directory to compare with, "
               "e.g. baselines/smoke"),
])
def test_bad_keys_stop_the_scenario_before_it_runs(tmp_path, baseline, baseline_dir, extra, message):
    (tmp_path / "notes").mkdir()
    text = SCENARIO.format(baseline=baseline_dir, extra=extra)
    if baseline_dir is None:
        text = text.replace("        baseline: None\n", "")
    with pytest.raises(ScenarioError) as info:
        parse_plan(text, file="s.yml", variables={}, base_dir=tmp_path)
    assert str(info.value) == message.format(tmp=tmp_path.resolve())
