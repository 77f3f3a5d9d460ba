"""Scenario pieces without a Flow: workspaces, Flow reuse (fake Flows), the Locust command
line, step statuses and the results table."""
import io
import json
from pathlib import Path

import pytest

from loadgen.config import TargetConfig
from loadgen.console import Console
from loadgen.scenarios import job_state as job_state_module
from loadgen.scenarios import parse_plan
from loadgen.scenarios.job_state import JobState
from loadgen.scenarios.locust_step import LoadOutcome, load_status, locust_options, run_time
from loadgen.scenarios.model import ScenarioError
from loadgen.scenarios.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


def plan_steps(text, base_dir=ROOT / "scenarios"):
    return parse_plan(text, file="s.yml", variables={}, base_dir=base_dir).jobs[0].points[0].steps


# -- workspaces --------------------------------------------------------------------------------
def test_workspace_copies_files_and_substitutes_yaml(tmp_path):
    source = tmp_path / "src"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "mod.py").write_text("x = '${NOT_SUBSTITUTED}'\n")
    (source / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    (source / "flow.yml").write_text("a: ${A}\nb: ${B:-2}\nport: ${{ ENV.JINA_PORT }}\n")
    state = JobState(tmp_path / "job", out=lambda _: None)
    kwargs = {"files": (str(source / "flow.yml"), str(source / "pkg")), "environment": {"A": "from-env"}}
    workspace = state.write_workspace(kwargs, {"A": "var", "B": "3"}, fresh=True)
    assert (workspace / "flow.yml").read_text() == "a: from-env\nb: 3\nport: ${{ ENV.JINA_PORT }}\n"
    assert (workspace / "pkg" / "mod.py").read_text() == "x = '${NOT_SUBSTITUTED}'\n"
    assert not (workspace / "pkg" / "__pycache__").exists()
    first = state.workspace_digest
    state.write_workspace(kwargs, {"A": "var", "B": "3"}, fresh=True)
    assert state.workspace_digest == first  # same content: a Flow from it would be reused
    state.write_workspace({**kwargs, "environment": {}}, {"A": "var"}, fresh=True)
    assert state.workspace_digest != first
    state.delete_workspace()
    assert not workspace.exists() and state.workspace is None


def test_bad_variable_in_a_workspace_yaml_is_found_before_the_run(tmp_path):
    (tmp_path / "flow.yml").write_text("jtype: Flow\nwith:\n  port: ${PORT}\n")
    text = "jobs:\n  j:\n    steps:\n      - method: create_workspace\n        files: [flow.yml]\n"
    with pytest.raises(ScenarioError, match=r"flow\.yml:3: \$\{PORT\} is not defined"):
        plan_steps(text, base_dir=tmp_path)
    text += "        environment: {PORT: 1}\n"
    assert plan_steps(text, base_dir=tmp_path)[0].kwargs["files"] == (str(tmp_path / "flow.yml"),)


# -- Flows are restarted only when their parameters change ----------------------------------------
class FakeFlow:
    def __init__(self, config):
        self.config, self.stopped = config, 0
        self.target = TargetConfig(protocol=config.protocol, port=1000 + config.replicas)
        self.proc = self
        self.log_path = "log"

    def poll(self):
        return 0 if self.stopped else None

    def stop(self, timeout_s=15.0):
        self.stopped += 1


@pytest.fixture
def fake_flows(monkeypatch):
    started = []

    def start(config, *, log_dir=None):
        started.append(FakeFlow(config))
        return started[-1]

    monkeypatch.setattr(job_state_module, "start_flow", start)
    return started


START = {"flow": "image", "file": None, "protocol": "grpc", "port": None, "replicas": 1, "shards": 1, "top_k": 10,
         "polling": "/index:ANY,/search:ALL", "startup_timeout": 120.0}


def test_flow_reused_when_unchanged_restarted_when_changed(fake_flows, tmp_path):
    state = JobState(tmp_path, out=lambda _: None)
    first = state.start_flow(START, log_dir=tmp_path)
    state.terminate_flow(keep_for_next_point=True)  # more points follow: keep it for now
    assert state.start_flow(START, log_dir=tmp_path) is first and first.stopped == 0
    state.terminate_flow(keep_for_next_point=True)
    second = state.start_flow({**START, "replicas": 2}, log_dir=tmp_path)
    assert first.stopped == 1 and second is not first and len(fake_flows) == 2
    state.terminate_flow(keep_for_next_point=False)
    assert second.stopped == 1 and state.flow is None
    third = state.start_flow(START, log_dir=tmp_path)
    state.close()
    assert third.stopped == 1


def test_target_of_a_load_step(fake_flows, tmp_path):
    state = JobState(tmp_path, out=lambda _: None)
    given = {"gateway_host": "10.0.0.5", "gateway_port": 8080, "protocol": "http", "grpc_mode": "unary"}
    assert state.target(given).url == "http://10.0.0.5:8080"
    state.start_flow(START, log_dir=tmp_path)
    assert state.target({**given, "gateway_host": None}).url == "grpc://127.0.0.1:1001"


# -- index/query: the Locust command line ---------------------------------------------------------
QUERY = """
jobs:
  j:
    steps:
      - method: query
        gateway_host: 127.0.0.1
        gateway_port: 5555
        execution_time: 2m
        num_clients: 4
        request_size: 3
        workers: 2
        image_dtype: float16
        arrival_rate: slowstart:100,30
        slo: ['/search:p99<200ms', 'failures<1%']
        inputs: {method: random_images, kwargs: {shape: [8, 8, 3], seed: 7}}
        on_always: {method: validate_images, kwargs: {top_k: 4}}
"""


def test_locust_options_map_every_key(tmp_path):
    step = plan_steps(QUERY)[0]
    argv = locust_options("query", step.kwargs, target=TargetConfig(port=5555), results_dir=tmp_path)
    text = " ".join(argv)
    assert text.startswith("-f ") and argv[1].endswith("locustfiles/image.py")
    for option in ("--headless", "-u 4 -r 4", "-t 120s", "--host grpc://127.0.0.1:5555", "--task-mix search:1",
                   "--request-size 3", "--top-k 4", "--seed 7", "--image-shape 8,8,3", "--image-dtype float16",
                   "--arrival-rate slowstart:100,30", "--slo /search:p99<200ms --slo failures<1%",
                   f"--results-dir {tmp_path}", "--preindex-docs 0"):
        assert option in text
    # workers: the library run starts the master and its workers (not Locust's --processes)
    assert "--processes" not in argv and step.kwargs["workers"] == 2


@pytest.mark.parametrize("code, summary, status", [
    (0, {"total": {"failures": 0}}, "ok"),
    (1, {"total": {"failures": 3}}, "failures"),
    (3, {"total": {"failures": 0}}, "slo failed"),
    (2, None, "failed: Locust exited with code 2: loadgen: error: --host x: no Jina gateway answers"),
    (-9, None, "failed: Locust exited with code -9"),
])
def test_load_status(tmp_path, code, summary, status):
    log = tmp_path / "locust.log"
    log.write_text("[2026] INFO something\nloadgen: error: --host x: no Jina gateway answers\n")
    assert load_status(LoadOutcome(summary=summary, exit_code=code, log_path=log)).startswith(status)


def test_a_run_without_load_steps_writes_an_empty_table(tmp_path):
    plan = parse_plan("jobs:\n  j:\n    steps:\n      - method: report\n", file="s.yml", variables={})
    out, err = io.StringIO(), io.StringIO()
    assert run_scenario(plan, results_dir=tmp_path, console=Console(stream=err, table_stream=out)) == 0
    assert "no load steps ran" in out.getvalue()
    assert (tmp_path / "table.csv").read_text() == "job,step,status\n"
    assert json.loads((tmp_path / "results.json").read_text())["jobs"] == ["j"]
    assert "1. report" in (tmp_path / "plan.txt").read_text()


@pytest.mark.parametrize("change, message", [
    (("image_dtype: float16", "image_dtype: int7"), r"s\.yml:\d+: jobs\.j\.steps\[0\]\.image_dtype: must be one of "
                                                    r"uint8, float32, float16, got 'int7'"),
    (("{method: random_images, kwargs: {shape: [8, 8, 3], seed: 7}}", "random_texts"),
     r"image_dtype: applies to generated images; inputs random_texts makes text documents"),
])
def test_image_dtype_is_checked_while_loading(change, message):
    text = QUERY.replace(*change).replace("on_always: {method: validate_images, kwargs: {top_k: 4}}", "top_k: 4")
    with pytest.raises(ScenarioError, match=message):
        plan_steps(text)


def test_locust_options_of_a_replay_step(tmp_path):
    text = QUERY.replace("        workers: 2\n", "        replay_file: replay/text-paired.replay\n")
    step = plan_steps(text)[0]
    argv = locust_options("query", step.kwargs, target=TargetConfig(port=5555), results_dir=tmp_path)
    assert argv[1].endswith("locustfiles/replay.py")
    assert argv[argv.index("--replay-file") + 1] == str(ROOT / "scenarios/replay/text-paired.replay")
    assert "--reuse-file" in argv and "--processes" not in argv


@pytest.mark.parametrize("seconds, argv", [(120.0, ["-t", "120s"]), (2.5, ["-t", "3s", "--duration", "2.5"])])
def test_a_fraction_of_a_second_of_execution_time_is_kept(seconds, argv):
    """Locust's -t takes whole seconds only (``-t 2.5s`` stops the step with its usage error);
    loadgen's --duration stops the run at the fraction."""
    assert run_time(seconds) == argv
