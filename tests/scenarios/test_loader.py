"""The scenario loader: substitution, env files, --set, sweeps, validation errors (tables),
and a fuzz test that it raises nothing but ScenarioError on arbitrary YAML text."""
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadgen.cli import main
from loadgen.errors import ConfigError
from loadgen.scenarios import ScenarioError, load_plan, parse_plan
from loadgen.scenarios.model import Where
from loadgen.scenarios.sweep import axis_values
from loadgen.scenarios.variables import parse_sets, read_env_file, resolve_value, substitute

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
W = Where("s.yml", "x", 1)


def plan_of(text, base_dir=SCENARIOS, overrides=None, **variables):
    return parse_plan(textwrap.dedent(text), file="s.yml", variables=variables, overrides=overrides or {},
                      base_dir=base_dir)


def steps_of(text, **variables):
    return plan_of(text, **variables).jobs[0].points[0].steps


SMOKE = """
jobs:
  j:
    steps:
      - method: start_flow
        flow: image
      - method: index
        execution_time: 2
"""


# -- substitution ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, variables, expected", [
    ("${A}", {"A": "1"}, "1"),
    ("x-${A}-y", {"A": "b"}, "x-b-y"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),  # like the shell: an empty value takes the default
    ("${A:-}", {}, ""),
    ("${A:-a b c}", {}, "a b c"),
    ("$${A}", {"A": "1"}, "${A}"),
    ("${{ ENV.JINA_PORT }}", {}, "${{ ENV.JINA_PORT }}"),  # Jina's own syntax stays
    ("cost $5 and $HOME", {}, "cost $5 and $HOME"),
    ("${A}${B}", {"A": "1", "B": "2"}, "12"),
])
def test_substitute(text, variables, expected):
    assert substitute(text, variables, W) == expected


@pytest.mark.parametrize("text, message", [
    ("${A}", "${A} is not defined; define A in the --env-file"),
    ("${}", "bad substitution '${}'"),
    ("${1x}", "bad substitution"),
    ("${A", "bad substitution"),
    ("${A:+x}", "bad substitution"),
])
def test_substitute_errors(text, message):
    with pytest.raises(ScenarioError, match=r"^s\.yml:1: x: ") as info:
        substitute(text, {}, W)
    assert message in str(info.value)


@pytest.mark.parametrize("value, expected", [
    ("${N:-2}", 2), ("${N:-2.5}", 2.5), ("${N:-true}", True), ("${N:-[1, 2]}", [1, 2]),
    ("${N:-grpc}", "grpc"), ("n${N:-2}", "n2"), ("${N:-null}", "null"), ("${N:-}", ""), (7, 7),
])
def test_whole_value_substitution_is_typed(value, expected):
    assert resolve_value(value, {}, W) == expected


def test_env_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# comment\n\nA=1\nexport B = two \nC='x y'\nD=\"q\"\nE=v # note\nF=\n")
    assert read_env_file(path) == {"A": "1", "B": "two", "C": "x y", "D": "q", "E": "v", "F": ""}
    path.write_text("A=1\nnot a line\n")
    with pytest.raises(ScenarioError, match=r"\.env:2: a line without '=' \(not shown: it may hold a secret\); env file lines are NAME=VALUE"):
        read_env_file(path)
    with pytest.raises(ScenarioError, match="cannot read the env file"):
        read_env_file(tmp_path / "missing.env")


@pytest.mark.parametrize("items, expected", [
    (["A=1"], {"A": "1"}), (["A="], {"A": ""}), (["A=b=c"], {"A": "b=c"}), ([], {}),
])
def test_parse_sets(items, expected):
    assert parse_sets(items) == expected


@pytest.mark.parametrize("item", ["A", "=1", "1A=2", "a-b=1"])
def test_bad_set(item):
    with pytest.raises(ScenarioError, match=r"^--set: cannot read .*use --set NAME=VALUE"):
        parse_sets([item])


def test_precedence_env_file_environment_set(tmp_path):
    (tmp_path / ".env").write_text("T=1\nU=1\nV=1\n")
    (tmp_path / "s.yml").write_text(SMOKE.replace("execution_time: 2", "execution_time: ${T}\n"
                                                  "        request_size: ${U}\n        num_clients: ${V}"))
    plan = load_plan(tmp_path / "s.yml", env_file=str(tmp_path / ".env"), sets=["V=3"], environ={"U": "2", "V": "2"})
    kwargs = plan.jobs[0].points[0].steps[1].kwargs
    assert (kwargs["execution_time"], kwargs["request_size"], kwargs["num_clients"]) == (1, 2, 3)


