"""Cost of ``loadgen compare`` on long runs: reading the interval logs and the bootstraps.

    .venv/bin/python benchmarks/bench_compare.py [--intervals 300] [--per-interval 200] [--resamples 1000]

Writes two synthetic runs (``--intervals`` report intervals; two endpoints and two
Executors, each ``--per-interval`` requests per interval with latencies spread over four
decades, 0.1 ms to 1 s, so that the HdrHistogram holds thousands of distinct buckets and the
bootstrap's column cap applies) with loadgen's own writers, then times, in this process:
loading both (``histograms.hlog`` + ``timeseries.csv`` → counts matrices) and comparing them
(per side and endpoint/Executor one bootstrap of ``--resamples`` merged resamples, i.e.
resamples × intervals × buckets multiply-adds). Timers: wall (``time.perf_counter``) and CPU
of this process (``time.process_time``, all threads). Prints one line per stage.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from loadgen.compare.comparison import compare
from loadgen.compare.records import Settings
from loadgen.compare.runs import load
from loadgen.files import write_json_atomic
from loadgen.metrics import Metrics
from loadgen.reports.series import TimeSeriesWriter
from loadgen.reports.summary import summarize
from loadgen.results import Result


def write_run(path: Path, *, intervals: int, per: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    writer, total = TimeSeriesWriter(path, start_epoch=0.0), Metrics()
    for i in range(intervals):
        metrics = Metrics()
        for name in ("/search", "/index"):
            for latency in np.exp(rng.uniform(np.log(1e-4), np.log(1.0), size=per)):
                metrics.add(Result(endpoint=name, protocol="grpc", started_at=0.0, latency_s=float(latency),
                                   bytes_out=1, docs_sent=1))
        for name in ("encoder", "indexer"):
            for latency in np.exp(rng.uniform(np.log(1e-4), np.log(1.0), size=per)):
                metrics.add_time("executor", name, float(latency))
        writer.write_interval(metrics, start_epoch=float(i), end_epoch=float(i + 1))
        total.merge(metrics)
    writer.close()
    write_json_atomic(path / "summary.json", summarize(total, duration_s=float(intervals)))


def timed(label: str, work):
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    print(f"{label}: {time.perf_counter() - wall:.3f} s wall, {time.process_time() - cpu:.3f} s CPU", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, default=300)
    parser.add_argument("--per-interval", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, new = Path(tmp) / "base", Path(tmp) / "new"
        for path, seed in ((base, 1), (new, 2)):
            write_run(path, intervals=args.intervals, per=args.per_interval, seed=seed)
        runs = timed("load both runs", lambda: (load(base, "BASE"), load(new, "NEW")))
        columns = {s: m.counts.shape[1] for s, m in runs[0].latency.items()}
        print(f"{args.intervals} intervals; distinct buckets per endpoint/Executor: {columns}")
        settings = Settings(resamples=args.resamples)
        comparison = timed(f"compare ({len(columns) * 2} bootstraps of {args.resamples} resamples)",
                           lambda: compare(*runs, settings))
        print(f"{len(comparison.rows)} figures judged")


if __name__ == "__main__":
    main()
