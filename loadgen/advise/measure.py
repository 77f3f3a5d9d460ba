"""Measure one topology: start the Flow with it, load it, read what held and who was slowest.

:class:`Measurer` is the ``measure`` function a strategy calls. For each topology it
writes the Flow YAML's copy with that topology (:mod:`loadgen.advise.flow_yaml`) into
``NN-<topology>/flow.yml``, starts it (:mod:`loadgen.flowctl`; Jina runs in the original's
directory), indexes ``preindex_docs`` documents, then runs either one capacity trial at the
target rate (:func:`loadgen.capacity.trial.run_trial`) or a capacity search
(:func:`loadgen.capacity.driver.find_capacity`), and stops the Flow. Every run keeps its
usual files in that directory, next to the Flow's log.

**Shares** (:func:`shares_of`): each Executor's time in the deciding trial's
``summary.json`` (``executors``: requests x mean ms, from the reply routes: the gateway
sending to the Executor until its reply, so queueing in front of a busy Executor counts),
as a share of all Executors' time. A search's deciding trial is its lowest-rate trial that
failed (the queue shows there), else its last; its figures (achieved rate, p99) are
those of the trial at its ``max_rate``, else the last.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from loadgen.advise.config import AdviseConfig
from loadgen.advise.cpu import CpuMeter, CpuUse
from loadgen.advise.flow_yaml import for_loadgen, write_yaml
from loadgen.advise.strategy import Measurement
from loadgen.advise.topology import Topology
from loadgen.capacity.config import CapacityConfig
from loadgen.capacity.driver import find_capacity
from loadgen.capacity.trial import Trial, run_trial
from loadgen.capacity.verdict import SATURATED
from loadgen.flowctl import FlowConfig, start_flow
from loadgen.slo import LATENCY_METRICS


class Measurer:
    """``measure(topology) -> Measurement`` for a strategy (see the module docstring);
    ``console`` shows lines and progress (:class:`loadgen.console.Console`)."""

    def __init__(self, config: AdviseConfig, *, console: Any):
        self.config, self.console = config, console
        self.count = 0
        self.best_rate: Optional[float] = None  # where the next search starts (--target-rate max)

    def __call__(self, topology: Topology) -> Measurement:
        self.count += 1
        config = self.config
        directory = config.results_dir / f"{self.count:02d}-{topology.slug()}"
        header = (f"{config.flow.path} with replicas/shards chosen by loadgen advise "
                  f"(port and protocol from loadgen's environment)")
        path = write_yaml(for_loadgen(config.flow, topology), directory / "flow.yml", header=header)
        flow = FlowConfig(flow=str(path), protocol=config.protocol, top_k=config.top_k,
                          startup_timeout_s=config.startup_timeout_s, workdir=str(config.flow.path.parent))
        self.console.line(f"topology {self.count}: {topology.label()} ({topology.processes} processes): "
                          f"starting the Flow")
        with start_flow(flow, log_dir=directory) as running:
            load = replace(config.capacity.load, argv=(*config.capacity.load.argv, "--host", running.target.url),
                           preindex_docs=config.preindex_docs)
            capacity = replace(config.capacity, load=load, results_dir=directory)
            meter = CpuMeter(running.proc.pid)
            measurement = self._search(capacity) if config.searches else self._trial(capacity)
            cpu = meter.stop()
        measurement = with_cpu(replace(measurement, dir=directory.name,
                                       report=f"{directory.name}/{measurement.report}"), cpu)
        self.console.line(f"topology {self.count}: {describe(measurement, config.target_rate)}")
        return measurement

    def _trial(self, capacity: CapacityConfig) -> Measurement:
        rate = self.config.target_rate
        directory = capacity.results_dir / f"trial-{rate:.4g}rps"
        label = f"  trial at {rate:.4g} req/s"
        try:
            trial = run_trial(capacity, rate, directory, preindex_docs=capacity.load.preindex_docs,
                              show=lambda now: self.console.progress(label, capacity.windows.run_time_s(), now))
        finally:
            self.console.end_progress()
        return Measurement(held=trial.held, verdict=trial.verdict, reason=trial.reason,
                           max_rate=rate if trial.held else None, achieved_rate=trial.achieved_rate,
                           p99_ms=gated_p99(trial, capacity), shares=shares_of(read_summary(directory)),
                           generator_saturated=trial.verdict == SATURATED, report=f"{directory.name}/report.html")

    def _search(self, capacity: CapacityConfig) -> Measurement:
        target = self.config.target_rate
        start = capacity.search.rate_start or target or self.best_rate
        capacity = replace(capacity, search=replace(capacity.search, rate_start=start))
        result = find_capacity(capacity, console=self.console)
        if result.limit == "interrupted":
            raise KeyboardInterrupt
        if result.max_rate is not None:
            self.best_rate = max(self.best_rate or 0.0, result.max_rate)
        best = result.best() or (result.trials[-1] if result.trials else None)
        failed = sorted((t for t in result.trials if not t.held), key=lambda t: t.offered_rate)
        deciding = failed[0] if failed else best
        held = result.max_rate is not None and (target is None or result.max_rate >= target)
        verdict = "held" if held else ("generator-saturated" if result.limit == "generator" else "violated")
        shares = shares_of(read_summary(capacity.results_dir / deciding.dir)) if deciding else {}
        return Measurement(held=held, verdict=verdict, reason=f"max {result.max_rate} req/s (limit: {result.limit})",
                           max_rate=result.max_rate, achieved_rate=best.achieved_rate if best else 0.0,
                           p99_ms=gated_p99(best, capacity) if best else None, shares=shares,
                           generator_saturated=result.limit == "generator", report="capacity.html")


def shares_of(summary: Optional[dict[str, Any]]) -> dict[str, float]:
    """Each Executor's share (0..1) of the time replies spent in Executors: requests x mean
    ms per Executor from ``summary.json``'s ``executors``; empty without a breakdown."""
    executors = (summary or {}).get("executors") or {}
    times = {name: e["count"] * e["latency_ms"]["mean"] for name, e in executors.items() if e.get("count")}
    total = sum(times.values())
    return {name: round(t / total, 4) for name, t in times.items()} if total > 0 else {}


