"""A whole capacity search: the probe, the trials the search asks for, the results files.

:func:`find_capacity` is what ``loadgen capacity`` and the ``find_capacity`` scenario step
call. Each trial runs in its own directory ``trial-NN-RATErps`` under ``results_dir``
(the probe in ``probe``); after the search ``capacity.json`` and ``capacity.html`` are
written there -- also when it was interrupted (Ctrl-C or SIGTERM: the running trial
stops, keeps its files and is not counted; ``limit`` is then ``interrupted``).
No trial starts when fewer seconds than the shortest trial (warm-up + 3 windows) are left
of ``max_time_s`` (``limit: "time"``).
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from loadgen.capacity.config import MIN_USERS, CapacityConfig
from loadgen.capacity.page import write_page
from loadgen.capacity.report import CapacityResult, trial_line, write_json
from loadgen.capacity.search import Search
from loadgen.capacity.trial import PROBE_S, Trial, probe_rate, run_trial
from loadgen.capacity.verdict import SATURATED

EXIT_FOUND, EXIT_ERROR, EXIT_USAGE, EXIT_NONE_HELD, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def find_capacity(config: CapacityConfig, *, console: Any) -> CapacityResult:
    """Run the search; write ``capacity.json`` and ``capacity.html`` into
    ``config.results_dir`` whatever happens after the first trial. ``console`` shows lines
    and progress (:class:`loadgen.console.Console`)."""
    started, trials = time.monotonic(), []
    search: Optional[Search] = None
    probe: Optional[dict[str, Any]] = None
    try:
        rate_start = config.search.rate_start
        if rate_start is None:
            rate_start, probe = _probe(config, console)
        search = Search(replace(config.search, rate_start=rate_start))
        # Documents go in before the first load: the probe's, else the first trial's.
        _run_trials(config, search, trials, console, started, preindex_docs=0 if probe else config.load.preindex_docs)
        limit = search.limit or "slo"
    except KeyboardInterrupt:
        console.end_progress()
        console.error("interrupted: the search ends with the trials it has")
        limit = "interrupted"
    result = CapacityResult(max_rate=search.best if search else None, limit=limit, trials=tuple(trials),
                            probe=probe, duration_s=time.monotonic() - started)
    write_json(config.results_dir, result, config)
    write_page(config.results_dir)
    return result


def exit_code(result: CapacityResult) -> int:
    """0 a rate held, 3 none did, 130 interrupted."""
    if result.limit == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_FOUND if result.max_rate is not None else EXIT_NONE_HELD


def _probe(config: CapacityConfig, console: Any) -> tuple[float, dict[str, Any]]:
    users = MIN_USERS * config.load.processes
    directory = config.results_dir / "probe"
    label = f"probe ({users} users, closed loop)"
    try:
        rate, summary = probe_rate(config, directory, show=lambda now: console.progress(label, PROBE_S, now))
    finally:
        console.end_progress()
    p50 = summary["total"]["latency_ms"]["p50"]
    console.line(f"probe: {2 * rate:.4g} req/s with {users} users in closed loop (p50 {p50:.4g} ms): "
                 f"the search starts at {rate:.4g} req/s")
    return rate, {"rate": round(rate, 3), "users": users, "dir": directory.name}


def _run_trials(config: CapacityConfig, search: Search, trials: list[Trial], console: Any, started: float, *,
                preindex_docs: int) -> None:
    """Trials until the search ends; the first indexes ``preindex_docs`` documents first."""
    while (rate := search.next_rate()) is not None:
        if time.monotonic() - started + config.windows.shortest_s() > config.max_time_s:
            search.stop("time")
            return
        index = len(trials) + 1
        directory = config.results_dir / f"trial-{index:02d}-{rate:.4g}rps"
        label = f"trial {index}: {rate:.4g} req/s"
        try:
            trial = run_trial(config, rate, directory, preindex_docs=0 if trials else preindex_docs,
                              show=lambda now: console.progress(label, config.windows.run_time_s(), now))
        finally:
            console.end_progress()
        trials.append(trial)
        console.line(trial_line(index, trial))
        search.record(rate, held=trial.held, stop="generator" if trial.verdict == SATURATED else None)


def results_dir_default() -> Path:
    """``results/<UTC time>-capacity``."""
    return Path("results") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-capacity"
