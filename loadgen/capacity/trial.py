"""One trial of a capacity search: an open-loop Locust run at an offered rate, cut into windows.

A trial is a headless Locust run through :mod:`loadgen.locust_adapter.library` (in this
process; with ``workers`` a master plus worker processes) with ``--arrival-rate RATE``,
``-u`` from :meth:`~loadgen.capacity.config.LoadConfig.users_for` and its own
``--results-dir`` (its usual ``summary.json``, ``timeseries.csv``, ``histograms.hlog``,
``report.html`` and ``locust.log``). Its ``-t`` covers the warm-up and ``--max-windows``
windows; while it runs, :class:`Watcher` reads the new report intervals every half second
(:mod:`loadgen.capacity.reader`) and ends the run as soon as the last 3 windows agree, or
all three violate a gate, or the windows are used up. The figures are then read again from
the finished files (:func:`assess`) and judged (:mod:`loadgen.capacity.verdict`).

Cost on a load-generating hub (a run without workers): each new interval line is decoded
once (about 0.2 ms per endpoint and second), and each completed window costs one merge
and a few percentiles of 3 windows (about 1 ms per gated figure) -- per window, not per request.

The probe (:func:`probe_rate`) is a short closed-loop run with a few users per process;
half its successful rate is where the search starts when ``--rate-start`` is not given.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from loadgen.capacity.config import MIN_USERS, CapacityConfig, WindowConfig
from loadgen.capacity.reader import IntervalReader
from loadgen.capacity.verdict import UNSTABLE, Judgement, judge
from loadgen.capacity.windows import (TAIL, Span, complete_windows, cut_windows, disagreements, figures, gauges_of, merge_spans,
                                      violated_throughout)
from loadgen.errors import ConfigError, RunError

PROBE_S = 3  # seconds of the closed-loop probe
ENDPOINT_KEYS = ("requests", "failures", "rps", "docs_per_s", "latency_ms", "timed_requests")
Progress = Callable[[Any], Any]  # gets the library's Progress (elapsed_s, requests, failures, current_rps)


@dataclass(frozen=True, kw_only=True)
class Trial:
    """A trial's outcome; rates in req/s, ``dir`` relative to the search's results directory.
    ``endpoints``/``total`` carry summary.json's keys (:data:`ENDPOINT_KEYS`), from the merged
    last windows."""

    offered_rate: float
    achieved_rate: float
    windows: int
    stable: bool
    verdict: str
    reason: str
    endpoints: dict[str, Any]
    dir: str
    users: int
    docs_per_s: float
    total: dict[str, Any]
    late_share: float
    duration_s: float

    @property
    def held(self) -> bool:
        return self.verdict == "held"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Watcher:
    """The trial's progress callback: forwards each progress to ``show`` and returns True
    (end the run) once the windows decide the trial. Windows are merged and compared only
    when a new one may be complete (once per window, not per call)."""

    def __init__(self, directory: Path, config: CapacityConfig, show: Progress):
        self.reader, self.config, self.show = IntervalReader(directory), config, show
        self.gauges = gauges_of(config.slos)
        self.seen = 0  # windows looked at

    def __call__(self, progress: Any) -> bool:
        self.show(progress)
        spans, windows_config = self.reader.poll(), self.config.windows
        if complete_windows(spans, warmup_s=windows_config.warmup_s, window_s=windows_config.window_s,
                            interval_s=windows_config.interval_s) <= self.seen:
            return False
        self.seen = complete_windows(spans, warmup_s=windows_config.warmup_s, window_s=windows_config.window_s,
                                     interval_s=windows_config.interval_s)
        if self.seen >= windows_config.max_windows:
            return True
        windows = measured(spans, windows_config, last=TAIL)  # the tail only: this runs beside the load
        return len(windows) >= TAIL and (not disagreements(windows, self.gauges, stability=windows_config.stability)
                                         or bool(violated_throughout(windows, self.config.slos)))


def measured(spans: list[Span], config: WindowConfig, *, last: Optional[int] = None) -> list[Span]:
    return cut_windows(spans, warmup_s=config.warmup_s, window_s=config.window_s, interval_s=config.interval_s,
                       last=last)


def run_trial(config: CapacityConfig, rate: float, directory: Path, *, show: Progress = lambda _: None,
              preindex_docs: int = 0) -> Trial:
    """Run a trial offered ``rate`` req/s into ``directory`` and judge it (``preindex_docs``:
    documents indexed before its load, as in the probe; the search's first run only).
    :raises ConfigError: Locust refused the options. :raises RunError: the run failed.
    :raises KeyboardInterrupt: SIGINT/SIGTERM (the trial's own files are written)."""
    users = config.load.users_for(rate, config.slos)
    argv = [*config.load.argv, "-u", str(users), "-r", str(users), "-t", f"{config.windows.run_time_s()}s",
            "--arrival-rate", f"{rate:g}", "--results-dir", str(directory), "--preindex-docs", str(preindex_docs),
            "--report-interval", f"{config.windows.interval_s:g}"]
    summary = run_locust(argv, config, directory, on_progress=Watcher(directory, config, show))
    return assess(directory, config, rate=rate, users=users, summary=summary)


def assess(directory: Path, config: CapacityConfig, *, rate: float, users: int, summary: dict[str, Any]) -> Trial:
    """The trial in ``directory`` judged from its finished files."""
    windows = measured(IntervalReader(directory).poll(), config.windows)
    total = summary.get("total") or {}
    late_share = total.get("late", 0) / max(1, total.get("requests", 0))
    if windows:
        figs = figures(merge_spans(windows[-TAIL:]), docs_per_request=docs_per_request(summary))
        moved = disagreements(windows, gauges_of(config.slos), stability=config.windows.stability)
        judgement = judge(figures=figs, offered_rate=rate, slos=config.slos, disagreements=moved,
                          generator=summary.get("generator"), late_share=late_share, users=users)
    else:
        figs = {"endpoints": {}, "total": {"rps": 0.0, "docs_per_s": 0.0}}
        moved = ["no complete window"]
        judgement = Judgement(UNSTABLE, f"no complete window after {summary.get('duration_s', 0):g} s")
    return Trial(offered_rate=rate, achieved_rate=figs["total"]["rps"], windows=len(windows), stable=not moved,
                 verdict=judgement.verdict, reason=judgement.reason,
                 endpoints={name: _keys(e) for name, e in figs["endpoints"].items()},
                 dir=directory.name, users=users, docs_per_s=figs["total"]["docs_per_s"], total=_keys(figs["total"]),
                 late_share=round(late_share, 4), duration_s=float(summary.get("duration_s", 0.0)))


def _keys(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: figures[key] for key in ENDPOINT_KEYS if key in figures}


def docs_per_request(summary: dict[str, Any]) -> dict[str, float]:
    """Documents per successful request of each endpoint over the whole run (the interval
    files count requests, not documents)."""
    out = {}
    for name, e in (summary.get("endpoints") or {}).items():
        ok = e["requests"] - e["failures"]
        out[name] = e["docs_per_s"] * summary.get("duration_s", 0.0) / ok if ok else 0.0
    return out


def probe_rate(config: CapacityConfig, directory: Path, *, show: Progress = lambda _: None) -> tuple[float, dict]:
    """A PROBE_S-second closed-loop run with MIN_USERS users per process; returns half its
    successful req/s (where the search starts) and its summary.
    :raises RunError: no request succeeded (the reason names the failure classes)."""
    users = MIN_USERS * config.load.processes
    argv = [*config.load.argv, "-u", str(users), "-r", str(users), "-t", f"{PROBE_S}s", "--results-dir", str(directory),
            "--preindex-docs", str(config.load.preindex_docs)]
    summary = run_locust(argv, config, directory, on_progress=show)
    total = summary["total"]
    ok_rate = total["rps"] * (1 - total["failures"] / max(1, total["requests"]))
    if ok_rate <= 0:
        raise RunError(f"the probe's {total['requests']} requests all failed ({summary.get('failures') or 'none sent'}); "
                       f"see {directory / 'locust.log'}")
    return ok_rate / 2, summary


def run_locust(argv: list[str], config: CapacityConfig, directory: Path, *, on_progress: Progress) -> dict[str, Any]:
    """Run Locust (imported here: it monkey-patches with gevent) and return its summary.
    :raises ConfigError: exit code 2 (bad options; its one-line error). :raises RunError:"""
    from loadgen.locust_adapter.library import LocustRun, run_headless

    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "locust.log"
    code = run_headless(LocustRun(argv=tuple(argv), kind=config.load.kind, log_path=log_path,
                                  workers=config.load.workers), on_progress=on_progress)
    summary = _summary(directory)
    if code == 2:
        raise ConfigError(error_line(log_path) or f"Locust refused the options (see {log_path})")
    if summary is None or code not in (0, 1, 3):
        raise RunError(f"Locust exited with code {code}: {error_line(log_path) or 'no summary.json written'} "
                       f"(log: {log_path})")
    return summary


def _summary(directory: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def error_line(log_path: Path) -> str:
    """loadgen's own last one-line error in a run's log (without its prefix), else ''."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    ours = [line.split("loadgen: error:", 1)[1].strip() for line in lines if "loadgen: error:" in line]
    return ours[-1] if ours else ""
