"""The step-method registry: a method is one ``Method`` in ``METHODS``; the loader and the
runner need nothing else. A fake method ``probe`` (no Flow, no Locust) shows each part
called at its moment: keys checked, ``finish``, ``order`` over the job's steps, ``run``,
and ``on_failure`` for a step that fails."""
import io

import pytest

from loadgen.errors import ConfigError
from loadgen.scenarios import parse_plan
from loadgen.scenarios.methods import METHODS, Method
from loadgen.scenarios.model import ScenarioError
from loadgen.scenarios.params import Param, whole
from loadgen.console import Console
from loadgen.scenarios.runner import run_scenario

TWO_PROBES = "jobs:\n  j:\n    steps:\n      - method: probe\n      - method: probe\n        times: {times}\n"


@pytest.fixture
def calls(monkeypatch):
    """Registers ``probe`` (key ``times``, default 1; ``times: 3`` fails at run time)."""
    seen = []

    def finish(kwargs, source):
        seen.append(("finish", str(source.at("times"))))
        return {**kwargs, "doubled": kwargs["times"] * 2}

    def order(step, before):
        seen.append(("order", step.index, before.flow))

    def run(ctx):
        seen.append(("run", ctx.step.index, ctx.step_dir.relative_to(ctx.run_dir).as_posix(), ctx.last_point))
        if ctx.step.kwargs["times"] == 3:
            raise ConfigError("three is too many")

    def on_failure(ctx, status):
        seen.append(("on_failure", ctx.step.index, status))

    monkeypatch.setitem(METHODS, "probe", Method(params={"times": Param(whole(1), 1)}, finish=finish, order=order,
                                                 run=run, on_failure=on_failure))
    return seen


def run_plan(plan, results_dir):
    err = io.StringIO()
    console = Console(stream=err, table_stream=io.StringIO(), quiet=True)
    code = run_scenario(plan, results_dir=results_dir, console=console)
    return code, err.getvalue()


def test_a_registered_method_is_checked_finished_ordered_and_run(calls, tmp_path):
    plan = parse_plan(TWO_PROBES.format(times=2), file="s.yml", variables={})
    steps = plan.jobs[0].points[0].steps
    assert [dict(step.kwargs) for step in steps] == [{"times": 1, "doubled": 2}, {"times": 2, "doubled": 4}]
    assert calls == [("finish", "s.yml:4: jobs.j.steps[0].times"), ("finish", "s.yml:6: jobs.j.steps[1].times"),
                     ("order", 1, None), ("order", 2, None)]
    calls.clear()
    assert run_plan(plan, tmp_path) == (0, "")
    assert calls == [("run", 1, "j/point1_rep1/01-probe", True), ("run", 2, "j/point1_rep1/02-probe", True)]
    assert "1. probe times=1 doubled=2" in (tmp_path / "plan.txt").read_text()


def test_the_keys_of_a_registered_method_are_checked(calls):
    with pytest.raises(ScenarioError) as info:
        parse_plan(TWO_PROBES.format(times=2).replace("times:", "tmes:"), file="s.yml", variables={})
    assert str(info.value) == "s.yml:6: jobs.j.steps[1].tmes: unknown key (did you mean 'times'?); known keys: times"
    with pytest.raises(ScenarioError, match=r"^s\.yml:6: jobs\.j\.steps\[1\]\.times: must be a whole number >= 1"):
        parse_plan(TWO_PROBES.format(times=0), file="s.yml", variables={})


def test_a_failing_step_gets_its_methods_on_failure_and_stops_its_job(calls, tmp_path):
    text = TWO_PROBES.format(times=3) + "      - method: probe\n"
    plan = parse_plan(text, file="s.yml", variables={})
    calls.clear()
    code, err = run_plan(plan, tmp_path)
    assert code == 1
    assert calls == [("run", 1, "j/point1_rep1/01-probe", True), ("run", 2, "j/point1_rep1/02-probe", True),
                     ("on_failure", 2, "failed: three is too many")]
    assert err == "loadgen: error: s.yml:5: jobs.j.steps[1] (probe, point1_rep1): three is too many\n"


def test_every_shipped_method_has_its_parts():
    assert list(METHODS) == ["create_workspace", "update_workspace", "delete_workspace", "start_flow",
                             "terminate_flow", "index", "query", "find_capacity", "advise", "upload_to_s3", "download_from_s3",
                             "report", "compare"]
    for method in METHODS.values():
        assert all(isinstance(param, Param) for param in method.params.values())
        assert callable(method.run) and callable(method.finish) and callable(method.order)
