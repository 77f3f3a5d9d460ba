"""``advise``: the cheapest topology of a Flow that holds ``target_rate`` within the step's
``slo`` (``loadgen advise`` as a step, :mod:`loadgen.advise`, docs/advise.md).

Keys: ``find_capacity``'s (a ``query`` step's load keys and the search's: ``slo``,
``trial_warmup``, ``window``, ...), the Flow as a ``start_flow`` step names it -- ``flow:``
(a demo Flow or a YAML path) or ``file:`` (a Flow YAML in the workspace) -- and the
command's options as keys: ``target_rate`` (req/s or ``max``), ``max_processes``,
``executor`` (a list), ``strategy``, ``allow_shards``, ``min_gain``, ``measure``, plus
``preindex_docs`` (documents indexed into each new Flow) and ``startup_timeout``.

The step starts and stops its own Flows (one per topology); it needs no ``start_flow``
before it and leaves none running, and ``gateway_host`` is refused (a remote Flow cannot be
restarted). Its row has the chosen topology's ``max req/s`` and ``processes``, and in
``limit`` why it stopped and what it chose; status ``no topology held`` when none did,
``generator saturated`` when the load generator was the limit.
``advice.json``, ``advice.html``, ``recommended.yml`` and one directory per topology are
in the step's directory.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from loadgen.advise.config import MEASURES, STRATEGIES, AdviseConfig, check
from loadgen.advise.flow_yaml import read_flow
from loadgen.advise.report import answer, fragment
from loadgen.config import TargetConfig
from loadgen.errors import ConfigError, RunError
from loadgen.flowctl import flow_yaml
from loadgen.reports.scenario_table import StepResult
from loadgen.scenarios.locust_step import locust_options
from loadgen.scenarios.methods import find_capacity, start_flow
from loadgen.scenarios.methods.base import Method, Preceding, StepFailed, StepRun, StepSource
from loadgen.scenarios.model import ScenarioError, Step, Where
from loadgen.scenarios.params import REQUIRED, Param, choice, seconds, strings, text, whole

PLACEHOLDER = TargetConfig(protocol="grpc", host="127.0.0.1", port=1)  # replaced by each topology's Flow


def target(value: Any, where: Where) -> Any:
    """Requests per second > 0, or ``max`` (kept as ``"max"``)."""
    if isinstance(value, str) and value.strip().lower() == "max":
        return "max"
    return find_capacity.rate(value, where)


def share(value: Any, where: Where) -> float:
    """``10%`` or ``10`` (percent) -> 0.1; 0 allowed."""
    try:
        number = float(str(value).strip().rstrip("%").strip()) / 100.0
    except ValueError:
        number = -1.0
    if isinstance(value, bool) or not number >= 0:
        raise ScenarioError(where, f"must be a percentage >= 0 such as 10%, got {value!r}")
    return number


def flag(value: Any, where: Where) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(where, f"must be true or false, got {value!r}")
    return value


PARAMS = {
    **find_capacity.PARAMS,
    "flow": Param(text), "file": Param(text),
    "target_rate": Param(target, REQUIRED, help="req/s the topology must hold within slo, or max"),
    "max_processes": Param(whole(1), 8), "executor": Param(strings, ()), "strategy": Param(choice(*STRATEGIES), "greedy"),
    "allow_shards": Param(flag, False), "min_gain": Param(share, 0.10), "measure": Param(choice(*MEASURES), "trial"),
    "preindex_docs": Param(whole(0), 1000), "startup_timeout": Param(seconds, 120.0),
}
OWN = ("flow", "file", "target_rate", "max_processes", "executor", "strategy", "allow_shards", "min_gain", "measure",
       "preindex_docs", "startup_timeout")


def finish(kwargs: dict, source: StepSource) -> dict:
    """A ``find_capacity`` step's checks; the Flow as ``start_flow`` checks it; with ``flow:``
    its Executors against ``executor`` and ``max_processes`` already."""
    if kwargs["gateway_host"] is not None:
        raise ScenarioError(source.at("gateway_host"), "the advise step restarts its Flow with every topology it "
                                                       "tries and cannot restart a remote one; give flow: or file:")
    out = {**find_capacity.finish({k: v for k, v in kwargs.items() if k not in OWN}, source),
           **{key: kwargs[key] for key in OWN}}
    out = start_flow.finish(out, source)
    if out["flow"] is not None:
        try:
            check(advise_config(out, flow_path=flow_yaml(out["flow"]), argv=()), name=lambda key: key)
        except ConfigError as exc:
            raise ScenarioError(source.where, str(exc))
    return out


def order(step: Step, before: Preceding) -> None:
    """``file:`` must have been copied into the workspace; the step leaves no Flow running."""
    start_flow.check_file_in_workspace(step, before)


def advise_config(kwargs: dict, *, flow_path: Path, argv: tuple[str, ...], results_dir: Any = None) -> AdviseConfig:
    """The advice of a step's keys; ``argv`` is the trials' Locust command line without ``--host``."""
    capacity = find_capacity.capacity_config(kwargs, argv=argv, results_dir=results_dir)
    return AdviseConfig(flow=read_flow(flow_path, option="flow"), capacity=capacity,
                        target_rate=None if kwargs["target_rate"] == "max" else kwargs["target_rate"],
                        max_processes=kwargs["max_processes"], executors=kwargs["executor"],
                        strategy=kwargs["strategy"], allow_shards=kwargs["allow_shards"], min_gain=kwargs["min_gain"],
                        measure=kwargs["measure"], protocol=kwargs["protocol"] or "grpc", top_k=kwargs["top_k"],
                        preindex_docs=kwargs["preindex_docs"], startup_timeout_s=kwargs["startup_timeout"],
                        results_dir=capacity.results_dir)


def run(ctx: StepRun) -> None:
    """The advice, into the step's directory; its answer joins the table."""
    from loadgen.advise.driver import advise  # measuring needs psutil: not imported to validate a scenario
    kwargs = ctx.step.kwargs
    base = {**kwargs, "execution_time": 1.0, "arrival_rate": None, "slo": (), "num_clients": 1}
    argv = without_host(locust_options("query", base, target=PLACEHOLDER, results_dir=ctx.step_dir))
    if kwargs["file"] is not None:
        if ctx.state.workspace is None:
            raise ConfigError("file: no workspace exists; add a create_workspace step before advise")
        path = ctx.state.workspace / kwargs["file"]
    else:
        path = flow_yaml(kwargs["flow"])
    config = advise_config(kwargs, flow_path=path, argv=tuple(argv), results_dir=ctx.step_dir)
    check(config, name=lambda key: key)
    ctx.console.line(f"  advise ({ctx.point.label}): {kwargs['target_rate']} req/s within "
                     f"{', '.join(kwargs['slo']) or 'no gates'}")
    try:
        data = advise(config, console=ctx.console)
    except RunError as exc:  # a Flow or a trial failed: advice.json has what was measured before
        raise StepFailed(str(exc)) from exc
    ctx.console.line(f"  {answer(data)}")
    if data["chosen"]:
        ctx.console.line("  " + fragment(data).replace("\n", "\n  ").rstrip())
    add_row(ctx, data)
    if data["stopped_because"].startswith("interrupted:"):
        raise KeyboardInterrupt


def without_host(argv: list[str]) -> list[str]:
    """A Locust command line without its ``--host VALUE``."""
    at = argv.index("--host")
    return argv[:at] + argv[at + 2:]


def add_row(ctx: StepRun, data: dict[str, Any]) -> None:
    """The step's row: the chosen topology's max req/s and processes; limit: why it stopped."""
    chosen = data["chosen"]
    figures = {"max req/s": chosen["max_rate"], "processes": chosen["processes"]} if chosen else {}
    status = "ok" if chosen else "no topology held"
    if data["stopped_because"].startswith("generator:"):
        status = "generator saturated"
    ctx.record(StepResult(job=ctx.job.name, params=dict(ctx.point.params), repetition=ctx.point.repetition,
                          step=ctx.step.name, status=status,
                          results_dir=str(ctx.step_dir), figures=figures, limit=data["stopped_because"]))


def on_failure(ctx: StepRun, status: str) -> None:
    ctx.record(StepResult(job=ctx.job.name, params=dict(ctx.point.params), repetition=ctx.point.repetition,
                          step=ctx.step.name, status=status, results_dir=str(ctx.step_dir)))


METHOD = Method(params=PARAMS, finish=finish, order=order, run=run, on_failure=on_failure)