def gated_p99(trial: Trial, capacity: CapacityConfig) -> Optional[float]:
    """The p99 (ms) a gate looks at: the first latency gate's endpoint (the total when the gate
    has none, or there is no latency gate)."""
    endpoint = next((s.endpoint for s in capacity.slos if s.metric in LATENCY_METRICS), None)
    figures = trial.endpoints.get(endpoint) if endpoint else trial.total
    latency = (figures or {}).get("latency_ms") or {}
    return latency.get("p99")


def read_summary(directory: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def with_cpu(measurement: Measurement, cpu: CpuUse) -> Measurement:
    return replace(measurement, cpu_busy=round(cpu.busy, 3), cores=cpu.cores,
                   flow_cpu_cores=None if cpu.flow_cores is None else round(cpu.flow_cores, 3))


def describe(m: Measurement, target_rate: Optional[float]) -> str:
    """``held at 30 req/s, p99 120 ms; bottleneck encoder 93 %; CPU 64 % busy`` (one line)."""
    what = (f"max {m.max_rate:.4g} req/s" if m.max_rate is not None else "no rate held") if target_rate is None \
        else f"{m.verdict} at {target_rate:.4g} req/s ({m.achieved_rate:.4g} achieved)"
    p99 = f", p99 {m.p99_ms:.4g} ms" if m.p99_ms is not None else ""
    neck = f"; bottleneck {m.bottleneck} {100 * m.shares[m.bottleneck]:.0f} %" if m.bottleneck else ""
    cpu = f"; CPU {100 * m.cpu_busy:.0f} % busy" if m.cpu_busy is not None else ""
    return what + p99 + neck + cpu
