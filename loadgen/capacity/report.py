"""A capacity search's results: ``capacity.json``, the trials table and the final line.

``capacity.json`` (rates in req/s, latencies in ms)::

    {"max_rate": 150.0 | null,          # the highest offered rate that held (null: none held)
     "max_docs_per_s": 1200.0 | null,   # max_rate x the documents per request of that trial
     "limit": "slo" | "rate-max" | "generator" | "time" | "interrupted",
     "slo": ["/search:p99<200ms", ...],
     "trials": [{"offered_rate", "achieved_rate", "windows", "stable", "verdict", "reason",
                 "endpoints": {NAME: {"requests", "failures", "rps", "docs_per_s",
                                      "latency_ms": {"p50", "p90", "p95", "p99", "p999", "max", "mean"},
                                      "timed_requests"}},
                 "dir", "users", "docs_per_s", "total", "late_share", "duration_s"}, ...],
     "probe": {"rate", "users", "dir"} | null, "settings": {...}, "duration_s": float}

A trial's figures are those of its merged last windows (not its warm-up); ``dir`` is its
directory next to capacity.json, with the run's usual files. The table and the line are
what ``loadgen capacity`` prints (through :mod:`loadgen.console`); capacity.html is
:mod:`loadgen.capacity.page`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from loadgen.capacity.config import CapacityConfig
from loadgen.capacity.trial import Trial
from loadgen.files import write_json_atomic

LIMIT_NOTES = {
    "slo": "the SLO decided",
    "rate-max": "--rate-max held: the Flow may hold more",
    "generator": "the load generator saturated first: add --processes or --workers, the Flow may hold more",
    "time": "--max-time ran out before the search converged",
    "interrupted": "the search ended with the trials it had",
}


@dataclass(frozen=True, kw_only=True)
class CapacityResult:
    """How a search ended: ``max_rate`` (req/s, None when no rate held), ``limit``, every trial."""

    max_rate: Optional[float]
    limit: str
    trials: tuple[Trial, ...]
    probe: Optional[dict[str, Any]] = None
    duration_s: float = 0.0

    def best(self) -> Optional[Trial]:
        """The trial at ``max_rate`` (the last one held at that rate)."""
        held = [t for t in self.trials if t.held and t.offered_rate == self.max_rate]
        return held[-1] if held else None

    def max_docs_per_s(self) -> Optional[float]:
        best = self.best()
        if best is None or not best.achieved_rate:
            return None
        return round(self.max_rate * best.docs_per_s / best.achieved_rate, 3)


def as_json(result: CapacityResult, config: CapacityConfig) -> dict[str, Any]:
    """The ``capacity.json`` dict (see the module docstring)."""
    windows = config.windows
    settings = {**{k: v for k, v in asdict(config.search).items()}, "max_time_s": config.max_time_s,
                "trial_warmup_s": windows.warmup_s, "window_s": windows.window_s, "stability": windows.stability,
                "max_windows": windows.max_windows, "report_interval_s": windows.interval_s,
                "workers": config.load.workers, "users": config.load.users}
    return {"max_rate": result.max_rate, "max_docs_per_s": result.max_docs_per_s(), "limit": result.limit,
            "slo": [s.text for s in config.slos], "trials": [t.as_dict() for t in result.trials],
            "probe": result.probe, "settings": settings, "duration_s": round(result.duration_s, 3)}


def write_json(directory: Path, result: CapacityResult, config: CapacityConfig) -> Path:
    return write_json_atomic(directory / "capacity.json", as_json(result, config))


def table_rows(trials: list[dict[str, Any]], *, with_dir: bool = False) -> list[dict[str, Any]]:
    """One row per trial (``capacity.json`` trial dicts): offered, achieved, p50/p95/p99 per
    endpoint, failures, windows, verdict and reason (and its directory)."""
    rows = []
    for i, trial in enumerate(trials, start=1):
        row: dict[str, Any] = {"trial": i, "offered req/s": float(trial["offered_rate"]),
                               "achieved req/s": float(trial["achieved_rate"]), "users": trial.get("users")}
        for name, e in trial["endpoints"].items():
            row.update({f"{name} {p} ms": float(e["latency_ms"][p]) for p in ("p50", "p95", "p99")})
        row.update({"failures": (trial.get("total") or {}).get("failures"), "windows": trial["windows"],
                    "verdict": trial["verdict"], "reason": trial["reason"]})
        if with_dir:
            row["dir"] = trial["dir"]
        rows.append(row)
    return rows


def final_line(result: CapacityResult) -> str:
    """``max sustainable rate within SLO: X req/s (Y docs/s)``, or why there is none."""
    note = LIMIT_NOTES.get(result.limit, result.limit)
    if result.max_rate is None:
        return f"no tried rate holds the SLO  [limit: {result.limit}: {note}]"
    docs = result.max_docs_per_s()
    docs_text = f" ({docs:.4g} docs/s)" if docs is not None else ""
    return f"max sustainable rate within SLO: {result.max_rate:.4g} req/s{docs_text}  [limit: {result.limit}: {note}]"


def trial_line(index: int, trial: Trial) -> str:
    """The line printed when a trial ends."""
    p99 = "  ".join(f"{name} p99 {e['latency_ms']['p99']:.4g} ms" for name, e in trial.endpoints.items())
    return (f"trial {index}: {trial.offered_rate:.4g} req/s offered, {trial.achieved_rate:.4g} achieved, "
            f"{p99}, {trial.windows} windows: {trial.verdict}" + (f" ({trial.reason})" if trial.reason else ""))
