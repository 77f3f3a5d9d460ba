"""The records of a scenario run: where a value came from, a validated step, a sweep point, the plan.

A scenario file is loaded and validated as a whole (:mod:`loadgen.scenarios.loader`) into a
:class:`Plan` -- every job, every sweep point and repetition, every step with its keyword
arguments substituted, typed and defaulted -- before anything runs. The runner
(:mod:`loadgen.scenarios.runner`) only executes a plan. See docs/scenarios.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from loadgen.errors import ConfigError


@dataclass(frozen=True)
class Where:
    """A place in a scenario: the file, the key path (``jobs.smoke.steps[2].execution_time``)
    and the 1-based line when known. ``str(where)`` is ``FILE:LINE: PATH``."""

    file: str
    path: str = ""
    line: Optional[int] = None

    def child(self, key: Any, line: Optional[int] = None) -> "Where":
        """The place of ``key`` (a mapping key, or a list index as an int) below this one."""
        part = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else str(key))
        return Where(self.file, self.path + part, line if line is not None else self.line)

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.path}" if self.path else place


class ScenarioError(ConfigError):
    """Bad scenario input (exit code 2): the message starts with ``FILE:LINE: KEY.PATH`` and
    ends with the fix."""

    def __init__(self, where: Where, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where


@dataclass(frozen=True, kw_only=True)
class Step:
    """One validated step.

    :param index: 1-based position in its job.
    :param method: ``start_flow``, ``index``, ... (:data:`loadgen.scenarios.methods.METHODS`).
    :param kwargs: the method's arguments, substituted, typed, with defaults filled in.
    :param sleep_time: seconds to wait before the step runs.
    :param where: the step's place in the scenario file (for runtime errors).
    :param lines: the line of each of the step's keys.
    """

    index: int
    method: str
    kwargs: Mapping[str, Any]
    sleep_time: float = 0.0
    where: Where
    lines: Mapping[Any, int] = field(default_factory=dict)

    def at(self, key: str) -> Where:
        """The place of one of the step's keys."""
        return self.where.child(key, self.lines.get(key))

    @property
    def name(self) -> str:
        """``02-index``: the step's directory name and table label."""
        return f"{self.index:02d}-{self.method}"


@dataclass(frozen=True, kw_only=True)
class Point:
    """One sweep point and repetition of a job, with its steps.

    :param number: 1-based position of the point in the job's grid.
    :param params: the swept parameters' values at this point (empty without ``sweep``).
    :param repetition: 1-based repetition (``repeat: N``).
    """

    number: int
    params: Mapping[str, Any]
    repetition: int
    steps: tuple[Step, ...]

    @property
    def label(self) -> str:
        """``replicas=2_rep1`` (``point1_rep1`` without parameters): the point's directory."""
        parts = [f"{k}={_plain(v)}" for k, v in self.params.items()] or [f"point{self.number}"]
        return "_".join(parts + [f"rep{self.repetition}"])


def _plain(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return "".join(c if c.isalnum() or c in ",.-+" else "-" for c in text)[:40]


@dataclass(frozen=True, kw_only=True)
class JobPlan:
    """A job's expansion: ``points`` in run order (grid order, repetitions innermost)."""

    name: str
    axes: tuple[str, ...]
    repeat: int
    points: tuple[Point, ...]


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A whole validated scenario: its file, the variables it was expanded with, its jobs."""

    path: str
    variables: Mapping[str, str] = field(default_factory=dict)
    jobs: tuple[JobPlan, ...] = ()
