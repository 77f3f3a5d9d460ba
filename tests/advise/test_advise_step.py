"""The ``advise`` scenario step: its keys checked while loading (like the command's options),
and the shipped scenarios/advise.yml's plan."""
import subprocess
import sys

import pytest

from conftest import ROOT
from loadgen.scenarios import parse_plan
from loadgen.scenarios.model import ScenarioError

STEP = """
jobs:
  adv:
    steps:
      - method: advise
        flow: image
        target_rate: {target}
        slo: ['/search:p99<400ms']
{extra}"""


def plan(target="30", extra=""):
    return parse_plan(STEP.format(target=target, extra=extra), file="s.yml", variables={})


def test_the_keys_default_like_the_command():
    kwargs = plan().jobs[0].points[0].steps[0].kwargs
    assert (kwargs["target_rate"], kwargs["max_processes"], kwargs["executor"], kwargs["strategy"],
            kwargs["allow_shards"], kwargs["min_gain"], kwargs["measure"], kwargs["preindex_docs"]) == (
        30.0, 8, (), "greedy", False, 0.1, "trial", 1000)
    assert plan("max").jobs[0].points[0].steps[0].kwargs["target_rate"] == "max"
    custom = plan(extra="        executor: [encoder]\n        allow_shards: true\n        min_gain: 5%\n")
    kwargs = custom.jobs[0].points[0].steps[0].kwargs
    assert (kwargs["executor"], kwargs["allow_shards"], kwargs["min_gain"]) == (("encoder",), True, 0.05)


@pytest.mark.parametrize("target, extra, message", [
    ("fast", "", "target_rate: must be a number of requests per second > 0"),
    ("30", "        gateway_host: gw\n        gateway_port: 1\n", "cannot restart a remote one"),
    ("30", "        executor: [nope]\n", "executor: no Executor 'nope' in image.yml; its Executors are encoder, indexer"),
    ("30", "        max_processes: 1\n", "max_processes: 1 is below the 2 Executor processes"),
    ("30", "        strategy: random\n", "strategy: must be one of greedy, grid"),
    ("30", "        file: flow.yml\n", "give exactly one of `flow:`"),
    ("30", "        allow_shards: yes please\n", "allow_shards: must be true or false"),
])
def test_bad_keys_stop_the_scenario_while_loading(target, extra, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(")):
        plan(target, extra)


def test_a_workspace_file_needs_its_workspace():
    text = STEP.format(target="30", extra="").replace("flow: image", "file: slow_encoder.yml")
    with pytest.raises(ScenarioError, match="'slow_encoder.yml' is not in the workspace"):
        parse_plan(text, file="s.yml", variables={})


def test_the_shipped_scenario_plans():
    proc = subprocess.run([sys.executable, "-m", "loadgen", "run", "scenarios/advise.yml", "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "advise" in proc.stdout and "target_rate" in proc.stdout
