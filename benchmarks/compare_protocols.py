"""`make compare-protocols`: the same loadgen search load over gRPC, websocket and HTTP, per request size.

    .venv/bin/python benchmarks/compare_protocols.py [--scenario scenarios/transport-comparison.yml]
                                                     [--wait-quiet SECONDS]

Reads the scenario file (:func:`load_scenario`), then for each protocol in turn starts one
demo Flow with that gateway (``bench_flow.demo_flow``: ``preindex_docs`` documents indexed
through loadgen's transport, one search checked), and for each request size runs the product
exactly as a user would -- the ``locust`` CLI, headless, on ``locustfiles/<kind>.py`` with
``--task-mix search:1 --request-size N --top-k K --preindex-docs 0`` and ``--results-dir``
``results/compare/<protocol>-<N>/`` -- and reads that run's ``summary.json``. Prints ONE
table, protocol x request size -> req/s, docs/s, p50 ms, p99 ms, and writes
``results/compare/compare.json``.

What each figure covers (loadgen's ``summary.json``, see docs/results.md): ``req/s`` =
requests / ``duration_s`` (Locust's ``test_start`` to ``test_stop``: the whole ``-t`` run,
users' spawning and connection set-up included), ``docs/s`` = documents of successful
requests per second, ``p50``/``p99`` = HdrHistogram percentiles of the successful requests'
latency in ms (the transport's timed span: pre-encoded bytes handed to the protocol library
until the complete reply is back).

Exit code: 0 when every point ran without failed requests, 1 when a request failed or a run
crashed, 2 for a bad option or scenario file.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import MISSING, asdict, dataclass
from pathlib import Path

import yaml

from bench_flow import BenchError, demo_flow, run_helper, run_main
from loadgen.config import GRPC_MODES, KINDS, PayloadConfig
from loadgen.errors import ConfigError
from loadgen.flowctl import FLOW_PROTOCOLS, FlowConfig, FlowProcess, flow_python
from machine_load import (BUSY_PCT, RunLoad, add_wait_quiet_option, loadgen_revision, machine_facts,
                          wait_quiet_if_asked)

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "transport-comparison.yml"
RESULTS_DIR = ROOT / "results" / "compare"
ENDPOINTS = ("/search", "/index")
CHOICES = {"protocols": FLOW_PROTOCOLS, "endpoint": ENDPOINTS, "kind": KINDS, "grpc_mode": GRPC_MODES}
LISTS = ("protocols", "request_sizes")  # the other keys hold one value; numbers are whole, >= 1
SPAWN_RATE = 100  # users per second: 10 users are all running within 0.1 s of the start
LOCUST_GRACE_S = 120  # start-up and teardown allowed on top of a point's duration


@dataclass(frozen=True)
class Scenario:
    """The comparison's parameters, one field per key of the scenario file."""

    protocols: tuple[str, ...]
    request_sizes: tuple[int, ...]
    users: int
    duration_s: int
    endpoint: str
    top_k: int
    kind: str
    preindex_docs: int = 200
    grpc_mode: str = "unary"


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file (YAML, ``yaml.safe_load``).

    :raises ConfigError: naming the file and the key, for an unreadable file, a missing or
        unknown key, or a bad value.
    """
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the scenario: {exc}")
    fields = Scenario.__dataclass_fields__
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with the keys {', '.join(fields)}")
    unknown = sorted(set(data) - set(fields))
    missing = [key for key, field in fields.items() if key not in data and field.default is MISSING]
    problems = [f"{what} {', '.join(keys)}" for what, keys in (("unknown key(s)", unknown), ("missing key(s)", missing)) if keys]
    if problems:
        raise ConfigError(f"{path}: {'; '.join(problems)} (the keys are {', '.join(fields)})")
    return Scenario(**{key: _checked(path, key, value) for key, value in data.items()})


def _checked(path: Path, key: str, value):
    """``value`` of ``key`` as :class:`Scenario` wants it. :raises ConfigError: naming file and key."""
    items = value if key in LISTS else [value]
    if not isinstance(items, list) or not items or len(set(map(repr, items))) < len(items) \
            or not all(_valid(key, item) for item in items):
        want = f"one of {', '.join(CHOICES[key])}" if key in CHOICES else "a whole number >= 1"
        prefix = "a non-empty list without repeats, each " if key in LISTS else ""
        raise ConfigError(f"{path}: key {key!r}: expected {prefix}{want}; got {value!r}")
    return tuple(items) if key in LISTS else value


def _valid(key: str, item) -> bool:
    return item in CHOICES[key] if key in CHOICES else type(item) is int and item >= 1


def locust_command(scenario: Scenario, size: int | str, host: str, results_dir: Path) -> list[str]:
    """The headless ``locust`` run of one point: ``size`` docs per request to ``host``."""
    return [
        sys.executable, "-m", "locust", "-f", str(ROOT / "locustfiles" / f"{scenario.kind}.py"), "--headless",
        "-u", str(scenario.users), "-r", str(SPAWN_RATE), "-t", f"{scenario.duration_s}s", "-H", host,
        "--task-mix", f"{scenario.endpoint.lstrip('/')}:1", "--request-size", str(size),
        "--top-k", str(scenario.top_k), "--grpc-mode", scenario.grpc_mode, "--preindex-docs", "0",
        "--results-dir", str(results_dir), "--overwrite", "--only-summary", "--loglevel", "WARNING",
    ]


def run_point(scenario: Scenario, size: int, flow: FlowProcess, args) -> dict:
    """One (protocol, request size) point: the locust run, its summary.json and the machine's load.

    :raises BenchError: when the run crashed or wrote no summary.json.
    """
    protocol, results_dir = flow.config.protocol, RESULTS_DIR / f"{flow.config.protocol}-{size}"
    summary_path = results_dir / "summary.json"
    summary_path.unlink(missing_ok=True)
    wait_quiet_if_asked(flow.proc.pid, args.wait_quiet)
    with RunLoad(flow.proc.pid) as load:
        proc = run_helper(locust_command(scenario, size, flow.target.url, results_dir), cwd=ROOT,
                          timeout_s=scenario.duration_s + LOCUST_GRACE_S, what=f"{protocol}, request size {size}")
    if proc.returncode not in (0, 1) or not summary_path.exists():  # Locust exits 1 when a request failed
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
        raise BenchError(f"{protocol}, request size {size}: locust exited with code {proc.returncode}:\n{tail}")
    summary = json.loads(summary_path.read_text())
    return point_record(protocol, size, summary, scenario.endpoint) | {
        "results_dir": str(results_dir.relative_to(ROOT)), "machine": load.result()}


def point_record(protocol: str, size: int, summary: dict, endpoint: str) -> dict:
    """The table's figures of one point, from loadgen's summary.json (units in the module docstring)."""
    stats = summary["endpoints"].get(endpoint) or summary["total"]
    latency = stats["latency_ms"]
    return {"protocol": protocol, "request_size": size, "rps": stats["rps"], "docs_per_s": stats["docs_per_s"],
            "p50_ms": latency["p50"], "p99_ms": latency["p99"], "requests": stats["requests"],
            "failures": stats["failures"], "failures_by_class": stats["failures_by_class"],
            "duration_s": summary["duration_s"]}


def run_protocol(scenario: Scenario, protocol: str, args) -> tuple[list[dict], int]:
    """Start ``protocol``'s Flow, run every request size against it, stop it; (points, Flow port)."""
    payload = PayloadConfig(kind=scenario.kind, request_size=10, top_k=scenario.top_k)
    points = []
    with demo_flow(protocol, log_dir=RESULTS_DIR / "flow", payload=payload, docs=scenario.preindex_docs) as flow:
        for size in scenario.request_sizes:
            print(f"{protocol}, {size} docs/request: {scenario.users} users, {scenario.duration_s} s ...", flush=True)
            points.append(run_point(scenario, size, flow, args))
            print_point(points[-1])
    return points, flow.port