# -- sweeps ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, values", [
    ([1, 2], (1, 2)),
    ({"start": 0, "end": 4, "base": 2}, (1, 2, 4, 8)),  # tensorizer: exponents, end exclusive
    ({"start": 18, "end": 20, "base": 2}, (2**18, 2**19)),
    ({"start": 1, "end": 7, "step": 2}, (1, 3, 5)),
    ({"start": 1, "end": 3}, (1, 2)),
    ("grpc", ("grpc",)),
])
def test_axis_values(spec, values):
    assert axis_values(spec, W) == values


@pytest.mark.parametrize("spec", [[], {"start": 4, "end": 4, "base": 2}, {"start": 0, "end": 3, "base": 1},
                                  {"start": 0}, {"start": 0, "end": 2, "base": 2, "step": 1},
                                  {"start": "a", "end": 2}, {"start": 0, "end": 2, "bass": 2}, [[1]]])
def test_bad_axis(spec):
    with pytest.raises(ScenarioError, match=r"^s\.yml:1: x"):
        axis_values(spec, W)


SWEEP = """
jobs:
  j:
    sweep:
      replicas: [1, 2]
      request_size: {start: 0, end: 2, base: 2}
    repeat: 2
    steps:
      - method: start_flow
        flow: image
        replicas: ${replicas}
      - method: query
        request_size: ${request_size}
        inputs: {method: random_texts, kwargs: {seed: "${repetition}"}}
"""


def test_sweep_grid_with_repetitions():
    job = plan_of(SWEEP).jobs[0]
    assert job.axes == ("replicas", "request_size") and job.repeat == 2
    got = [(p.params["replicas"], p.params["request_size"], p.repetition, p.steps[0].kwargs["replicas"],
            p.steps[1].kwargs["request_size"], p.steps[1].kwargs["inputs"].seed) for p in job.points]
    assert got == [(1, 1, 1, 1, 1, 1), (1, 1, 2, 1, 1, 2), (1, 2, 1, 1, 2, 1), (1, 2, 2, 1, 2, 2),
                   (2, 1, 1, 2, 1, 1), (2, 1, 2, 2, 1, 2), (2, 2, 1, 2, 2, 1), (2, 2, 2, 2, 2, 2)]
    assert job.points[0].label == "replicas=1_request_size=1_rep1"


def test_set_collapses_a_swept_axis():
    job = plan_of(SWEEP, overrides={"replicas": "2"}).jobs[0]
    assert {p.params["replicas"] for p in job.points} == {2} and len(job.points) == 4


def test_dry_run_prints_every_point_and_step(tmp_path, capsys):
    (tmp_path / "s.yml").write_text(textwrap.dedent(SWEEP))
    assert main(["run", str(tmp_path / "s.yml"), "--dry-run", "--set", "REPEAT=1"]) == 0
    out = capsys.readouterr().out
    assert "job j: 8 run(s), sweep over replicas, request_size, repeat 2" in out
    assert out.count("1. start_flow flow=image protocol=grpc replicas=2") == 4
    assert "2. query execution_time=10 request_size=2 num_clients=1 inputs=random_texts(seed=2)" in out
    assert not (tmp_path / "results").exists()


