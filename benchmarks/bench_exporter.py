"""Cost of ``--prometheus-port`` and of ``--server-metrics`` per interval, with synthetic data.

    .venv/bin/python benchmarks/bench_exporter.py [--endpoints 2] [--executors 2] [--values 50000]

Times (``time.perf_counter``, wall seconds of this process, median of 50):

- ``update``: what the master/local hub does after each interval flush: the run's merged
  HDR histograms turned into Prometheus buckets (:meth:`loadgen.observe.exporter.Exporter.update`);
- ``render``: what the exporter's own thread does per scrape (the whole /metrics page);
- ``parse``: one scrape of a Jina runtime's page (tests/observe/data, a real Flow's output)
  parsed as the scrape thread does (:func:`loadgen.observe.scrape.parse`).

Prints and writes ``results/bench/exporter.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from loadgen.metrics import Metrics
from loadgen.observe.exporter import Exporter
from loadgen.observe.scrape import keeper, parse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "observe" / "data" / "jina_encoder.prom"


def synthetic_metrics(endpoints: int, executors: int, values: int, seed: int = 1) -> Metrics:
    rng, metrics = random.Random(seed), Metrics()
    for k in range(endpoints):
        entry = metrics.entry("grpc", f"/endpoint-{k}")
        for _ in range(values):
            entry.latency.record(rng.lognormvariate(-4.5, 0.8))
            entry.requests += 1
    for k in range(executors):
        for _ in range(values):
            metrics.add_time("executor", f"executor-{k}", rng.lognormvariate(-6, 0.5))
    return metrics


def median_ms(work, repeat: int = 50) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000.0, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=2)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--values", type=int, default=50_000)
    args = parser.parse_args()
    metrics = synthetic_metrics(args.endpoints, args.executors, args.values)
    exporter = Exporter()
    exporter.update(metrics, users=8)  # the first update computes the bucket layout once
    page = exporter.render()
    text, keep = SAMPLE.read_text(), keeper()
    out = {"endpoints": args.endpoints, "executors": args.executors, "values_per_histogram": args.values,
           "update_ms": median_ms(lambda: exporter.update(metrics, users=8)),
           "render_ms": median_ms(exporter.render), "page_bytes": len(page),
           "parse_jina_page_ms": median_ms(lambda: parse(text, keep=keep)), "jina_page_bytes": len(text)}
    print(json.dumps(out, indent=2))
    path = ROOT / "results" / "bench" / "exporter.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