def print_point(point: dict) -> None:
    machine = point["machine"]
    print(f"    {point['rps']:.1f} req/s, {point['docs_per_s']:.0f} docs/s, p50 {point['p50_ms']:.1f} ms, "
          f"p99 {point['p99_ms']:.1f} ms, {point['failures']} failures {point['failures_by_class'] or ''}; "
          f"CPU (% of one core): Flow {machine['flow_cpu_pct']}, locust {machine['client_cpu_pct']}, "
          f"others {machine['other_cpu_pct']}", flush=True)


def render(points: list[dict]) -> str:
    """ONE table: a row per protocol and request size."""
    rows = [f"{'protocol':<10} {'docs/req':>8} {'req/s':>8} {'docs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failures':>9}"]
    for p in points:
        rows.append(f"{p['protocol']:<10} {p['request_size']:>8} {p['rps']:>8.1f} {p['docs_per_s']:>8.0f} "
                    f"{p['p50_ms']:>8.1f} {p['p99_ms']:>8.1f} {p['failures']:>9}")
    busiest = max(p["machine"]["other_cpu_pct"] for p in points)
    if busiest > BUSY_PCT:
        rows.append(f"\nWARNING: other processes used up to {busiest:.0f}% of a core during a point: the "
                    f"machine was not quiet; see machine.other_cpu_pct in compare.json")
    return "\n".join(rows)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help=f"scenario file (default {SCENARIO.relative_to(ROOT)})")
    add_wait_quiet_option(parser, before="point")
    args = parser.parse_args(argv)
    if args.wait_quiet < 0:
        parser.error("--wait-quiet must be >= 0")
    return args


def run(args) -> int:
    """Every protocol's points, then the table and compare.json."""
    scenario, revision = load_scenario(args.scenario), loadgen_revision()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    points, ports = [], {}
    for protocol in scenario.protocols:
        protocol_points, ports[protocol] = run_protocol(scenario, protocol, args)
        points += protocol_points
    config = {"scenario_file": str(args.scenario), "wait_quiet_s": args.wait_quiet, "spawn_rate": SPAWN_RATE,
              "flow_ports": ports, "command": " ".join(locust_command(scenario, "N", "URL", Path("DIR"))),
              **machine_facts(str(flow_python(FlowConfig(flow=scenario.kind))), revision_at_start=revision)}
    report = {"points": points, "scenario": asdict(scenario), "config": config}
    (RESULTS_DIR / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + render(points) + f"\n\nwritten: {RESULTS_DIR / 'compare.json'}", flush=True)
    return 1 if any(p["failures"] for p in points) else 0


def main() -> None:
    args = parse_args()
    run_main("compare-protocols", lambda: run(args))


if __name__ == "__main__":
    main()
