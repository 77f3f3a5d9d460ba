"""Reading results directories for a comparison: a single run, a scenario run or a capacity
search, told apart by their files.

- a **run** (``summary.json``): its figures, and per endpoint and Executor the report
  intervals the noise estimate needs — latency counts from ``histograms.hlog`` (one row per
  interval, one column per non-empty HdrHistogram bucket) and requests/failures per interval
  from ``timeseries.csv``;
- a **scenario** (``results.json``): its load steps grouped by job, sweep point and step,
  each group holding its repetitions as runs (step directories are found relative to the
  scenario directory, so a stored baseline may be moved);
- a **capacity search** (``capacity.json``): its ``max_rate`` and trials.

Anything else is a :class:`~loadgen.errors.ConfigError` of one line naming the directory.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from loadgen.errors import ConfigError
from loadgen.metrics import bucket_values_us
from loadgen.reports.series import read_hlog
from loadgen.reports.summary import BREAKDOWN_TYPES

Subject = tuple[str, str]  # ("endpoint", "/search") or ("executor", "encoder")
WHAT = "a loadgen results directory (summary.json), a scenario's (results.json) or a capacity search's (capacity.json)"


@dataclass(frozen=True, kw_only=True)
class LatencyIntervals:
    """Successful requests' latencies per report interval: ``counts`` is intervals ×
    buckets, ``values_us`` the value (µs) of each bucket column, ascending."""

    counts: np.ndarray
    values_us: np.ndarray


@dataclass(frozen=True, kw_only=True)
class RateIntervals:
    """Per report interval: its length (s), requests, failures, and p99 (ms, for charts)."""

    elapsed_s: np.ndarray
    length_s: np.ndarray
    requests: np.ndarray
    failures: np.ndarray
    p99_ms: np.ndarray


@dataclass(frozen=True, kw_only=True)
class SingleRun:
    path: Path
    summary: dict[str, Any]
    label: str
    latency: dict[Subject, LatencyIntervals] = field(default_factory=dict)
    rates: dict[Subject, RateIntervals] = field(default_factory=dict)

    def subjects(self) -> list[Subject]:
        """Endpoints, then Executors, as the summary lists them."""
        return [*(("endpoint", n) for n in self.summary.get("endpoints", {})),
                *(("executor", n) for n in self.summary.get("executors", {}) or {})]


@dataclass(frozen=True, kw_only=True)
class ScenarioRun:
    path: Path
    label: str
    sets: dict[str, list[SingleRun]]  # "job · k=v · NN-step" -> its repetitions


@dataclass(frozen=True, kw_only=True)
class CapacityRun:
    path: Path
    label: str
    data: dict[str, Any]


Loaded = Union[SingleRun, ScenarioRun, CapacityRun]


def kind_of(path: Path, role: str) -> str:
    """``run``, ``scenario`` or ``capacity``. :raises ConfigError: no such directory, or none
    of the three."""
    if not path.exists():
        raise ConfigError(f"{role} {path}: no such directory; give {WHAT}")
    if not path.is_dir():
        raise ConfigError(f"{role} {path}: not a directory; give {WHAT}")
    for name, kind in (("capacity.json", "capacity"), ("results.json", "scenario"), ("summary.json", "run")):
        if (path / name).is_file():
            return kind
    raise ConfigError(f"{role} {path}: not a results directory (no summary.json, results.json or capacity.json); "
                      f"give the --results-dir of a run")


def load(path: Path, role: str, *, job: str | None = None) -> Loaded:
    """The results in ``path`` (``role`` names it in errors: ``BASE``, ``NEW``); ``job``
    keeps only that job of a scenario."""
    path = Path(path)
    kind = kind_of(path, role)
    if kind == "capacity":
        data = read_json(path / "capacity.json")
        if "max_rate" not in data:
            raise ConfigError(f"{path / 'capacity.json'}: no max_rate; is it a loadgen capacity search?")
        return CapacityRun(path=path, label=_label(data, path), data=data)
    if kind == "scenario":
        return load_scenario(path, job=job)
    return load_run(path)


def read_json(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{file}: cannot read ({getattr(exc, 'strerror', None) or exc}); is the run complete?")
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: not a loadgen results file (expected a JSON object)")
    return data


def _label(summary: dict[str, Any], path: Path) -> str:
    run = summary.get("run") or {}
    return str(run.get("label") or run.get("started_at") or path.name)


def load_run(path: Path) -> SingleRun:
    """A single run's summary and its per-interval figures."""
    summary = read_json(path / "summary.json")
    if not isinstance(summary.get("endpoints"), dict):
        raise ConfigError(f"{path / 'summary.json'}: no endpoints; is it a loadgen summary.json?")
    for name in ("histograms.hlog", "timeseries.csv"):
        if not (path / name).is_file():
            raise ConfigError(f"{path}: no {name}; a comparison needs the run's intervals (loadgen writes it "
                              f"with summary.json)")
    return SingleRun(path=path, summary=summary, label=_label(summary, path), latency=read_latency(path),
                     rates=read_rates(path))


