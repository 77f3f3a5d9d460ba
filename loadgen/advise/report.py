"""The advice's results: ``advice.json``, the table of tried topologies, the recommendation.

``advice.json`` (rates in req/s, latencies in ms, shares 0..1)::

    {"target_rate": 30.0 | "max",
     "slo": ["/search:p99<400ms", ...],
     "chosen": {"topology": {"encoder": {"replicas": 2, "shards": 1}, ...},
                "processes": 3, "max_rate": 30.0} | null,
     "tried": [{"step", "topology", "processes", "runtimes", "change", "verdict", "held", "max_rate",
                "achieved_rate", "p99_ms", "bottleneck", "shares", "gain", "cpu_busy",
                "flow_cpu_cores", "cores", "reason", "dir", "report"}, ...],
     "stopped_because": "target-held: encoder 2, indexer 1 holds 30 req/s within the SLO"}

``chosen`` is null when no tried topology held (exit 3). ``max_rate`` is the highest rate
the topology was shown to hold: a capacity search's answer, or the target itself when one
trial at the target was the measurement. ``stopped_because`` starts with one of
:data:`loadgen.advise.strategy.STOPS`. ``gain`` is the step's improvement over the one
before (null for the first, for grid, and when it held where the one before did not).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from loadgen.advise.strategy import Outcome, Tried
from loadgen.advise.topology import ExecutorSpec, Topology
from loadgen.files import write_json_atomic


def advice_json(outcome: Outcome, *, target_rate: Optional[float], slos: list[str],
                specs: tuple[ExecutorSpec, ...]) -> dict[str, Any]:
    """The ``advice.json`` dict (see the module docstring)."""
    chosen = outcome.chosen
    return {"target_rate": "max" if target_rate is None else target_rate, "slo": list(slos),
            "chosen": None if chosen is None else {"topology": chosen.topology.as_dict(),
                                                   "processes": chosen.topology.processes,
                                                   "max_rate": chosen.measurement.max_rate},
            "tried": [tried_entry(i, t, specs) for i, t in enumerate(outcome.tried, start=1)],
            "stopped_because": outcome.stopped_because}


def tried_entry(step: int, tried: Tried, specs: tuple[ExecutorSpec, ...]) -> dict[str, Any]:
    m = tried.measurement
    return {"step": step, "topology": tried.topology.as_dict(), "processes": tried.topology.processes,
            "runtimes": tried.topology.runtimes(specs), "change": tried.change, "verdict": m.verdict,
            "held": m.held, "max_rate": m.max_rate, "achieved_rate": m.achieved_rate, "p99_ms": m.p99_ms,
            "bottleneck": m.bottleneck, "shares": m.shares,
            "gain": round(tried.gain, 4) if tried.gain is not None and math.isfinite(tried.gain) else None,
            "cpu_busy": m.cpu_busy, "flow_cpu_cores": m.flow_cpu_cores, "cores": m.cores, "reason": m.reason,
            "dir": m.dir, "report": m.report}


def write_json(directory: Path, data: dict[str, Any]) -> Path:
    return write_json_atomic(directory / "advice.json", data)


def table_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per tried topology of an ``advice.json`` dict: replicas (x shards) per
    Executor, processes, the outcome at the target (or the max rate), p99, bottleneck, gain, CPU."""
    rows = []
    for t in data["tried"]:
        topology = Topology.from_dict(t["topology"])
        row: dict[str, Any] = {"step": t["step"], **{name: topology.cell(name) for name in topology.names},
                               "processes": t["processes"], "change": t["change"]}
        if data["target_rate"] == "max":
            row["max req/s"] = t["max_rate"]
        else:
            row[f"at {data['target_rate']:g} req/s"] = t["verdict"]
            row["achieved req/s"] = t["achieved_rate"]
        neck = t["bottleneck"]
        row.update({"p99 ms": t["p99_ms"], "bottleneck": f"{neck} {100 * t['shares'][neck]:.0f}%" if neck else "",
                    "gain": _percent(t["gain"]), "cpu busy": _percent(t["cpu_busy"])})
        rows.append(row)
    return rows


def _percent(share: Optional[float]) -> str:
    return "" if share is None else f"{100 * share:.0f}%"


def answer(data: dict[str, Any]) -> str:
    """The one-line answer: the recommendation, or why there is none."""
    chosen = data["chosen"]
    if chosen is None:
        return f"no recommendation: no tried topology held the target  [{data['stopped_because']}]"
    topology = Topology.from_dict(chosen["topology"])
    rate = f"{chosen['max_rate']:.4g} req/s" if chosen["max_rate"] is not None else "?"
    what = "the highest capacity" if data["target_rate"] == "max" else f"the cheapest that holds {data['target_rate']:g} req/s"
    return (f"recommended: {topology.label()} ({chosen['processes']} processes, held {rate}): {what}  "
            f"[{data['stopped_because']}]")


def fragment(data: dict[str, Any]) -> str:
    """The chosen topology as a Flow YAML fragment to paste ('' without one)."""
    chosen = data["chosen"]
    return Topology.from_dict(chosen["topology"]).fragment() if chosen else ""
