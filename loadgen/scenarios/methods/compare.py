"""``compare``: end a job by comparing its load steps with a stored baseline (``loadgen
compare``, docs/compare.md); a regression makes ``loadgen run`` exit with code 4.

```yaml
- method: compare
  baseline: baselines/smoke         # a results directory: this scenario's earlier run, or one run
  max_regression: ['p99:+10%', 'rps:-5%']   # optional, over the defaults
  confidence: 0.99                  # optional
```

The job's load steps are matched with the baseline's by job, sweep point and step
(repetitions are samples); a single-run baseline pairs with a job of one load step. The step
runs once, after the job's last sweep point, and writes ``compare.json``, ``compare.md`` and
``compare.html`` into its own directory. The baseline is checked while the scenario loads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from loadgen.compare.records import Settings
from loadgen.compare.render import render_text
from loadgen.compare.run import judge_pair
from loadgen.compare.runs import kind_of, load, load_scenario
from loadgen.compare.thresholds import Thresholds, parse_threshold
from loadgen.errors import ConfigError
from loadgen.scenarios.methods.base import Method, StepRun, StepSource, existing_path
from loadgen.scenarios.model import ScenarioError, Where
from loadgen.scenarios.params import REQUIRED, Param, config_value, strings, text


def limits(value: Any, where: Where) -> tuple[str, ...]:
    """``max_regression`` items, each checked like ``--max-regression``."""
    items = strings(value, where)
    for i, item in enumerate(items):
        config_value(lambda given: parse_threshold(given, option="max_regression"), item, where.child(i))
    return items


def level(value: Any, where: Where) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not 0.5 < number < 1:
        raise ScenarioError(where, f"must be a number between 0.5 and 1 (e.g. 0.99), got {value!r}")
    return number


PARAMS = {"baseline": Param(text, REQUIRED, help="a results directory to compare with, e.g. baselines/smoke"),
          "max_regression": Param(limits, ()), "confidence": Param(level, 0.99)}


def finish(kwargs: dict, source: StepSource) -> dict:
    """The baseline made absolute; it must be a results directory already."""
    at = source.at("baseline")
    path = existing_path(kwargs["baseline"], source.base_dir, at, "baseline directory")
    try:
        kind_of(path, "baseline")
    except ConfigError as exc:
        raise ScenarioError(at, str(exc))
    return {**kwargs, "baseline": str(path)}


def run(ctx: StepRun) -> None:
    """Compare the job's results so far with the baseline (after its last sweep point)."""
    if not ctx.last_point:
        ctx.console.line("  compare: runs after the job's last sweep point")
        return
    kwargs = ctx.step.kwargs
    settings = Settings(thresholds=Thresholds.parse(kwargs["max_regression"], option="max_regression"),
                        level=kwargs["confidence"])
    base = load(Path(kwargs["baseline"]), "baseline", job=ctx.job.name)
    new = load_scenario(ctx.run_dir, job=ctx.job.name)
    comparison = judge_pair(base, new, settings, ctx.step_dir)
    ctx.console.table(render_text(comparison))
    ctx.console.line(f"  compare: {ctx.step_dir / 'compare.html'} (and compare.json, compare.md)")
    ctx.regressed([r.regression_line() for r in comparison.regressions])


METHOD = Method(params=PARAMS, finish=finish, run=run)
