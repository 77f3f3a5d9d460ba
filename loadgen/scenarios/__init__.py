"""Scenario jobs and sweeps: ``loadgen run SCENARIO.yml`` (docs/scenarios.md).

A scenario is YAML: ``jobs: {NAME: {steps: [...], sweep: {...}, repeat: N}}``; each step
names a ``method`` (start_flow, index, query, terminate_flow, report, ...) and its keys.

- :mod:`~loadgen.scenarios.model` -- the records: ``Where``, ``Step``, ``Point``, ``Plan``;
- :mod:`~loadgen.scenarios.variables` -- ``${VAR}`` substitution, env files, ``--set``;
- :mod:`~loadgen.scenarios.params` -- ``Param`` tables and the shared value checks;
- :mod:`~loadgen.scenarios.methods` -- one module per step method (its keys, checks and
  run) and the registry ``METHODS``;
- :mod:`~loadgen.scenarios.inputs` -- the generator/validator registries of load steps;
- :mod:`~loadgen.scenarios.sweep` -- parameter grids and repetitions;
- :mod:`~loadgen.scenarios.loader` -- YAML → validated ``Plan`` (every error before any load);
- :mod:`~loadgen.scenarios.job_state` -- what a job's steps share: workspace, Flow;
- :mod:`~loadgen.scenarios.locust_step` -- a load step as one headless Locust run, through
  :mod:`loadgen.locust_adapter.library` (imported only when a scenario runs);
- :mod:`loadgen.reports.scenario_table` -- the results table (:mod:`loadgen.console` on a terminal);
- :mod:`~loadgen.scenarios.runner` -- executing a plan.

Nothing here imports locust, gevent or jina directly.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional, Sequence

from loadgen.console import Console
from loadgen.scenarios.locust_step import prepare
from loadgen.scenarios.loader import load_plan, parse_plan
from loadgen.scenarios.model import Plan, ScenarioError
from loadgen.scenarios.runner import describe, run_scenario


def default_results_dir(scenario: str) -> Path:
    """``results/<UTC time>-<scenario name>``, e.g. ``results/20261122T001500Z-smoke``."""
    return Path("results") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{Path(scenario).stem}"


def run(scenario: str, *, env_file: Optional[str] = None, sets: Sequence[str] = (), results_dir: Optional[str] = None,
        dry_run: bool = False, quiet: bool = False) -> int:
    """``loadgen run``: validate the whole scenario, then print the plan (``dry_run``) or run
    it. Returns the exit code. :raises ScenarioError: for bad input (exit code 2)."""
    plan = load_plan(scenario, env_file=env_file, sets=sets)
    if dry_run:
        print(describe(plan))
        return 0
    prepare()  # Locust (and gevent's monkey-patching) before anything else is imported
    return run_scenario(plan, results_dir=Path(results_dir or default_results_dir(scenario)),
                        console=Console(quiet=quiet))


__all__ = ["Console", "Plan", "ScenarioError", "describe", "load_plan", "parse_plan", "run", "run_scenario"]