def _subject(request_type: str, name: str) -> Subject | None:
    if request_type == "executor":
        return ("executor", name)
    return None if request_type in BREAKDOWN_TYPES else ("endpoint", name)


def read_latency(path: Path) -> dict[Subject, LatencyIntervals]:
    """``histograms.hlog`` as one counts matrix per endpoint/Executor (request types merged)."""
    sparse: dict[Subject, dict[float, list]] = defaultdict(lambda: defaultdict(list))
    try:
        with open(path / "histograms.hlog", encoding="utf-8") as stream:
            for interval in read_hlog(stream):
                subject = _subject(*interval.tag.partition(":")[::2])
                if subject is not None:
                    sparse[subject][interval.start_s].append(interval.histogram.nonzero_buckets())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path / 'histograms.hlog'}: {exc}")
    return {subject: _matrix(list(rows.values())) for subject, rows in sparse.items()}


def _matrix(intervals: list[list[tuple[np.ndarray, np.ndarray]]]) -> LatencyIntervals:
    columns = np.unique(np.concatenate([idx for parts in intervals for idx, _ in parts]))
    counts = np.zeros((len(intervals), len(columns)))
    for row, parts in enumerate(intervals):
        for idx, values in parts:
            np.add.at(counts[row], np.searchsorted(columns, idx), values)
    return LatencyIntervals(counts=counts, values_us=bucket_values_us()[columns])


def read_rates(path: Path) -> dict[Subject, RateIntervals]:
    """``timeseries.csv`` per endpoint/Executor: an interval without a row had no requests."""
    cells: dict[Subject, dict[float, list[float]]] = defaultdict(dict)
    ends: set[float] = set()
    try:
        with open(path / "timeseries.csv", newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                end = float(row["elapsed_s"])
                ends.add(end)
                subject = _subject(row["request_type"], row["name"])
                if subject is not None:
                    _add_row(cells[subject], end, row)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path / 'timeseries.csv'}: not a loadgen time series ({exc})")
    order = np.array(sorted(ends))
    lengths = np.diff(order, prepend=0.0)
    return {subject: RateIntervals(elapsed_s=order, length_s=lengths,
                                   **{key: np.array([by_end.get(e, (0.0, 0.0, 0.0, 0.0))[i] for e in order])
                                      for i, key in enumerate(("requests", "failures", "p99_ms"))})
            for subject, by_end in cells.items()}


def _add_row(by_end: dict[float, list[float]], end: float, row: dict[str, str]) -> None:
    requests, failures = float(row["requests"]), float(row["failures"])
    seen = by_end.setdefault(end, [0.0, 0.0, 0.0, 0.0])  # requests, failures, p99 of the busiest type, its requests
    seen[0] += requests
    seen[1] += failures
    if requests >= seen[3]:
        seen[2], seen[3] = float(row["p99_ms"]), requests


def load_scenario(path: Path, *, job: str | None = None) -> ScenarioRun:
    """A scenario's load steps, grouped by job, sweep point and step (repetitions together)."""
    data = read_json(path / "results.json")
    sets: dict[str, list[SingleRun]] = {}
    for step in data.get("steps") or []:
        if job is not None and step.get("job") != job:
            continue
        status = str(step.get("status", ""))
        where = path.joinpath(*Path(str(step.get("results_dir", ""))).parts[-3:])
        if status.startswith(("failed", "interrupted")) or not (where / "summary.json").is_file():
            continue
        sets.setdefault(set_name(step), []).append(load_run(where))
    label = next((run.label for runs in sets.values() for run in runs if run.summary.get("run", {}).get("label")),
                 path.name)
    return ScenarioRun(path=path, label=label, sets=sets)


def set_name(step: dict[str, Any]) -> str:
    """``job · k=v, … · NN-step``: a load step of a scenario, repetitions aside."""
    params = ", ".join(f"{k}={v}" for k, v in (step.get("params") or {}).items())
    return " · ".join(p for p in (str(step.get("job", "")), params, str(step.get("step", ""))) if p)
