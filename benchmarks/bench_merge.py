"""Master-side cost of merging workers' HDR reports, with synthetic worker reports.

    .venv/bin/python benchmarks/bench_merge.py [--workers 8] [--keys 6] [--rps 1000] [--periods 20]

Each Locust worker ships its metrics every 3 s (``locust.runners.WORKER_REPORT_INTERVAL``).
This builds one realistic report per worker (``--keys`` request types x names, ``--rps``
requests per second per worker over one period, lognormal latencies), msgpack round-trips
it as Locust does, then times on the master, per period: decode + merge of every worker's
report, plus the once-per-interval flush (percentiles for the time series). The timer
(``time.process_time``, CPU seconds of this process) covers only that master work.
Prints and writes ``results/bench/merge.json``: CPU % of one core = CPU per period / period.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import msgpack

from loadgen.metrics import Metrics
from loadgen.results import Result

REPORT_INTERVAL_S = 3.0  # locust.runners.WORKER_REPORT_INTERVAL


def worker_report(keys: int, requests: int, seed: int) -> bytes:
    """One worker's report for one period, msgpack-encoded like Locust's messages."""
    rng, metrics = random.Random(seed), Metrics()
    names = [f"/endpoint-{k}" for k in range(keys)]
    for _ in range(requests):
        metrics.add(Result(endpoint=rng.choice(names), protocol="grpc", started_at=0.0,
                           latency_s=rng.lognormvariate(-4.5, 0.8), bytes_out=1000, bytes_in=100, docs_sent=8))
    return msgpack.packb({"loadgen_metrics": metrics.encode()})


def master_period(reports: list[bytes], total: Metrics) -> float:
    """CPU seconds the master spends on one period: merge every report, then one flush."""
    started = time.process_time()
    current = Metrics()
    for blob in reports:
        current.merge(Metrics.decode(msgpack.unpackb(blob)["loadgen_metrics"]))
    for stats in current.entries.values():  # what a time-series flush computes
        stats.latency.percentiles_ms([50, 95, 99])
    total.merge(current)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--keys", type=int, default=6)
    parser.add_argument("--rps", type=int, default=1000, help="requests per second per worker")
    parser.add_argument("--periods", type=int, default=20)
    args = parser.parse_args()
    reports = [worker_report(args.keys, int(args.rps * REPORT_INTERVAL_S), seed) for seed in range(args.workers)]
    total = Metrics()
    cpu = sorted(master_period(reports, total) for _ in range(args.periods))
    median = cpu[len(cpu) // 2]
    result = {"workers": args.workers, "keys": args.keys, "rps_per_worker": args.rps,
              "report_bytes": sum(map(len, reports)) // len(reports), "cpu_ms_per_period_median": round(median * 1e3, 3),
              "cpu_pct_of_core": round(100 * median / REPORT_INTERVAL_S, 3), "target_pct": 5.0}
    result["met"] = result["cpu_pct_of_core"] < result["target_pct"]
    Path("results/bench").mkdir(parents=True, exist_ok=True)
    Path("results/bench/merge.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
