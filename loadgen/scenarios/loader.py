"""Load a scenario file into a validated :class:`~loadgen.scenarios.model.Plan`.

The whole file is checked before anything runs: YAML syntax (``yaml.SafeLoader`` only; a
subclass that records line numbers), the ``jobs:``/``steps:`` structure, every ``${...}``
substitution at every sweep point, every method's keys and types, the files and Flows a
step names, and the order of steps within a job (a load step needs a Flow or a gateway,
``start_flow file:`` needs a workspace). Any problem raises one
:class:`~loadgen.scenarios.model.ScenarioError` naming ``FILE:LINE``, the key path and the fix.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

from loadgen.errors import ConfigError
from loadgen.home import project_root
from loadgen.replay import check_file
from loadgen.scenarios.methods import (GENERATORS, LOAD_METHODS, METHODS, check_kwargs, pause, suggest, unknown_keys,
                                       whole)
from loadgen.scenarios.model import JobPlan, Plan, Point, ScenarioError, Step, Where
from loadgen.scenarios.sweep import Axis, grid, parse_axes, repetitions
from loadgen.scenarios.variables import parse_sets, read_env_file, render_file, resolve_value, typed

TOP_KEYS = {"jobs": None, "description": None}
JOB_KEYS = {"steps": None, "sweep": None, "repeat": None, "description": None}
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
MAX_NODES = 200_000  # YAML aliases can make a small file expand enormously
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


# -- YAML with line numbers ----------------------------------------------------------------
class LocatedDict(dict):
    """A mapping from the YAML file; ``lines[key]`` is the 1-based line of each key."""

    line: int = 0
    lines: dict = {}


class LocatedList(list):
    """A sequence from the YAML file; ``lines[i]`` is the 1-based line of item ``i``."""

    line: int = 0
    lines: list = []


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) whose mappings and lists remember their lines."""


def _construct_map(loader: _Loader, node: yaml.MappingNode):
    data = LocatedDict()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))  # flattens `<<` merges, rejects unhashable keys
    data.lines = {loader.construct_object(k): k.start_mark.line + 1 for k, _ in node.value}


