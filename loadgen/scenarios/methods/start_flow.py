"""``start_flow``: start a Flow with loadgen's flowctl (a demo Flow by name, a Flow YAML by
path, or ``file:`` from the workspace) and wait until it answers.

Between sweep points an unchanged Flow keeps running
(:meth:`~loadgen.scenarios.job_state.JobState.start_flow` decides); the load steps after it
use its gateway.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loadgen.config import PROTOCOLS
from loadgen.flowctl import DEFAULT_POLLING, parse_polling
from loadgen.home import project_root
from loadgen.scenarios.job_state import YAML_SUFFIXES
from loadgen.scenarios.methods.base import Method, Preceding, StepRun, StepSource, existing_path
from loadgen.scenarios.model import ScenarioError, Step, Where
from loadgen.scenarios.params import Param, choice, config_value, seconds, text, whole

NAME_OK = re.compile(r"[A-Za-z0-9_-]+\Z")


def polling(value: Any, where: Where) -> str:
    """``ANY``, ``ALL``, or per endpoint: ``{/index: ANY, /search: ALL}`` or the same as text
    ``/index:ANY,/search:ALL``; kept as text (the Flow's ``--polling`` in loadgen's syntax)."""
    if isinstance(value, dict):
        value = ",".join(f"{endpoint}:{kind}" for endpoint, kind in value.items())
    spec = text(value, where)
    config_value(lambda s: parse_polling(s, option="polling"), spec, where)
    return spec


PARAMS = {"flow": Param(text), "file": Param(text), "protocol": Param(choice(*PROTOCOLS), "grpc"),
          "port": Param(whole(1)), "replicas": Param(whole(1), 1), "shards": Param(whole(1), 1),
          "top_k": Param(whole(1), 10), "polling": Param(polling, DEFAULT_POLLING),
          "startup_timeout": Param(seconds, 120.0)}


def finish(kwargs: dict, source: StepSource) -> dict:
    """Exactly one of ``flow`` and ``file``; ``file`` inside the workspace, ``flow`` existing."""
    if (kwargs["flow"] is None) == (kwargs["file"] is None):
        raise ScenarioError(source.where, "give exactly one of `flow:` (a demo Flow name such as image, or a YAML "
                                          "path) or `file:` (a Flow YAML in the workspace)")
    if kwargs["file"] is not None:
        parts = Path(kwargs["file"]).parts
        if not parts or Path(kwargs["file"]).is_absolute() or ".." in parts:
            raise ScenarioError(source.at("file"), "must be a path inside the workspace, e.g. image.yml")
        return kwargs
    return {**kwargs, "flow": flow_spec(kwargs["flow"], source.base_dir, source.at("flow"))}


def flow_spec(flow: str, base_dir: Path, where: Where) -> str:
    """A demo Flow name (``scenarios/flows/NAME.yml``) as is, or a YAML path relative to
    the scenario made absolute. :raises ScenarioError: when there is no such Flow."""
    if flow.endswith(YAML_SUFFIXES) or "/" in flow:
        return str(existing_path(flow, base_dir, where, "Flow YAML"))
    flows = project_root() / "scenarios" / "flows"
    if not NAME_OK.match(flow) or not (flows / f"{flow}.yml").is_file():
        known = ", ".join(sorted(p.stem for p in flows.glob("*.yml")))
        raise ScenarioError(where, f"no demo Flow {flow!r}; use one of {known} or a path to a Flow YAML")
    return flow


def order(step: Step, before: Preceding) -> None:
    """``file:`` must have been copied into the workspace; the Flow serves the steps after it."""
    check_file_in_workspace(step, before)
    before.flow = step


def check_file_in_workspace(step: Step, before: Preceding) -> None:
    """A step's ``file:`` (a Flow YAML in the workspace) must have been copied there by an
    earlier ``create_workspace``. :raises ScenarioError: naming the key."""
    file = step.kwargs["file"]
    if file is not None and Path(file).parts[0] not in before.workspace:
        raise ScenarioError(step.at("file"), f"{file!r} is not in the workspace "
                                             f"({', '.join(sorted(before.workspace)) or 'none yet'}); "
                                             f"create_workspace with it first")


def run(ctx: StepRun) -> None:
    ctx.state.start_flow(ctx.step.kwargs, log_dir=ctx.step_dir)


METHOD = Method(params=PARAMS, finish=finish, order=order, run=run)
