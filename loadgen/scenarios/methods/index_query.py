"""``index`` and ``query``: load against the job's Flow (or ``gateway_host:gateway_port``),
one headless Locust run each (:mod:`loadgen.scenarios.locust_step`), sending ``/index`` or
``/search`` only; each run is a row of the results table.

``inputs`` and ``on_always`` are :mod:`loadgen.scenarios.inputs`; a ``replay_file`` is
checked line by line while the scenario is loaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from loadgen.config import GRPC_MODES, IMAGE_DTYPES, PROTOCOLS, parse_headers
from loadgen.errors import ConfigError
from loadgen.observe.settings import parse_sources
from loadgen.pacing import parse_arrival_rate
from loadgen.replay import check_file
from loadgen.scenarios.inputs import check_inputs, check_on_always, default_inputs
from loadgen.scenarios.locust_step import KINDS, load_status, locust_options, locustfile_of, read_summary, run_load
from loadgen.scenarios.methods.base import Method, Preceding, StepFailed, StepRun, StepSource, existing_path
from loadgen.scenarios.model import ScenarioError, Step, Where
from loadgen.scenarios.params import Param, choice, config_value, seconds, strings, text, whole
from loadgen.reports.scenario_table import StepResult, figures_of
from loadgen.slo import parse_slo

SHARDS_MISSING = "matches from"  # status of a step whose /search matches missed some shards


# -- keys ------------------------------------------------------------------------------------
def slos(value: Any, where: Where) -> tuple[str, ...]:
    items = strings(value, where)
    for i, item in enumerate(items):
        config_value(parse_slo, item, where.child(i))
    return items


def headers(value: Any, where: Where) -> tuple[str, ...]:
    """``'Name: value'`` items sent with every request (``--header``); values are credentials:
    errors do not show them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) for item in items):
        raise ScenarioError(where, "must be a list of 'Name: value' strings, e.g. ['Authorization: Bearer ${TOKEN}'] "
                                   "(the value given is not shown)")
    config_value(lambda given: parse_headers(given, option="headers"), items, where)
    return tuple(items)


def server_metrics(value: Any, where: Where) -> str:
    """``--server-metrics`` items (URLs, ``pid:PID``, ``off``) as its comma-separated text."""
    spec = ",".join(strings(value, where))
    config_value(lambda given: parse_sources(given, option="server_metrics"), spec, where)
    return spec


def arrival_rate(value: Any, where: Where) -> str:
    rate = text(value, where).strip()
    config_value(parse_arrival_rate, rate, where)
    return rate


PARAMS = {
    "execution_time": Param(seconds, 10.0), "request_size": Param(whole(1), 8),
    "num_clients": Param(whole(1), 1), "protocol": Param(choice(*PROTOCOLS)),
    "gateway_host": Param(text), "gateway_port": Param(whole(1)),
    "inputs": Param(check_inputs), "on_always": Param(check_on_always),
    "arrival_rate": Param(arrival_rate), "replay_file": Param(text), "slo": Param(slos, ()),
    "workers": Param(whole(1)), "grpc_mode": Param(choice(*GRPC_MODES), "unary"), "timeout": Param(seconds, 30.0),
    "headers": Param(headers, ()), "image_dtype": Param(choice(*IMAGE_DTYPES)),
    "server_metrics": Param(server_metrics),
}


# -- checks while loading ------------------------------------------------------------------------
def finish(kwargs: dict, source: StepSource) -> dict:
    """Both or neither gateway key; the replay file checked; ``inputs`` defaulted and matching
    ``on_always``, whose ``top_k`` becomes the step's."""
    if (kwargs["gateway_host"] is None) != (kwargs["gateway_port"] is None):
        raise ScenarioError(source.where, "give both gateway_host and gateway_port (an existing gateway), "
                                          "or neither (the Flow this job started)")
    if kwargs["replay_file"] is not None:
        replay_file = replay_path(kwargs["replay_file"], source.base_dir, source.at("replay_file"))
        kwargs = {**kwargs, "replay_file": replay_file}
    inputs = kwargs["inputs"] or default_inputs()
    check = kwargs["on_always"]
    if check is not None and check.kind not in (None, inputs.kind):
        raise ScenarioError(source.at("on_always"), f"{check.method} checks {check.kind} documents but "
                                                    f"inputs {inputs.method} makes {inputs.kind} ones")
    if kwargs["image_dtype"] is not None and (inputs.kind != "image" or inputs.dataset) and not kwargs["replay_file"]:
        raise ScenarioError(source.at("image_dtype"), f"applies to generated images; inputs {inputs.method} "
                                                      f"makes {inputs.kind} documents of its own: drop image_dtype")
    out = {**kwargs, "inputs": inputs}
    if check is not None and check.top_k is not None:
        if "top_k" in kwargs and source.lines.get("top_k") and kwargs["top_k"] != check.top_k:
            raise ScenarioError(source.at("top_k"), f"differs from on_always's top_k {check.top_k}; keep one")
        out["top_k"] = check.top_k
    return out