def _construct_seq(loader: _Loader, node: yaml.SequenceNode):
    data = LocatedList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))
    data.lines = [n.start_mark.line + 1 for n in node.value]


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def parse_yaml(text: str, file: str) -> Any:
    """Parse ``text`` safely. :raises ScenarioError: with the line of a syntax error."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ScenarioError(Where(file, line=line), f"not valid YAML: {exc.problem or exc}; fix the syntax there")
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        # e.g. a date like 2021-02-30 (ValueError) or thousands of nested brackets
        raise ScenarioError(Where(file), f"not valid YAML: {str(exc)[:200] or type(exc).__name__}")


def _lines(node: Any) -> dict:
    lines = getattr(node, "lines", {})
    return lines if isinstance(lines, dict) else dict(enumerate(lines))


# -- entry points --------------------------------------------------------------------------
def load_plan(path: str | os.PathLike, *, env_file: Optional[str] = None, sets: Sequence[str] = (),
              environ: Optional[Mapping[str, str]] = None) -> Plan:
    """Read and validate a scenario file.

    :param env_file: a ``NAME=VALUE`` file (lowest precedence).
    :param sets: ``--set NAME=VALUE`` items (highest precedence; a swept name collapses its axis).
    :param environ: the process environment (default ``os.environ``).
    :raises ScenarioError: for any problem in the file, the env file or ``sets``.
    """
    overrides = parse_sets(sets)
    variables = {**(read_env_file(env_file) if env_file else {}), **(os.environ if environ is None else environ),
                 **overrides}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(Where(str(path)), f"cannot read the scenario ({getattr(exc, 'strerror', None) or exc}); "
                                              f"give a YAML file, e.g. scenarios/smoke.yml")
    return parse_plan(text, file=str(path), variables=variables, overrides=overrides, base_dir=Path(path).parent)


def parse_plan(text: str, *, file: str, variables: Mapping[str, str], overrides: Optional[Mapping[str, str]] = None,
               base_dir: Path = Path(".")) -> Plan:
    """Validate scenario ``text`` into a plan.

    :param overrides: the ``--set`` values (they collapse sweep axes of the same name).
    :raises ScenarioError: and nothing else.
    """
    overrides = overrides or {}
    doc = parse_yaml(text, file)
    where = Where(file, line=getattr(doc, "line", None))
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict) or not doc["jobs"]:
        raise ScenarioError(where, "a scenario needs `jobs:` mapping job names to {steps: [...]} (docs/scenarios.md)")
    # `x-...` keys hold YAML anchors to reuse (as in docker-compose); they are not read.
    unknown_keys({k: v for k, v in doc.items() if not str(k).startswith("x-")}, TOP_KEYS, where, _lines(doc))
    jobs = doc["jobs"]
    try:
        plans = tuple(_job(name, job, Where(file, f"jobs.{name}", _lines(jobs).get(name)), variables, overrides,
                           base_dir.resolve()) for name, job in jobs.items())
    except RecursionError:
        raise ScenarioError(where, "the scenario nests too deeply (a recursive YAML alias?); flatten it")
    return Plan(path=file, variables=dict(variables), jobs=plans)


# -- jobs ----------------------------------------------------------------------------------
def _job(name: Any, job: Any, where: Where, variables: Mapping[str, str], overrides: Mapping[str, str],
         base_dir: Path) -> JobPlan:
    if not isinstance(name, str) or not JOB_NAME.match(name):
        raise ScenarioError(where, "a job name is letters, digits, '_', '.', '-' (it names a results directory)")
    if not isinstance(job, dict) or not isinstance(job.get("steps"), list) or not job["steps"]:
        raise ScenarioError(where, "a job needs `steps:`, a non-empty list of {method: ..., ...}")
    unknown_keys(job, JOB_KEYS, where, _lines(job))
    lines = _lines(job)
    budget = [0]
    repeat = whole(1)(resolve_tree(job.get("repeat", 1), variables, where.child("repeat", lines.get("repeat")), budget),
                      where.child("repeat", lines.get("repeat")))
    sweep_at = where.child("sweep", lines.get("sweep"))
    axes = parse_axes(resolve_tree(job.get("sweep"), variables, sweep_at, budget), sweep_at,
                      {k: typed(v) for k, v in overrides.items()}, _lines(job.get("sweep")))
    _check_axes_used(axes, job["steps"], sweep_at)
    steps_at = where.child("steps", lines.get("steps"))
    points = tuple(Point(number=number, params=params, repetition=rep,
                         steps=_steps(job["steps"], _variables_at(variables, params, rep),
                                      steps_at, base_dir, [0]))  # a budget per point: grids may be large
                   for number, params, rep in repetitions(grid(axes, sweep_at), repeat))
    return JobPlan(name=name, axes=tuple(a.name for a in axes), repeat=repeat, points=points)


def point_variables(variables: Mapping[str, str], point: Point) -> dict[str, str]:
    """The variables of a sweep point: ``variables`` plus its parameters and ``repetition``."""
    return _variables_at(variables, point.params, point.repetition)


def _variables_at(variables: Mapping[str, str], params: Mapping[str, Any], repetition: int) -> dict[str, str]:
    swept = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    return {**variables, **swept, "repetition": str(repetition)}


def _check_axes_used(axes: tuple[Axis, ...], steps: Any, where: Where) -> None:
    used = references(steps)
    for axis in axes:
        if axis.name not in used:
            raise ScenarioError(where.child(axis.name), f"no step uses this swept parameter; "
                                                        f"reference it as ${{{axis.name}}} in a step")


def references(node: Any) -> set[str]:
    """The variable names ``${NAME...`` in the strings of ``node``. Each distinct list or
    mapping is read once: YAML aliases share objects, so this stays linear in the file."""
    names: set[str] = set()
    seen: set[int] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            if id(item) not in seen:
                seen.add(id(item))
                stack.extend(item.values() if isinstance(item, dict) else item)
        elif isinstance(item, str):
            names.update(_REFERENCE.findall(item))
    return names


def resolve_tree(node: Any, variables: Mapping[str, str], where: Where, budget: list[int]) -> Any:
    """``node`` with every string substituted (plain dicts and lists, same shape)."""
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise ScenarioError(where, f"the steps expand to more than {MAX_NODES} values (YAML aliases?); simplify them")
    if isinstance(node, dict):
        lines = _lines(node)
        return {k: resolve_tree(v, variables, where.child(str(k), lines.get(k)), budget) for k, v in node.items()}
    if isinstance(node, list):
        lines = _lines(node)
        return [resolve_tree(v, variables, where.child(i, lines.get(i)), budget) for i, v in enumerate(node)]
    return resolve_value(node, variables, where)


# -- steps ---------------------------------------------------------------------------------
def _steps(raw: list, variables: Mapping[str, str], where: Where, base_dir: Path, budget: list[int]) -> tuple[Step, ...]:
    lines = _lines(raw)
    steps = tuple(_step(i + 1, item, variables, where.child(i, lines.get(i)), base_dir, budget)
                  for i, item in enumerate(raw))
    check_order(steps)
    return steps


def _step(index: int, raw: Any, variables: Mapping[str, str], where: Where, base_dir: Path,
          budget: list[int]) -> Step:
    if not isinstance(raw, dict) or "method" not in raw:
        raise ScenarioError(where, f"a step is a mapping with `method:` (one of {', '.join(METHODS)}) and its keys")
    lines = _lines(raw)
    method = resolve_tree(raw["method"], variables, where.child("method", lines.get("method")), budget)
    if not isinstance(method, str) or method not in METHODS:
        raise ScenarioError(where.child("method", lines.get("method")),
                            f"unknown method {method!r}{suggest(method, METHODS)}; use one of {', '.join(METHODS)}")
    given = {k: resolve_tree(v, variables, where.child(str(k), lines.get(k)), budget)
             for k, v in raw.items() if k not in ("method", "sleep_time")}
    kwargs = check_kwargs(given, METHODS[method], where, lines)
    sleep_at = where.child("sleep_time", lines.get("sleep_time"))
    sleep = pause(resolve_tree(raw.get("sleep_time", 0), variables, sleep_at, budget), sleep_at)
    finish = FINISH.get(method)
    if finish is not None:
        kwargs = finish(kwargs, _Ctx(where=where, lines=lines, base_dir=base_dir, variables=variables))
    return Step(index=index, method=method, kwargs=kwargs, sleep_time=sleep, where=where, lines=lines)


@dataclass(frozen=True, kw_only=True)
class _Ctx:
    """Where a step is, for the method-specific checks."""

    where: Where
    lines: Mapping[Any, int]
    base_dir: Path
    variables: Mapping[str, str]

    def at(self, key: str) -> Where:
        return self.where.child(key, self.lines.get(key))


def _existing(path_text: str, base_dir: Path, where: Where, what: str) -> Path:
    try:
        path = (base_dir / path_text).resolve()
        found = path.exists()
    except (OSError, ValueError, RuntimeError):
        found = False
    if not found:
        raise ScenarioError(where, f"no {what} {path_text!r} (relative to {base_dir}); fix the path")
    return path


def _finish_workspace(kwargs: dict, ctx: _Ctx) -> dict:
    at = ctx.at("files")
    files = tuple(_existing(f, ctx.base_dir, at.child(i), "file or directory") for i, f in enumerate(kwargs["files"]))
    variables = {**ctx.variables, **kwargs["environment"]}
    for path in files:  # a bad ${...} in a Flow YAML stops the scenario now, not mid-run
        for yml in workspace_yaml(path):
            try:
                render_file(yml, variables, display=str(yml))
            except (OSError, UnicodeDecodeError) as exc:
                raise ScenarioError(at, f"cannot read {yml}: {getattr(exc, 'strerror', None) or exc}")
    return {**kwargs, "files": tuple(map(str, files))}


def workspace_yaml(path: Path) -> list[Path]:
    """The YAML files of a workspace entry (a file, or every *.yml/*.yaml below a directory)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
    return [path] if path.suffix in YAML_SUFFIXES else []


YAML_SUFFIXES = (".yml", ".yaml")


def _finish_start_flow(kwargs: dict, ctx: _Ctx) -> dict:
    if (kwargs["flow"] is None) == (kwargs["file"] is None):
        raise ScenarioError(ctx.where, "give exactly one of `flow:` (a demo Flow name such as image, or a YAML "
                                       "path) or `file:` (a Flow YAML in the workspace)")
    if kwargs["file"] is not None:
        parts = Path(kwargs["file"]).parts
        if not parts or Path(kwargs["file"]).is_absolute() or ".." in parts:
            raise ScenarioError(ctx.at("file"), "must be a path inside the workspace, e.g. image.yml")
        return kwargs
    return {**kwargs, "flow": flow_spec(kwargs["flow"], ctx.base_dir, ctx.at("flow"))}


def flow_spec(flow: str, base_dir: Path, where: Where) -> str:
    """A demo Flow name (``scenarios/flows/NAME.yml``) as is, or a YAML path relative to
    the scenario made absolute. :raises ScenarioError: when there is no such Flow."""
    if flow.endswith(YAML_SUFFIXES) or "/" in flow:
        return str(_existing(flow, base_dir, where, "Flow YAML"))
    flows = project_root() / "scenarios" / "flows"
    if not NAME_OK.match(flow) or not (flows / f"{flow}.yml").is_file():
        known = ", ".join(sorted(p.stem for p in flows.glob("*.yml")))
        raise ScenarioError(where, f"no demo Flow {flow!r}; use one of {known} or a path to a Flow YAML")
    return flow


NAME_OK = re.compile(r"[A-Za-z0-9_-]+\Z")


def _finish_load(kwargs: dict, ctx: _Ctx) -> dict:
    if (kwargs["gateway_host"] is None) != (kwargs["gateway_port"] is None):
        raise ScenarioError(ctx.where, "give both gateway_host and gateway_port (an existing gateway), "
                                       "or neither (the Flow this job started)")
    if kwargs["replay_file"] is not None:
        kwargs = {**kwargs, "replay_file": replay_path(kwargs["replay_file"], ctx.base_dir, ctx.at("replay_file"))}
    inputs = kwargs["inputs"] or GENERATORS["random_images"][0]()
    check = kwargs["on_always"]
    if check is not None and check.kind not in (None, inputs.kind):
        raise ScenarioError(ctx.at("on_always"), f"{check.method} checks {check.kind} documents but "
                                                 f"inputs {inputs.method} makes {inputs.kind} ones")
    out = {**kwargs, "inputs": inputs}
    if check is not None and check.top_k is not None:
        if "top_k" in kwargs and ctx.lines.get("top_k") and kwargs["top_k"] != check.top_k:
            raise ScenarioError(ctx.at("top_k"), f"differs from on_always's top_k {check.top_k}; keep one")
        out["top_k"] = check.top_k
    return out


def replay_path(text: str, base_dir: Path, where: Where) -> str:
    """The replay file made absolute, after checking every line as a run would.
    :raises ScenarioError: missing file, a bad line (``FILE:LINE: ...``) or no requests."""
    path = _existing(text, base_dir, where, "replay file")
    try:
        report = check_file(path, max_errors=1)
    except (ConfigError, OSError, ValueError) as exc:
        raise ScenarioError(where, str(exc))
    if report.errors:
        raise ScenarioError(where, f"{report.errors[0]}; check it with `loadgen replay check {path}`")
    if not report.requests:
        raise ScenarioError(where, f"{text} holds no requests; give a replay file (docs/replay.md)")
    return str(path)


def _finish_s3(kwargs: dict, ctx: _Ctx) -> dict:
    if (kwargs["url"] is None) == (kwargs["bucket"] is None):
        raise ScenarioError(ctx.where, "give exactly one of `url: s3://BUCKET/PREFIX` or `bucket:` (with `key:`)")
    if kwargs["url"] is None:
        key = (kwargs["key"] or "").strip("/")
        kwargs = {**kwargs, "url": f"s3://{kwargs['bucket']}/{key}".rstrip("/")}
    return kwargs


FINISH = {"create_workspace": _finish_workspace, "update_workspace": _finish_workspace,
          "start_flow": _finish_start_flow, "index": _finish_load, "query": _finish_load,
          "upload_to_s3": _finish_s3, "download_from_s3": _finish_s3}


def check_order(steps: Sequence[Step]) -> None:
    """Check what a job's steps need from the steps before them. :raises ScenarioError:"""
    workspace: set[str] = set()  # top-level names copied into the workspace so far
    flow: Optional[Step] = None
    for step in steps:
        kw = step.kwargs
        if step.method in ("create_workspace", "update_workspace"):
            if step.method == "update_workspace" and not workspace:
                raise ScenarioError(step.where, "no workspace yet: add a create_workspace step before it")
            workspace |= {Path(f).name for f in kw["files"]}
        elif step.method == "delete_workspace":
            workspace = set()
        elif step.method == "start_flow":
            if kw["file"] is not None and Path(kw["file"]).parts[0] not in workspace:
                raise ScenarioError(step.at("file"), f"{kw['file']!r} is not in the workspace "
                                                              f"({', '.join(sorted(workspace)) or 'none yet'}); "
                                                              f"create_workspace with it first")
            flow = step
        elif step.method == "terminate_flow":
            if flow is None:
                raise ScenarioError(step.where, "no Flow is running here: add a start_flow step before it")
            flow = None
        elif step.method in LOAD_METHODS:
            _check_target(step, flow)


def _check_target(step: Step, flow: Optional[Step]) -> None:
    if step.kwargs["gateway_host"] is not None:
        return
    if flow is None:
        raise ScenarioError(step.where, "no Flow is running here: add a start_flow step before it, "
                                        "or give gateway_host and gateway_port")
    protocol = step.kwargs["protocol"]
    if protocol is not None and protocol != flow.kwargs["protocol"]:
        raise ScenarioError(step.at("protocol"), f"the Flow of step {flow.index} serves "
                                                          f"{flow.kwargs['protocol']}, not {protocol}; "
                                                          f"drop protocol or change the Flow's")