# -- validation errors: one line naming FILE:LINE, the key path and the fix --------------------
BAD = [
    ("jobs: {}", "s.yml:1: a scenario needs `jobs:`"),
    ("- a", "s.yml:1: a scenario needs `jobs:`"),
    ("jobs:\n  j: {steps: [}", "s.yml:2: not valid YAML"),
    ("jobs:\n  j:\n    stepz: []", "s.yml:2: jobs.j: a job needs `steps:`"),
    ("jobs:\n  j:\n    steps: [{method: report}]\n    repat: 2", "s.yml:4: jobs.j.repat: unknown key (did you mean 'repeat'?)"),
    ("jobs:\n  j/k:\n    steps: [{method: report}]", "s.yml:2: jobs.j/k: a job name is letters"),
    ("jobs:\n  j:\n    steps:\n      - method: indx", "s.yml:4: jobs.j.steps[0].method: unknown method 'indx' (did you mean 'index'?)"),
    ("jobs:\n  j:\n    steps:\n      - method: collect_stats", "(here it is called 'report')"),
    ("jobs:\n  j:\n    steps:\n      - sleep_time: 2", "s.yml:4: jobs.j.steps[0]: a step is a mapping with `method:`"),
    ("jobs:\n  j:\n    steps:\n      - method: create_workspace", "s.yml:4: jobs.j.steps[0].files: is required"),
    ("jobs:\n  j:\n    steps:\n      - method: create_workspace\n        files: [nope.yml]",
     "s.yml:5: jobs.j.steps[0].files[0]: no file or directory 'nope.yml'"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: imag", "s.yml:5: jobs.j.steps[0].flow: no demo Flow 'imag'; use one of"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: image\n        file: f.yml", "give exactly one of `flow:`"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        file: f.yml", "'f.yml' is not in the workspace"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: image\n        replicas: two",
     "s.yml:6: jobs.j.steps[0].replicas: must be a whole number >= 1, got 'two'"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: image\n        protocol: grpcs",
     "protocol: must be one of grpc, websocket, http"),
    ("jobs:\n  j:\n    steps:\n      - method: index", "s.yml:4: jobs.j.steps[0]: no Flow is running here"),
    ("jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: text\n        polling: {/search: SOME}",
     "s.yml:6: jobs.j.steps[0].polling: polling: unknown polling 'SOME'"),
    ("jobs:\n  j:\n    steps:\n      - method: terminate_flow", "no Flow is running here: add a start_flow"),
    ("jobs:\n  j:\n    steps:\n      - method: update_workspace\n        files: [smoke.yml]", "no workspace yet"),
    ("jobs:\n  j:\n    steps:\n      - method: query\n        gateway_host: h", "give both gateway_host and gateway_port"),
    ("jobs:\n  j:\n    steps:\n      - method: query\n        gateway_host: h\n        gateway_port: 1\n        clients: 2",
     "s.yml:7: jobs.j.steps[0].clients: unknown key (did you mean 'num_clients'?)"),
    ("jobs:\n  j:\n    steps:\n      - method: query\n        gateway_host: h\n        gateway_port: 1\n        client: grpc",
     "client: unknown key (here it is called 'protocol')"),
]
LOAD = "jobs:\n  j:\n    steps:\n      - method: start_flow\n        flow: image\n      - method: query\n"
BAD += [
    (LOAD + "        inputs: {method: random_pictures}", "s.yml:7: jobs.j.steps[1].inputs.method: unknown input generator 'random_pictures'"),
    (LOAD + "        inputs: {method: 'os:system'}", "calling os:system(worker_index=0, workers=1, **{}) failed: TypeError"),
    (LOAD + "        inputs: {method: 'no_such_module_x:docs'}", "cannot import no_such_module_x: ModuleNotFoundError"),
    (LOAD + "        on_always: {method: 'json:no_such_function'}", "json has no function 'no_such_function'"),
    (LOAD + "        headers: {Authorization: sekrit-value}", "headers: must be a list of 'Name: value' strings"),
    (LOAD + "        headers: ['Bearer sekrit-value']", "s.yml:7: jobs.j.steps[1].headers: headers: item 1 is not 'Name: value'"),
    (LOAD + "        inputs: {method: random_images, kwargs: {num_docs: 5}}", "inputs.kwargs.num_docs: unknown key"),
    (LOAD + "        inputs: {method: random_images, kwargs: {shape: [0, 2]}}", "shape: cannot read '0,2'"),
    (LOAD + "        on_always: {method: validate_texts}", "validate_texts checks text documents but inputs random_images"),
    (LOAD + "        on_always: validate_nothing", "unknown validator 'validate_nothing'"),
    (LOAD + "        protocol: http", "s.yml:7: jobs.j.steps[1].protocol: the Flow of step 1 serves grpc, not http"),
    (LOAD + "        execution_time: soon", "execution_time: must be a duration in seconds like 10, 30s"),
    (LOAD + "        execution_time: 0", "execution_time: must be more than 0 seconds"),
    (LOAD + "        slo: ['p99<']", "slo[0]: --slo: cannot read 'p99<'"),
    (LOAD + "        arrival_rate: fast", "arrival_rate: --arrival-rate"),
    (LOAD + "        replay_file: x.replay", "s.yml:7: jobs.j.steps[1].replay_file: no replay file 'x.replay'"),
    (LOAD + "        replay_file: smoke.yml", "smoke.yml:5: 'jobs:' is neither a path nor a URL"),  # the bad line
    (LOAD + "        execution_time: ${T}", "s.yml:7: jobs.j.steps[1].execution_time: ${T} is not defined"),
    (LOAD + "        execution_time: ${T", "execution_time: bad substitution"),
    (LOAD + "        sleep_time: -1", "sleep_time: must be a duration"),
    ("jobs:\n  j:\n    sweep: {replicas: [1, 2]}\n    steps: [{method: report}]",
     "s.yml:3: jobs.j.sweep.replicas: no step uses this swept parameter; reference it as ${replicas}"),
    ("jobs:\n  j:\n    sweep: [1, 2]\n    steps: [{method: report}]", "jobs.j.sweep: must map parameter names"),
    ("jobs:\n  j:\n    repeat: 0\n    steps: [{method: report}]", "s.yml:3: jobs.j.repeat: must be a whole number >= 1"),
    ("jobs:\n  j:\n    steps:\n      - method: upload_to_s3", "give exactly one of `url: s3://BUCKET/PREFIX` or `bucket:`"),
    ("a: 2021-02-30", "not valid YAML"),
    ("a: !!python/object:os.system {}", "not valid YAML"),
    ("a: &a [*a, *a]\njobs: {j: {steps: [{method: report}]}}", "s.yml:1: a: unknown key"),
    ("x-a: &a [*a]\njobs: {j: {steps: [{method: query, gateway_host: h, gateway_port: 1, slo: *a}]}}",
     "nests too deeply"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_scenarios(text, message):
    with pytest.raises(ScenarioError) as info:
        plan_of(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value) and "sekrit" not in str(info.value)


def test_alias_bomb_is_refused_quickly():
    """Eight levels of ten aliases each: 10^8 values if expanded."""
    text = "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        text += f"x-{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    text += "jobs:\n  j:\n    sweep: {n: [1]}\n    steps:\n      - method: query\n        gateway_host: h\n" \
            "        gateway_port: ${n}\n        slo: *h\n"
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="expand to more than"):
        parse_plan(text, file="s.yml", variables={})
    assert time.perf_counter() - started < 5


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "s.yml").write_text("jobs:\n  j:\n    steps:\n      - method: indx\n")
    assert main(["run", str(tmp_path / "s.yml"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s.yml:4: jobs.j.steps[0].method: unknown method 'indx'" in err
    assert main(["run", str(tmp_path / "missing.yml")]) == 2
    assert "cannot read the scenario" in capsys.readouterr().err


def test_scenario_error_is_a_config_error():
    assert issubclass(ScenarioError, ConfigError)


# -- fuzz: the loader raises ScenarioError or returns a plan, nothing else ---------------------
def _loads(text):
    try:
        parse_plan(text, file="f.yml", variables={"A": "1", "B": "[1, 2]"}, overrides={"A": "1"}, base_dir=SCENARIOS)
    except ScenarioError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text(text):
    _loads(text)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 2**70), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["${A}", "${B}", "${C:-3}", "${", "$${A}", "image",
                                                           "start_flow", "index", "query", "report", "terminate_flow",
                                                           "create_workspace", "random_images", "smoke.yml"]))
KEYS = st.one_of(st.sampled_from(["method", "flow", "file", "steps", "sweep", "repeat", "jobs", "inputs", "kwargs",
                                  "execution_time", "num_clients", "gateway_host", "gateway_port", "files",
                                  "on_always", "slo", "shape", "sleep_time", "replicas", "start", "end", "base"]),
                 st.text(max_size=6))
def _containers(inner):
    return st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4))


