"""Load a scenario file into a validated :class:`~loadgen.scenarios.model.Plan`.

The whole file is checked before anything runs: YAML syntax (``yaml.SafeLoader`` only; a
subclass that records line numbers), the ``jobs:``/``steps:`` structure, every ``${...}``
substitution at every sweep point, then each step by its method
(:mod:`loadgen.scenarios.methods`: its keys and types, the files and Flows it names, and
what it needs from the steps before it in its job). Any problem raises one
:class:`~loadgen.scenarios.model.ScenarioError` naming ``FILE:LINE``, the key path and the fix.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

from loadgen.scenarios.methods import METHODS, StepSource, check_order
from loadgen.scenarios.model import JobPlan, Plan, Point, ScenarioError, Step, Where
from loadgen.scenarios.params import check_kwargs, pause, suggest, unknown_keys, whole
from loadgen.scenarios.sweep import Axis, grid, parse_axes, repetitions
from loadgen.scenarios.variables import parse_sets, read_env_file, resolve_value, typed

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
    kwargs = check_kwargs(given, METHODS[method].params, where, lines)
    sleep_at = where.child("sleep_time", lines.get("sleep_time"))
    sleep = pause(resolve_tree(raw.get("sleep_time", 0), variables, sleep_at, budget), sleep_at)
    kwargs = METHODS[method].finish(kwargs, StepSource(where=where, lines=lines, base_dir=base_dir,
                                                       variables=variables))
    return Step(index=index, method=method, kwargs=kwargs, sleep_time=sleep, where=where, lines=lines)
