"""Results directories made in the test, with latencies the test chooses: ``write_run``
writes a run's summary.json, timeseries.csv and histograms.hlog exactly as a Locust run does
(the same Metrics, TimeSeriesWriter and summarize); ``write_scenario`` lays runs out as a
scenario's results.json and step directories; ``write_capacity`` a capacity.json (the schema
of docs/capacity.md / ISSUE14 §1); ``side_by_side`` makes real Locust runs against fake
gateways, all at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from conftest import ROOT
from loadgen.errors import ConnectError
from loadgen.metrics import Metrics
from loadgen.reports.series import TimeSeriesWriter
from loadgen.reports.summary import summarize
from loadgen.results import Result


def write_run(path: Path, endpoints: Mapping[str, Sequence[np.ndarray]], *, failures: Mapping[str, Sequence[int]] | None = None,
              executors: Mapping[str, Sequence[np.ndarray]] | None = None, interval_s: float = 1.0,
              label: str | None = None) -> Path:
    """A run whose endpoint ``name`` had, in report interval ``i``, the latencies (seconds)
    ``endpoints[name][i]`` and ``failures[name][i]`` failed requests (and Executor ``name``
    the times ``executors[name][i]``)."""
    writer, total = TimeSeriesWriter(path, start_epoch=0.0), Metrics()
    intervals = len(next(iter(endpoints.values())))
    for i in range(intervals):
        metrics = Metrics()
        for name, per_interval in endpoints.items():
            for latency in per_interval[i]:
                metrics.add(Result(endpoint=name, protocol="grpc", started_at=0.0, latency_s=float(latency),
                                   bytes_out=1, docs_sent=1))
            for _ in range((failures or {}).get(name, [0] * intervals)[i]):
                metrics.add(Result(endpoint=name, protocol="grpc", started_at=0.0, latency_s=0.001, bytes_out=1,
                                   error=ConnectError("refused")))
        for name, per_interval in (executors or {}).items():
            for seconds in per_interval[i]:
                metrics.add_time("executor", name, float(seconds))
        writer.write_interval(metrics, start_epoch=i * interval_s, end_epoch=(i + 1) * interval_s)
        total.merge(metrics)
    writer.close()
    run = {"run": {"label": label, "started_at": "2026-01-01T00:00:00Z"}}
    summary = summarize(total, duration_s=intervals * interval_s, run=run)
    (path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return path


def lognormal_intervals(rng: np.random.Generator, *, intervals: int, per: int, median_ms: float,
                        sigma: float = 0.25) -> list[np.ndarray]:
    """``intervals`` × ``per`` latencies (s), lognormal around ``median_ms``."""
    return [median_ms / 1000.0 * rng.lognormal(0.0, sigma, size=per) for _ in range(intervals)]


def write_scenario(path: Path, runs: Mapping[tuple, Path]) -> Path:
    """A scenario directory: ``runs[(job, step, repetition)]`` (or ``(job, step, repetition,
    params)`` with ``params`` a tuple of ``(name, value)`` of a sweep point) is a run directory
    moved to ``path/job/POINT_repN/step`` (``point1`` or ``name=value``), listed in
    results.json as the runner writes it."""
    steps = []
    for (job, step, rep, *rest), source in runs.items():
        params = dict(rest[0]) if rest else {}
        point = "_".join(f"{k}={v}" for k, v in params.items()) or "point1"
        target = path / job / f"{point}_rep{rep}" / step
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
        steps.append({"job": job, "params": params, "repetition": rep, "step": step, "status": "ok",
                      "results_dir": f"/elsewhere/{job}/{point}_rep{rep}/{step}", "figures": {}, "executors": {}})
    (path / "results.json").write_text(json.dumps({"scenario": "s.yml", "table": [], "steps": steps}))
    return path


def write_capacity(path: Path, max_rate: float | None, trials: Sequence[tuple[float, str]]) -> Path:
    """A capacity search: ``trials`` as ``(offered_rate, verdict)``."""
    path.mkdir(parents=True, exist_ok=True)
    data = {"max_rate": max_rate, "max_docs_per_s": None if max_rate is None else max_rate * 8, "limit": "slo",
            "slo": ["/search:p99<200ms"],
            "trials": [{"offered_rate": rate, "achieved_rate": rate, "windows": 3, "stable": True, "verdict": verdict,
                        "reason": "", "endpoints": {}, "dir": f"trial{i}"} for i, (rate, verdict) in enumerate(trials)]}
    (path / "capacity.json").write_text(json.dumps(data))
    return path


LOCUST = str(Path(sys.executable).parent / "locust")


def _start(port, results_dir, label, seconds=6):
    args = [LOCUST, "-f", "locustfiles/text.py", "--host", f"grpc://127.0.0.1:{port}", "--headless", "-u", "4",
            "-r", "100", "-t", f"{seconds}s", "--request-size", "1", "--top-k", "1", "--report-interval", "0.5",
            "--results-dir", str(results_dir), "--run-label", label]
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def side_by_side(launch_fake_gateway, tmp_path, delays_ms, labels, seconds=6):
    """One run per delay, all at once, each against its own gateway; returns their directories."""
    procs = [(_start(launch_fake_gateway("--delay-ms", delay), tmp_path / label, label, seconds), tmp_path / label)
             for delay, label in zip(delays_ms, labels)]
    for proc, _ in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
    return [directory for _, directory in procs]
