"""`make bench`: client CPU per request and req/s -- loadgen vs jina.Client vs raw gRPC.

    .venv/bin/python benchmarks/bench_clients.py [--users 10] [--duration 15] [--quick] [--rounds 1]
                                                 [--warmup 1] [--wait-quiet SECONDS]

Starts the demo text Flow once (``loadgen.flowctl``), pre-indexes 200 docs through loadgen's
``GrpcTransport`` so every search returns 10 matches, then runs each client of
:func:`client_specs` in its own subprocess, one after the other (``--rounds`` times,
interleaved), with the same users, window and payload: 10 text docs per request to
/search with top_k 10. Each helper measures its own window (see bench_window.py): wall
seconds, process CPU seconds (all threads) and completed requests. Writes
``results/bench/bench.json`` and prints a table and the ratios against the targets.
The Flow is stopped at the end, also on errors, Ctrl-C and SIGTERM.

Exit code: 0 when every client ran without failed requests (targets missed or met alike),
1 when a client failed requests or crashed, 2 on bad options.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from loadgen.config import PayloadConfig, TargetConfig
from loadgen.encoding import encode
from loadgen.errors import ConfigError
from loadgen.flowctl import FlowConfig, FlowError, FlowProcess, flow_python, start_flow
from loadgen.pools import endpoint_seed, request_specs
from loadgen.protocols.grpc import GrpcTransport
from machine_load import RunLoad, wait_quiet

ROOT = Path(__file__).resolve().parent.parent

BENCH_DIR = ROOT / "benchmarks"
RESULTS_DIR = ROOT / "results" / "bench"
PAYLOAD = PayloadConfig(kind="text", request_size=10, top_k=10)  # pool_size 16, seed 0: loadgen's defaults
PREINDEX_DOCS = 200
LOADGEN = ("loadgen-grpc-unary", "loadgen-grpc-stream")
BUSY_PCT = 10.0  # warn when other processes used more than this % of a core during a run
# (ratio key, metric, baseline client, comparison, target): loadgen's value / baseline's value.
TARGETS = (
    ("cpu_per_req_vs_floor", "cpu_us_per_req", "floor-grpc", "<=", 1.2),
    ("cpu_per_req_vs_jina_client", "cpu_us_per_req", "jina-client-grpc", "<=", 0.25),
    ("rps_vs_jina_client", "rps", "jina-client-grpc", ">=", 1.4),
)


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and why."""


@dataclass(frozen=True)
class ClientSpec:
    """One row of the benchmark: a helper script run by ``python`` with extra ``args``.

    Every helper takes ``--host --users --duration --warmup`` and prints one JSON line
    (bench_window.py). Add websocket/http rows here with their own helpers.
    """

    name: str
    protocol: str
    python: str
    script: str
    args: tuple[str, ...] = ()


