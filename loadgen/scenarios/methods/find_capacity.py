"""``find_capacity``: the highest ``/search`` rate the job's Flow (or ``gateway_host``) holds
within the step's ``slo`` -- a capacity search (:mod:`loadgen.capacity`, docs/capacity.md)
whose trials are query loads built like a ``query`` step's.

Keys: a ``query`` step's (``inputs``, ``request_size``, ``top_k``, ``workers``, ``protocol``,
``gateway_host``/``gateway_port``, ``on_always``, ``replay_file``, ``timeout``, ...; no
``execution_time`` nor ``arrival_rate``: the search sets both), ``num_clients`` (``-u`` of every
trial; default: per rate), and ``loadgen capacity``'s options as keys: ``slo``,
``rate_start``, ``rate_factor``, ``precision``, ``rate_max``, ``rate_min``, ``max_time``,
``trial_warmup``, ``window``, ``stability``, ``max_windows``, ``report_interval``.

Its row in the results table has the figures of the trial at the highest rate held -- over
its measured windows, the figures the gates judged (latency from the scheduled send, so
``p99 ms`` and ``p99 corrected ms`` agree), per-Executor means from its summary.json --
then ``max req/s``, ``max docs/s`` and ``limit``; status ``slo failed`` when no tried rate
held, ``generator saturated`` when the load generator was the limit.
``capacity.json``, ``capacity.html`` and the trials are in the step's directory.
"""
from __future__ import annotations

import json
from typing import Any

from loadgen.capacity.config import CapacityConfig, LoadConfig, WindowConfig, check
from loadgen.capacity.driver import find_capacity
from loadgen.capacity.report import CapacityResult
from loadgen.capacity.search import SearchConfig
from loadgen.errors import ConfigError
from loadgen.reports.scenario_table import StepResult, figures_of
from loadgen.scenarios.locust_step import KINDS, locust_options, locustfile_of
from loadgen.scenarios.methods import index_query
from loadgen.scenarios.methods.base import Method, StepRun, StepSource
from loadgen.scenarios.model import ScenarioError, Where
from loadgen.scenarios.params import Param, pause, seconds, whole
from loadgen.slo import parse_slo


def rate(value: Any, where: Where) -> float:
    """A rate in requests per second, > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ScenarioError(where, f"must be a number of requests per second > 0, got {value!r}")
    return float(value)


def percent(value: Any, where: Where) -> float:
    """``5%`` or ``5`` (percent) -> 0.05."""
    text = str(value).strip().rstrip("%").strip()
    try:
        share = float(text) / 100.0
    except ValueError:
        share = -1.0
    if isinstance(value, bool) or not share > 0:
        raise ScenarioError(where, f"must be a percentage > 0 such as 5%, got {value!r}")
    return share


SKIPPED = ("execution_time", "arrival_rate")  # the search sets them
PARAMS = {
    **{key: param for key, param in index_query.PARAMS.items() if key not in SKIPPED},
    "top_k": Param(whole(1), 10), "num_clients": Param(whole(1)),
    "rate_start": Param(rate), "rate_factor": Param(rate, 2.0), "precision": Param(percent, 0.05),
    "rate_max": Param(rate), "rate_min": Param(rate, 1.0), "max_time": Param(seconds, 600.0),
    "trial_warmup": Param(pause, 3.0), "window": Param(seconds, 5.0), "stability": Param(percent, 0.10),
    "max_windows": Param(whole(3), 8), "report_interval": Param(seconds, 1.0),
}


def finish(kwargs: dict, source: StepSource) -> dict:
    """A query step's checks, then the search's (rate_start above rate_max, a window shorter
    than the report interval, ...)."""
    out = index_query.finish({**kwargs, **{key: None for key in SKIPPED}}, source)
    try:
        check(capacity_config(out, argv=()), name=lambda key: key)
    except ConfigError as exc:
        raise ScenarioError(source.where, str(exc))
    return {key: value for key, value in out.items() if key not in SKIPPED}


def capacity_config(kwargs: dict, *, argv: tuple[str, ...], results_dir: Any = None) -> CapacityConfig:
    """The search of a step's keys; ``argv`` is the trials' Locust command line."""
    workers = kwargs["workers"] or 0
    windows = WindowConfig(warmup_s=kwargs["trial_warmup"], window_s=kwargs["window"], stability=kwargs["stability"],
                           max_windows=kwargs["max_windows"], interval_s=kwargs["report_interval"])
    search = SearchConfig(rate_start=kwargs["rate_start"], rate_factor=kwargs["rate_factor"],
                          precision=kwargs["precision"], rate_max=kwargs["rate_max"], rate_min=kwargs["rate_min"])
    load = LoadConfig(argv=argv, kind=KINDS[locustfile_of(kwargs)], workers=workers, users=kwargs["num_clients"])
    return CapacityConfig(load=load, windows=windows, search=search, max_time_s=kwargs["max_time"],
                          slos=tuple(parse_slo(text) for text in kwargs["slo"]),
                          **({"results_dir": results_dir} if results_dir is not None else {}))


def run(ctx: StepRun) -> None:
    """The search, into the step's directory; its answer joins the table."""
    kwargs = ctx.step.kwargs
    base = {**kwargs, "execution_time": 1.0, "arrival_rate": None, "slo": (), "num_clients": 1}
    argv = locust_options("query", base, target=ctx.state.target(kwargs), results_dir=ctx.step_dir)
    config = capacity_config(kwargs, argv=tuple(argv), results_dir=ctx.step_dir)
    ctx.console.line(f"  capacity search ({ctx.point.label}): {', '.join(kwargs['slo']) or 'no gates'}")
    result = find_capacity(config, console=ctx.console)
    add_row(ctx, result)
    if result.limit == "interrupted":
        raise KeyboardInterrupt


def add_row(ctx: StepRun, result: CapacityResult) -> None:
    """The step's row: the best trial's window figures, max req/s, max docs/s, limit, status."""
    best = result.best()
    figures: dict[str, Any] = {"max req/s": result.max_rate, "max docs/s": result.max_docs_per_s()}
    executors: dict[str, float] = {}
    if best is not None:
        total, latency = best.total, best.total["latency_ms"]
        figures.update({"requests": total["requests"], "failures": total["failures"], "req/s": total["rps"],
                        "docs/s": total["docs_per_s"], "p50 ms": latency["p50"], "p95 ms": latency["p95"],
                        "p99 ms": latency["p99"], "p99 corrected ms": latency["p99"]})
        summary = json.loads((ctx.step_dir / best.dir / "summary.json").read_text(encoding="utf-8"))
        executors = figures_of(summary)[1]
    status = {"interrupted": "interrupted", "generator": "generator saturated"}.get(result.limit, "ok")
    if result.max_rate is None and status == "ok":
        status = "slo failed"
    ctx.record(StepResult(job=ctx.job.name, params=dict(ctx.point.params), repetition=ctx.point.repetition,
                          step=ctx.step.name, status=status, results_dir=str(ctx.step_dir), figures=figures,
                          executors=executors, limit=result.limit))


def on_failure(ctx: StepRun, status: str) -> None:
    ctx.record(StepResult(job=ctx.job.name, params=dict(ctx.point.params), repetition=ctx.point.repetition,
                          step=ctx.step.name, status=status, results_dir=str(ctx.step_dir)))


METHOD = Method(params=PARAMS, finish=finish, order=index_query.order, run=run, on_failure=on_failure)
