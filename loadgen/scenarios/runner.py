"""Run a validated :class:`~loadgen.scenarios.model.Plan`: jobs in order, their sweep points
and steps in order, the results table written after every load step. A step is run by its
method (:data:`loadgen.scenarios.methods.METHODS`).

Results directory layout::

    DIR/plan.txt                        the expanded plan (what --dry-run prints)
    DIR/table.csv, table.md             the results table (loadgen.reports.scenario_table)
    DIR/results.json                    every step result and the table
    DIR/report.html                     the table and, per sweep, the swept parameter vs req/s and p99
    DIR/<job>/workspace/                create_workspace's files
    DIR/<job>/<point>/<NN-method>/      one per step: summary.json, timeseries.csv,
                                        histograms.hlog, locust.log (load steps), flow-*.log

A failing step stops its job (the next job still runs), stops the job's Flow and keeps
what was written. Ctrl-C stops the running Locust cleanly (its summary is kept), stops
every Flow, writes the table and returns 130.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from loadgen.console import Console
from loadgen.errors import CloudError, ConfigError, FlowError
from loadgen.reports.scenario_html import write_report
from loadgen.reports.scenario_table import StepResult, write_tables
from loadgen.scenarios.inputs import Inputs, OnAlways
from loadgen.scenarios.job_state import JobState
from loadgen.scenarios.loader import point_variables
from loadgen.scenarios.methods import METHODS, StepFailed, StepRun
from loadgen.scenarios.methods.index_query import SHARDS_MISSING
from loadgen.scenarios.model import JobPlan, Plan, Point, Step

EXIT_OK, EXIT_FAILED, EXIT_SLO, EXIT_REGRESSION, EXIT_INTERRUPTED = 0, 1, 3, 4, 130
STEP_ERRORS = (ConfigError, FlowError, CloudError, StepFailed, OSError)


class Run:
    """One execution of a plan into ``results_dir``; :meth:`execute` returns the exit code."""

    def __init__(self, plan: Plan, results_dir: Path, console: Console):
        self.plan, self.results_dir, self.console = plan, results_dir, console
        self.results: list[StepResult] = []
        self.failed_steps = 0
        self.interrupted = False
        self.regressions: list[str] = []  # from compare steps

    def execute(self) -> int:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        (self.results_dir / "plan.txt").write_text(describe(self.plan) + "\n", encoding="utf-8")
        try:
            for job in self.plan.jobs:
                self.run_job(job)
        except KeyboardInterrupt:
            self.interrupted = True
            self.console.error("interrupted: Flows stopped, results so far kept")
        finally:
            rows = self.save()
        # Once: a `report` step that just printed this very table is not followed by a copy.
        self.console.results(f"\nscenario {self.plan.path}: results in {self.results_dir}\n", rows, again=False)
        return self.exit_code()

    def exit_code(self) -> int:
        statuses = {r.status for r in self.results}
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.failed_steps or "failures" in statuses or any(s.startswith(SHARDS_MISSING) for s in statuses):
            return EXIT_FAILED
        if self.regressions:
            return EXIT_REGRESSION
        return EXIT_SLO if "slo failed" in statuses else EXIT_OK

    def save(self) -> list[dict[str, Any]]:
        run = {"scenario": self.plan.path, "results_dir": str(self.results_dir),
               "jobs": [job.name for job in self.plan.jobs]}
        rows = write_tables(self.results_dir, self.results, run=run)
        write_report(self.results_dir, rows, scenario=self.plan.path, axes={j.name: j.axes for j in self.plan.jobs})
        return rows

    def run_job(self, job: JobPlan) -> None:
        state = JobState(self.results_dir / job.name, out=self.console.line)
        try:
            for i, point in enumerate(job.points):
                params = ", ".join(f"{k}={v}" for k, v in point.params.items())
                self.console.line(f"job {job.name}: point {point.number}/{len(job.points) // job.repeat}"
                                  f"{f' ({params})' if params else ''}, repetition {point.repetition}/{job.repeat}")
                for step in point.steps:
                    if not self.run_step(job, point, step, state, last_point=i + 1 == len(job.points)):
                        return
        finally:
            state.close()

    def run_step(self, job: JobPlan, point: Point, step: Step, state: JobState, *, last_point: bool) -> bool:
        """Run one step by its method; False when it failed (the job stops)."""
        method = METHODS[step.method]
        ctx = StepRun(job=job, point=point, step=step, state=state,
                      step_dir=self.results_dir / job.name / point.label / step.name, run_dir=self.results_dir,
                      variables=point_variables(self.plan.variables, point), last_point=last_point,
                      console=self.console, record=self.record, save=self.save, regressed=self.regressions.extend)
        self.console.line(f"  step {step.index} {step.method}")
        if step.sleep_time:
            time.sleep(step.sleep_time)
        try:
            method.run(ctx)
        except STEP_ERRORS as exc:
            self.failed_steps += 1
            method.on_failure(ctx, f"failed: {exc}")
            self.console.error(f"{step.where} ({step.method}, {point.label}): {_reason(exc)}")
            return False
        return True

    def record(self, result: StepResult) -> None:
        """A load step's row: into the table, and the table files rewritten."""
        self.results.append(result)
        self.save()


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.strerror}: {exc.filename or ''}"
    return text


def describe(plan: Plan) -> str:
    """The expanded plan: every job, sweep point, repetition and step with its arguments."""
    lines = [f"scenario {plan.path}"]
    for job in plan.jobs:
        axes = f", sweep over {', '.join(job.axes)}" if job.axes else ""
        lines.append(f"job {job.name}: {len(job.points)} run(s){axes}, repeat {job.repeat}")
        for point in job.points:
            lines.append(f"  {point.label}")
            for step in point.steps:
                sleep = f" (after {step.sleep_time:g} s)" if step.sleep_time else ""
                lines.append(f"    {step.index}. {step.method}{sleep} {_arguments(step.kwargs)}".rstrip())
    return "\n".join(lines)


def _arguments(kwargs: dict) -> str:
    return " ".join(f"{k}={_show_names(v) if k == 'headers' else _show(v)}" for k, v in kwargs.items()
                    if v not in (None, (), {}, ""))


def _show_names(headers: tuple[str, ...]) -> str:
    """Header names only: their values are credentials."""
    return "[" + ", ".join(item.partition(":")[0].strip() for item in headers) + "]"


def _show(value: Any) -> str:
    if isinstance(value, Inputs):
        shape = f"shape={'x'.join(map(str, value.image_shape))}, " if value.image_shape else ""
        return f"{value.method}({shape}seed={value.seed})"
    if isinstance(value, OnAlways):
        return f"{value.method}(top_k={value.top_k})" if value.top_k else value.method
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(map(str, value)) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def run_scenario(plan: Plan, *, results_dir: Path, console: Optional[Console] = None) -> int:
    """Run ``plan`` into ``results_dir``; returns the exit code (0 ok, 1 a step failed or
    requests failed, 4 a compare step found a regression, 3 an SLO gate failed, 130
    interrupted)."""
    return Run(plan, Path(results_dir), console or Console()).execute()