def replay_path(text: str, base_dir: Path, where: Where) -> str:
    """The replay file made absolute, after checking every line as a run would.
    :raises ScenarioError: missing file, a bad line (``FILE:LINE: ...``) or no requests."""
    path = existing_path(text, base_dir, where, "replay file")
    try:
        report = check_file(path, max_errors=1)
    except (ConfigError, OSError, ValueError) as exc:
        raise ScenarioError(where, str(exc))
    if report.errors:
        raise ScenarioError(where, f"{report.errors[0]}; check it with `loadgen replay check {path}`")
    if not report.requests:
        raise ScenarioError(where, f"{text} holds no requests; give a replay file (docs/replay.md)")
    return str(path)


def order(step: Step, before: Preceding) -> None:
    """A gateway to send to: ``gateway_host``, or a Flow started before, serving ``protocol``."""
    if step.kwargs["gateway_host"] is not None:
        return
    flow: Optional[Step] = before.flow
    if flow is None:
        raise ScenarioError(step.where, "no Flow is running here: add a start_flow step before it, "
                                        "or give gateway_host and gateway_port")
    protocol = step.kwargs["protocol"]
    if protocol is not None and protocol != flow.kwargs["protocol"]:
        raise ScenarioError(step.at("protocol"), f"the Flow of step {flow.index} serves "
                                                 f"{flow.kwargs['protocol']}, not {protocol}; "
                                                 f"drop protocol or change the Flow's")


# -- the run -----------------------------------------------------------------------------------
def run(ctx: StepRun) -> None:
    """Run the step through Locust; its figures join the table."""
    step, kwargs = ctx.step, ctx.step.kwargs
    if kwargs.get("server_metrics") is None and kwargs["gateway_host"] is None and ctx.state.flow is not None:
        kwargs = {**kwargs, "server_metrics": f"pid:{ctx.state.flow.proc.pid}"}  # the job's Flow: its metrics, CPU
    argv = locust_options(step.method, kwargs, target=ctx.state.target(kwargs), results_dir=ctx.step_dir)
    total = kwargs["execution_time"]
    label = f"{step.method} ({ctx.point.label})"
    try:
        outcome = run_load(argv, kind=KINDS[locustfile_of(kwargs)], workers=kwargs["workers"] or 0,
                           results_dir=ctx.step_dir, progress=lambda now: ctx.console.progress(label, total, now))
    except KeyboardInterrupt:
        add_row(ctx, "interrupted")
        raise
    finally:
        ctx.console.end_progress()
    status = load_status(outcome)
    if status.startswith("failed"):
        raise StepFailed(f"{status[len('failed: '):]} (Locust log: {outcome.log_path})")
    add_row(ctx, status)


def add_row(ctx: StepRun, status: str) -> None:
    """The step's figures (from its summary.json) as a row of the results table with
    ``status``, unless it is a warm-up step; missing shards turn ``status`` into
    ``matches from: N of M shards``."""
    check = ctx.step.kwargs.get("on_always")
    if check is not None and not check.record:
        ctx.console.line(f"  warm-up step ({check.method}): not in the table")
        return
    summary = read_summary(ctx.step_dir)
    figures, executors = figures_of(summary) if summary else ({}, {})
    if check is not None and check.shards and status in ("ok", "failures", "slo failed"):
        seen = figures.get("match shards") or 0
        if seen < check.shards:
            status = f"{SHARDS_MISSING}: {seen} of {check.shards} shards"
    ctx.record(StepResult(job=ctx.job.name, params=dict(ctx.point.params), repetition=ctx.point.repetition,
                          step=ctx.step.name, status=status, results_dir=str(ctx.step_dir), figures=figures,
                          executors=executors))


INDEX = Method(params=PARAMS, finish=finish, order=order, run=run, on_failure=add_row)
QUERY = Method(params={**PARAMS, "top_k": Param(whole(1), 10)}, finish=finish, order=order, run=run,
               on_failure=add_row)