def client_specs(docs_file: Path) -> list[ClientSpec]:
    """The clients compared, in run order."""
    venv, flow_venv = sys.executable, str(flow_python(FlowConfig(flow="text")))
    return [
        ClientSpec("loadgen-grpc-unary", "grpc", venv, "locust_client.py", ("--grpc-mode", "unary")),
        ClientSpec("loadgen-grpc-stream", "grpc", venv, "locust_client.py", ("--grpc-mode", "stream")),
        ClientSpec("jina-client-grpc", "grpc", flow_venv, "jina_client.py", ("--docs", str(docs_file))),
        ClientSpec("floor-grpc", "grpc", venv, "floor_grpc.py"),
    ]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="concurrent users/tasks per client (default 10)")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per client run (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 s windows, for smoke testing")
    parser.add_argument("--rounds", type=int, default=1, help="run every client this many times, interleaved; "
                        "report the median (default 1)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each window (default 1)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help=f"before each run, wait up to SECONDS until other processes use <= {BUSY_PCT:g}%% "
                             "of a core (for shared machines; default 0: do not wait)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 5.0
    if args.users < 1 or args.rounds < 1 or args.duration <= 0 or args.warmup < 0 or args.wait_quiet < 0:
        parser.error("--users and --rounds must be >= 1, --duration > 0, --warmup and --wait-quiet >= 0")
    return args


def preindex(target: TargetConfig) -> None:
    """Index PREINDEX_DOCS docs, then check that one search returns top_k matches per doc."""
    specs = request_specs(PAYLOAD, "/index", seed=999_983)
    searches = request_specs(PAYLOAD, "/search", seed=999_983)
    with GrpcTransport(target) as transport:
        for _ in range(PREINDEX_DOCS // PAYLOAD.request_size):
            _check(transport.send(encode(next(specs))), "pre-indexing")
        _check(transport.send(encode(next(searches))), "the check search")


def _check(result, step: str) -> None:
    if result.error is not None:
        raise BenchError(f"{step} failed: {result.error.kind}: {result.error}")


def write_search_docs(path: Path) -> None:
    """The docs of loadgen's /search pool (same seed as the Locust session and the floor)."""
    specs = request_specs(PAYLOAD, "/search", seed=endpoint_seed(PAYLOAD.seed, "/search"))
    batches = [[{"id": d.id, "text": d.text} for d in next(specs).docs] for _ in range(PAYLOAD.pool_size)]
    path.write_text(json.dumps(batches))


def run_client(spec: ClientSpec, host: str, args) -> dict:
    """Run one helper to completion; return its JSON result. :raises BenchError: on a crash."""
    cmd = [spec.python, str(BENCH_DIR / spec.script), "--host", host, "--users", str(args.users),
           "--duration", str(args.duration), "--warmup", str(args.warmup), *spec.args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=args.duration + args.warmup + 180)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
        raise BenchError(f"{spec.name}: helper exited with code {proc.returncode} and no result:\n{tail}")
    return json.loads(lines[-1])


def run_rounds(specs: list[ClientSpec], flow: FlowProcess, args) -> dict[str, list[dict]]:
    """Every client once per round, in spec order; the runs of each client by name."""
    runs: dict[str, list[dict]] = {spec.name: [] for spec in specs}
    for round_no in range(1, args.rounds + 1):
        for spec in specs:
            print(f"[round {round_no}/{args.rounds}] {spec.name}: {args.users} users, "
                  f"{args.warmup:g} s warm-up + {args.duration:g} s window ...", flush=True)
            if args.wait_quiet > 0:
                waited, pct = wait_quiet(flow.proc.pid, max_pct=BUSY_PCT, timeout_s=args.wait_quiet)
                print(f"    waited {waited:.0f} s for a quiet machine (others: {pct:.0f}% of a core)", flush=True)
            with RunLoad(flow.proc.pid) as load:
                result = run_client(spec, flow.target.url, args)
            result.update(client=spec.name, round=round_no, machine=load.result())
            runs[spec.name].append(result)
            print_run(result)
    return runs


def print_run(result: dict) -> None:
    cpu, machine = result["cpu_us_per_req"], result["machine"]
    print(f"    {result['rps']:.1f} req/s, {cpu or 0:.0f} µs CPU/req, {result['requests']} requests, "
          f"{result['failures']} failures; CPU during the run (% of one core): Flow {machine['flow_cpu_pct']}, "
          f"client {machine['client_cpu_pct']}, others {machine['other_cpu_pct']}", flush=True)
    for message, count in result.get("errors", {}).items():
        print(f"    failure x{count}: {message}", flush=True)


def run_records(runs: dict[str, list[dict]]) -> list[dict]:
    """Every run's own figures, for bench.json's ``config.runs``."""
    keys = ("client", "round", "rps", "cpu_us_per_req", "requests", "failures", "window_s", "cpu_s")
    records = [{k: run[k] for k in keys} | run["machine"] for client_runs in runs.values() for run in client_runs]
    return sorted(records, key=lambda r: r["round"])


def aggregate(spec: ClientSpec, runs: list[dict]) -> dict:
    """Median rps and CPU µs/request over the rounds; requests and failures summed."""
    cpu = [r["cpu_us_per_req"] for r in runs if r["cpu_us_per_req"] is not None]
    return {
        "protocol": spec.protocol,
        "rps": round(statistics.median(r["rps"] for r in runs), 1),
        "cpu_us_per_req": round(statistics.median(cpu), 1) if cpu else None,
        "requests": sum(r["requests"] for r in runs),
        "failures": sum(r["failures"] for r in runs),
    }


def ratios(clients: dict[str, dict]) -> dict:
    """Each target of TARGETS for each loadgen client: value, target and met."""
    out = {}
    for key, metric, baseline, op, target in TARGETS:
        out[key] = {}
        for name in LOADGEN:
            num, den = clients[name][metric], clients[baseline][metric]
            value = num / den if num is not None and den else None
            met = value is not None and (value <= target if op == "<=" else value >= target)
            out[key][name] = {"value": None if value is None else round(value, 3), "metric": metric,
                              "baseline": baseline, "target": f"{op} {target}", "met": met}
    return out


def flow_versions(python: str) -> dict:
    """Versions of the flow virtualenv's packages (read from metadata; jina is not imported)."""
    code = ("import importlib.metadata as m, json, platform; print(json.dumps({'python': "
            "platform.python_version(), **{p: m.version(p) for p in ('jina', 'docarray', 'grpcio', 'protobuf')}}))")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr.strip()[-200:]}


def machine_config(args, port: int) -> dict:
    """Run parameters and machine facts for bench.json's ``config``."""
    return {
        "users": args.users, "duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.rounds,
        "wait_quiet_s": args.wait_quiet,
        "aggregate": "rps and cpu_us_per_req: median over rounds; requests and failures: sums",
        "endpoint": "/search", "kind": PAYLOAD.kind, "request_size": PAYLOAD.request_size,
        "top_k": PAYLOAD.top_k, "preindexed_docs": PREINDEX_DOCS, "flow": "text", "flow_port": port,
        "nproc": os.cpu_count(), "machine": platform.machine(), "cpu_model": _cpu_model(),
        "loadgen_revision": loadgen_revision(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_end": os.getloadavg(),
        "client_venv": {"python": platform.python_version(),
                        **{p: metadata.version(p) for p in ("locust", "grpcio", "gevent", "protobuf")}},
        "flow_venv": flow_versions(str(flow_python(FlowConfig(flow="text")))),
    }


def loadgen_revision() -> str:
    """The checkout's commit, with ``+dirty`` when loadgen/ or locustfiles/ have uncommitted changes."""
    def git(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "loadgen", "locustfiles") else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def render(report: dict) -> str:
    """The clients as a table, then each ratio with its target and verdict."""
    rows = [f"{'client':<22} {'protocol':<8} {'req/s':>8} {'CPU µs/req':>11} {'requests':>9} {'failures':>9}"]
    for name, c in report["clients"].items():
        cpu = f"{c['cpu_us_per_req']:.0f}" if c["cpu_us_per_req"] is not None else "n/a"
        rows.append(f"{name:<22} {c['protocol']:<8} {c['rps']:>8.1f} {cpu:>11} {c['requests']:>9} {c['failures']:>9}")
    rows.append("")
    for key, per_client in report["ratios"].items():
        for name, r in per_client.items():
            value = "n/a" if r["value"] is None else f"{r['value']:.3f}x"
            verdict = "met" if r["met"] else "MISSED"
            rows.append(f"{name} {r['metric']} / {r['baseline']}: {value} (target {r['target']}x) {verdict}")
    busiest = max(r["other_cpu_pct"] for r in report["config"]["runs"])
    if busiest > BUSY_PCT:
        rows.append(f"\nWARNING: other processes used up to {busiest:.0f}% of a core during a run: the machine "
                    f"was not quiet, req/s (and less so CPU/req) are contaminated; see config.runs")
    return "\n".join(rows)


def run(args) -> int:
    """Start the Flow, run every client, write bench.json; always stop the Flow."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    docs_file = RESULTS_DIR / "search-docs.json"
    write_search_docs(docs_file)
    specs = client_specs(docs_file)
    print("starting the demo text Flow ...", flush=True)
    flow = start_flow(FlowConfig(flow="text", top_k=PAYLOAD.top_k), log_dir=RESULTS_DIR / "flow")
    try:
        print(f"Flow ready at {flow.target.url}; pre-indexing {PREINDEX_DOCS} docs ...", flush=True)
        preindex(flow.target)
        runs = run_rounds(specs, flow, args)
        config = machine_config(args, flow.port) | {"runs": run_records(runs)}
    finally:
        print("stopping the Flow ...", flush=True)
        flow.stop()
    clients = {spec.name: aggregate(spec, runs[spec.name]) for spec in specs}
    report = {"clients": clients, "ratios": ratios(clients), "config": config}
    (RESULTS_DIR / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n" + render(report) + f"\n\nwritten: {RESULTS_DIR / 'bench.json'}", flush=True)
    return 1 if any(c["failures"] for c in clients.values()) else 0


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop the Flow
    try:
        sys.exit(run(args))
    except (BenchError, ConfigError, FlowError) as exc:
        sys.exit(f"bench: error: {exc}")
    except KeyboardInterrupt:
        sys.exit("bench: interrupted")


if __name__ == "__main__":
    main()
