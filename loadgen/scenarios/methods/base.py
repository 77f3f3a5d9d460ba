"""What a step method is: :class:`Method` (its keys, its checks, its run) and the records
its parts receive.

A method's parts are called at three moments:

- while the scenario is loaded, once per step and sweep point: ``params`` (checked by
  :func:`~loadgen.scenarios.params.check_kwargs`), then ``finish(kwargs, source)`` for what
  the keys cannot check one by one (files that must exist, keys that exclude each other);
- still while loading, over a job's steps in order: ``order(step, before)`` checks what the
  step needs from the steps before it (a Flow, a workspace) and records what it sets up;
- while the plan runs: ``run(ctx)``, and ``on_failure(ctx, status)`` when ``run`` raised
  one of the runner's step errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.scenarios.job_state import JobState
from loadgen.scenarios.model import JobPlan, Point, ScenarioError, Step, Where
from loadgen.scenarios.params import Param


class StepFailed(RuntimeError):
    """A step could not do its work (e.g. Locust exited without a summary)."""


@dataclass(frozen=True, kw_only=True)
class StepSource:
    """Where a step is written, for its method's ``finish`` check."""

    where: Where
    lines: Mapping[Any, int]  # the line of each of the step's keys
    base_dir: Path  # the scenario file's directory: relative paths start here
    variables: Mapping[str, str]  # the sweep point's variables

    def at(self, key: str) -> Where:
        return self.where.child(key, self.lines.get(key))


@dataclass
class Preceding:
    """What the steps before this one in its job set up; each method's ``order`` reads and
    updates it."""

    workspace: set[str] = field(default_factory=set)  # top-level names copied into the workspace so far
    flow: Optional[Step] = None  # the start_flow step whose Flow is running


@dataclass(frozen=True, kw_only=True)
class StepRun:
    """What a step's ``run`` gets: its place in the plan, the job's shared state, the run."""

    job: JobPlan
    point: Point
    step: Step
    state: JobState
    step_dir: Path  # DIR/<job>/<point>/<NN-method>
    run_dir: Path  # DIR, the run's results directory
    variables: Mapping[str, str]  # the sweep point's variables
    last_point: bool  # no sweep point of the job follows this one
    console: Any  # the run's Console: line(), error(), progress(), end_progress(), results()
    record: Callable[[Any], None]  # adds a StepResult to the results table (and writes it)
    save: Callable[[], list[dict[str, Any]]]  # writes the results files; returns the table's rows
    regressed: Callable[[list[str]], None]  # a compare step reports its regressions (one line each): exit code 4


def _unchanged(kwargs: dict, source: StepSource) -> dict:
    return kwargs


def _needs_nothing(step: Step, before: Preceding) -> None:
    return None


def _nothing_left(ctx: StepRun, status: str) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Method:
    """One step method (see the module docstring for when each part is called).

    :param params: its keys, in the order ``--dry-run`` and plan.txt show them.
    :param run: does the step's work; raises a step error (``ConfigError``, ``FlowError``,
        ``CloudError``, :class:`StepFailed`, ``OSError``) when it cannot.
    :param finish: the checked keys -> the step's final keys. :raises ScenarioError:
    :param order: checks ``step`` against what the steps ``before`` it set up, then updates
        ``before``. :raises ScenarioError:
    :param on_failure: what a failed step leaves (a load step: its table row with ``status``,
        ``failed: <why>``).
    """

    params: Mapping[str, Param]
    run: Callable[[StepRun], None]
    finish: Callable[[dict, StepSource], dict] = _unchanged
    order: Callable[[Step, Preceding], None] = _needs_nothing
    on_failure: Callable[[StepRun, str], None] = _nothing_left


def existing_path(path_text: str, base_dir: Path, where: Where, what: str) -> Path:
    """``path_text`` relative to ``base_dir``, made absolute. :raises ScenarioError: when
    there is nothing there (``what`` names it in the message)."""
    try:
        path = (base_dir / path_text).resolve()
        found = path.exists()
    except (OSError, ValueError, RuntimeError):
        found = False
    if not found:
        raise ScenarioError(where, f"no {what} {path_text!r} (relative to {base_dir}); fix the path")
    return path
