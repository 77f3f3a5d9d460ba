"""Sweeps: the parameter grid of a job and its repetitions.

::

    sweep:
      replicas: [1, 2]                          # a list of values
      request_size: {start: 0, end: 4, base: 2} # powers of two, end exclusive: 1, 2, 4, 8
      clients: {start: 1, end: 7, step: 2}      # a linear range, end exclusive: 1, 3, 5
    repeat: 3

The grid is the product of the axes in the order they are written, the last axis varying
fastest; each point runs ``repeat`` times in a row. Steps read a swept value as
``${replicas}``. ``--set replicas=2`` collapses that axis to the one value.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from loadgen.scenarios.model import ScenarioError, Where
from loadgen.scenarios.variables import NAME

MAX_POINTS = 10_000
RANGE_KEYS = {"start", "end", "base", "step"}
SYNTAX = "a list of values, {start: S, end: E, base: 2} (powers, end exclusive) or {start: S, end: E, step: N}"


@dataclass(frozen=True)
class Axis:
    """One swept parameter and its values, in order."""

    name: str
    values: tuple[Any, ...]


def parse_axes(sweep: Any, where: Where, overrides: Mapping[str, str],
               lines: Mapping[Any, int] | None = None) -> tuple[Axis, ...]:
    """The axes of a job's ``sweep:`` mapping (already substituted); ``overrides`` (``--set``)
    replace an axis by its one value. :raises ScenarioError: naming the axis and the fix."""
    if sweep is None:
        return ()
    if not isinstance(sweep, dict):
        raise ScenarioError(where, f"must map parameter names to values: {SYNTAX}")
    axes = []
    for name, spec in sweep.items():
        at = where.child(str(name), (lines or {}).get(name))
        if not isinstance(name, str) or not NAME.match(name):
            raise ScenarioError(at, "a swept parameter needs a variable name (letters, digits, _) to be used as ${NAME}")
        values = (overrides[name],) if name in overrides else axis_values(spec, at)
        axes.append(Axis(name, values))
    return tuple(axes)


def axis_values(spec: Any, where: Where) -> tuple[Any, ...]:
    """The values of one axis. :raises ScenarioError: for an empty, malformed or huge axis."""
    if isinstance(spec, list):
        values = tuple(spec)
    elif isinstance(spec, dict):
        values = _range(spec, where)
    else:
        values = (spec,)
    if not values:
        raise ScenarioError(where, f"has no values; give {SYNTAX}")
    if any(isinstance(v, (dict, list)) for v in values):
        raise ScenarioError(where, "values must be numbers or strings, not lists or mappings")
    return values


def _range(spec: dict, where: Where) -> tuple[int, ...]:
    if set(spec) - RANGE_KEYS or not {"start", "end"} <= set(spec) or {"base", "step"} <= set(spec):
        raise ScenarioError(where, f"cannot read {spec!r}; give {SYNTAX}")
    numbers = {}
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(where.child(key), f"must be a whole number, got {value!r}")
        numbers[key] = value
    start, end = numbers["start"], numbers["end"]
    if "base" in numbers:
        if numbers["base"] < 2 or not 0 <= start < end or end - start > 64:
            raise ScenarioError(where, "powers need base >= 2 and 0 <= start < end <= start + 64 "
                                       "(exponents; end exclusive), e.g. {start: 0, end: 4, base: 2} for 1, 2, 4, 8")
        return tuple(numbers["base"] ** e for e in range(start, end))
    step = numbers.get("step", 1)
    if step < 1 or start >= end or (end - start) // step > MAX_POINTS:
        raise ScenarioError(where, "a range needs start < end and step >= 1 (end exclusive), "
                                   "e.g. {start: 1, end: 7, step: 2} for 1, 3, 5")
    return tuple(range(start, end, step))


def grid(axes: tuple[Axis, ...], where: Where) -> list[dict[str, Any]]:
    """Every point of the grid, first axis outermost. :raises ScenarioError: over
    :data:`MAX_POINTS` points."""
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise ScenarioError(where, f"the grid has {size} points, more than {MAX_POINTS}; sweep fewer values")
    return [dict(zip((a.name for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]


def repetitions(points: list[dict[str, Any]], repeat: int) -> Iterator[tuple[int, dict[str, Any], int]]:
    """``(point number, params, repetition)`` in run order: repetitions of a point in a row."""
    for number, params in enumerate(points, 1):
        for repetition in range(1, repeat + 1):
            yield number, params, repetition