TREES = st.recursive(SCALARS, _containers, max_leaves=25)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TREES)
def test_fuzz_structured_yaml(tree):
    _loads(yaml.safe_dump({"jobs": {"j": {"steps": tree if isinstance(tree, list) else [tree]}}}))
    _loads(yaml.safe_dump(tree))


SHIPPED = ["smoke", "image", "text", "scale_out", "shards", "transport", "replay"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_validate(name):
    plan = load_plan(SCENARIOS / f"{name}.yml", env_file=str(SCENARIOS / "benchmark.env"), environ={})
    assert plan.jobs and all(job.points for job in plan.jobs)
    assert load_plan(SCENARIOS / f"{name}.yml", environ={}).jobs  # every variable has a default


def test_transport_sweep_expands_protocols_times_powers_of_two():
    job = load_plan(SCENARIOS / "transport.yml", environ={}).jobs[0]
    assert [(p.params["protocol"], p.params["request_size"]) for p in job.points] == [
        (protocol, size) for protocol in ("grpc", "websocket", "http") for size in (1, 2, 4, 8)]


def test_replay_file_is_checked_line_by_line_before_the_run(tmp_path):
    (tmp_path / "bad.replay").write_text("/search?kind=text&docs=1&seed=1\n/search?kind=text&docs=zero\n")
    (tmp_path / "s.yml").write_text(LOAD.replace("image\n", "text\n") + "        replay_file: bad.replay\n")
    with pytest.raises(ScenarioError) as info:
        load_plan(tmp_path / "s.yml", environ={})
    assert str(info.value).startswith(f"{tmp_path / 's.yml'}:7: jobs.j.steps[1].replay_file: ")
    assert "bad.replay:2" in str(info.value) and f"loadgen replay check {tmp_path / 'bad.replay'}" in str(info.value)
