"""`make bench`: client CPU per request and req/s -- loadgen vs jina.Client vs raw clients, per protocol.

    .venv/bin/python benchmarks/bench_clients.py [--users 10] [--duration 15] [--quick] [--rounds 1]
                                                 [--warmup 1] [--wait-quiet SECONDS]
                                                 [--protocols grpc,websocket,http]
                                                 [--skip-throughput] [--throughput-users 32]

For each protocol (gRPC, websocket, HTTP) in turn: starts the demo text Flow with that
gateway (``bench_flow.demo_flow``: pre-indexes 200 docs through loadgen's transport so every
search returns 10 matches), runs that protocol's clients of :func:`client_specs` in their
own subprocesses, one after the other (``--rounds`` times, interleaved), with the same
users, window and payload -- 10 text docs per request to /search with top_k 10 -- and stops
the Flow. Each helper measures its own window (see bench_window.py): wall seconds, process
CPU seconds (all threads) and completed requests. Then, per protocol, the generator
throughput (bench_throughput.py: one loadgen process at full speed against a zero-delay
fake gateway). Writes ``results/bench/bench.json`` and prints a table and the ratios
against the targets. A Flow is stopped when its protocol is
done, also on errors, Ctrl-C and SIGTERM.

Exit code: 0 when every client ran without failed requests (targets missed or met alike),
1 when a client failed requests or crashed, 2 on bad options.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import bench_throughput
from bench_flow import PAYLOAD, PREINDEX_DOCS, BenchError, demo_flow, run_helper, run_main
from loadgen.flowctl import FLOW_PROTOCOLS, FlowConfig, FlowProcess, flow_python
from loadgen.pools import endpoint_seed, request_specs
from machine_load import (BUSY_PCT, RunLoad, add_wait_quiet_option, loadgen_revision, machine_facts,
                          wait_quiet_if_asked)

ROOT = Path(__file__).resolve().parent.parent

BENCH_DIR = ROOT / "benchmarks"
RESULTS_DIR = ROOT / "results" / "bench"
# (ratio key, metric, subject rows, baseline client, comparison, target): each subject row's
# value / the baseline's value, the baseline named after the subject's protocol. No comparison:
# informational. A ratio is left out when its baseline did not run.
TARGETS = (
    ("cpu_per_req_vs_floor", "cpu_us_per_req", "loadgen-", "floor-{protocol}", "<=", 1.2),
    ("cpu_per_req_vs_jina_client", "cpu_us_per_req", "loadgen-", "jina-client-{protocol}", "<=", 0.25),
    ("rps_vs_jina_client", "rps", "loadgen-", "jina-client-{protocol}", ">=", 1.4),
    ("cpu_per_req_vs_gevent_floor", "cpu_us_per_req", "loadgen-", "floor-{protocol}-gevent", "<=", 1.15),
    # What loadgen's own work adds (its session, validation, metrics, self-check) over the
    # plainest Locust user doing the gevent floor's request ...
    ("cpu_per_req_vs_locust_floor", "cpu_us_per_req", "loadgen-", "floor-locust-{protocol}", None, None),
    # ... and what Locust itself adds (task scheduling, request event, stats) over the gevent floor.
    ("locust_floor_vs_gevent_floor", "cpu_us_per_req", "floor-locust-", "floor-{protocol}-gevent", None, None),
)


@dataclass(frozen=True)
class ClientSpec:
    """One row of the benchmark: a helper script run by ``python`` with extra ``args``.

    Every helper takes ``--host --users --duration --warmup`` and prints one JSON line
    (bench_window.py). Rows named ``loadgen-*`` are the product, compared with TARGETS.
    """

    name: str
    protocol: str
    python: str
    script: str
    args: tuple[str, ...] = ()


def client_specs(docs_file: Path) -> list[ClientSpec]:
    """The clients compared, in run order (grouped by protocol: one Flow per protocol)."""
    venv, flow_venv = sys.executable, str(flow_python(FlowConfig(flow="text")))
    jina = ("--docs", str(docs_file))

    def loadgen(name: str, protocol: str, *extra: str) -> ClientSpec:
        return ClientSpec(name, protocol, venv, "locust_client.py", ("--results-dir", str(RESULTS_DIR / name), *extra))

    return [
        loadgen("loadgen-grpc-unary", "grpc", "--grpc-mode", "unary"),
        loadgen("loadgen-grpc-stream", "grpc", "--grpc-mode", "stream"),
        ClientSpec("jina-client-grpc", "grpc", flow_venv, "jina_client.py", jina),
        ClientSpec("floor-grpc", "grpc", venv, "floor_grpc.py"),
        ClientSpec("floor-grpc-gevent", "grpc", venv, "floor_grpc_gevent.py"),
        ClientSpec("floor-locust-grpc", "grpc", venv, "floor_locust.py"),
        loadgen("loadgen-websocket", "websocket"),
        ClientSpec("jina-client-websocket", "websocket", flow_venv, "jina_client.py", jina),
        ClientSpec("floor-websocket", "websocket", venv, "floor_websocket.py"),
        ClientSpec("floor-websocket-gevent", "websocket", venv, "floor_websocket_gevent.py"),
        ClientSpec("floor-locust-websocket", "websocket", venv, "floor_locust.py"),
        loadgen("loadgen-http", "http"),
        ClientSpec("jina-client-http", "http", flow_venv, "jina_client.py", jina),
        ClientSpec("floor-http", "http", venv, "floor_http.py"),
        ClientSpec("floor-http-gevent", "http", venv, "floor_http_gevent.py"),
        ClientSpec("floor-locust-http", "http", venv, "floor_locust.py"),
    ]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="concurrent users/tasks per client (default 10)")
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per client run (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 s windows, for smoke testing")
    parser.add_argument("--rounds", type=int, default=1, help="run every client this many times, interleaved; "
                        "report the median (default 1)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of load before each window (default 1)")
    add_wait_quiet_option(parser, before="run")
    parser.add_argument("--protocols", default=",".join(FLOW_PROTOCOLS),
                        help=f"comma-separated protocols to run (default {','.join(FLOW_PROTOCOLS)})")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="leave out the generator-throughput runs (bench_throughput.py)")
    bench_throughput.add_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 5.0
    if min(args.users, args.rounds, args.throughput_users) < 1 or args.duration <= 0 or \
            min(args.warmup, args.wait_quiet, args.throughput_warmup) < 0:
        parser.error("--users, --rounds and --throughput-users must be >= 1, --duration > 0, "
                     "--warmup, --throughput-warmup and --wait-quiet >= 0")
    args.protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    unknown = sorted(set(args.protocols) - set(FLOW_PROTOCOLS))
    if unknown or not args.protocols:
        parser.error(f"--protocols: use some of {','.join(FLOW_PROTOCOLS)}, got {','.join(unknown) or 'none'}")
    return args


def write_search_docs(path: Path) -> None:
    """The docs of loadgen's /search pool (same seed as the Locust session and the floors)."""
    specs = request_specs(PAYLOAD, "/search", seed=endpoint_seed(PAYLOAD.seed, "/search"))
    batches = [[{"id": d.id, "text": d.text} for d in next(specs).docs] for _ in range(PAYLOAD.pool_size)]
    path.write_text(json.dumps(batches))


def run_client(spec: ClientSpec, host: str, args) -> dict:
    """Run one helper to completion; return its JSON result. :raises BenchError: on a crash."""
    cmd = [spec.python, str(BENCH_DIR / spec.script), "--host", host, "--users", str(args.users),
           "--duration", str(args.duration), "--warmup", str(args.warmup), *spec.args]
    proc = run_helper(cmd, cwd=ROOT, timeout_s=args.duration + args.warmup + 180, what=spec.name)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
        raise BenchError(f"{spec.name}: helper exited with code {proc.returncode}:\n{tail}")
    return json.loads(lines[-1])


def run_rounds(specs: list[ClientSpec], flow: FlowProcess, args) -> dict[str, list[dict]]:
    """Every client once per round, in spec order; the runs of each client by name."""
    runs: dict[str, list[dict]] = {spec.name: [] for spec in specs}
    for round_no in range(1, args.rounds + 1):
        for spec in specs:
            print(f"[round {round_no}/{args.rounds}] {spec.name}: {args.users} users, "
                  f"{args.warmup:g} s warm-up + {args.duration:g} s window ...", flush=True)
            wait_quiet_if_asked(flow.proc.pid, args.wait_quiet)
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
    return [{k: run[k] for k in keys} | run["machine"] for client_runs in runs.values() for run in client_runs]


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


def ratio(value_of: dict, baseline_of: dict, metric: str, baseline: str,
          op: Optional[str], target: Optional[float]) -> dict:
    """One ratio record: ``value`` (client / baseline), ``target`` and ``met`` (None: informational)."""
    num, den = value_of[metric], baseline_of[metric]
    value = num / den if num is not None and den else None
    met = None
    if op is not None:
        met = value is not None and (value <= target if op == "<=" else value >= target)
    return {"value": None if value is None else round(value, 3), "metric": metric, "baseline": baseline,
            "target": f"{op} {target}" if op else None, "met": met}


def ratios(clients: dict[str, dict]) -> dict:
    """Each ratio of TARGETS for each of its subject rows whose baseline ran."""
    out: dict[str, dict] = {}
    for key, metric, subject, baseline_name, op, target in TARGETS:
        for name, client in clients.items():
            baseline = baseline_name.format(protocol=client["protocol"])
            if name.startswith(subject) and baseline in clients:
                out.setdefault(key, {})[name] = ratio(client, clients[baseline], metric, baseline, op, target)
    return out


def run_config(args, ports: dict[str, int], revision: str) -> dict:
    """Run parameters and machine facts for bench.json's ``config``."""
    return {
        "users": args.users, "duration_s": args.duration, "warmup_s": args.warmup, "rounds": args.rounds,
        "wait_quiet_s": args.wait_quiet, "protocols": args.protocols,
        "throughput_users": None if args.skip_throughput else args.throughput_users,
        "aggregate": "rps and cpu_us_per_req: median over rounds; requests and failures: sums",
        "endpoint": "/search", "kind": PAYLOAD.kind, "request_size": PAYLOAD.request_size,
        "top_k": PAYLOAD.top_k, "preindexed_docs": PREINDEX_DOCS, "flow": "text", "flow_ports": ports,
        **machine_facts(str(flow_python(FlowConfig(flow="text"))), revision_at_start=revision),
    }


def render(report: dict) -> str:
    """The clients as a table, then each ratio with its target and verdict."""
    rows = [f"{'client':<22} {'protocol':<9} {'req/s':>8} {'CPU µs/req':>11} {'requests':>9} {'failures':>9}"]
    for name, c in report["clients"].items():
        cpu = f"{c['cpu_us_per_req']:.0f}" if c["cpu_us_per_req"] is not None else "n/a"
        rows.append(f"{name:<22} {c['protocol']:<9} {c['rps']:>8.1f} {cpu:>11} {c['requests']:>9} {c['failures']:>9}")
    rows.append("")
    for per_client in report["ratios"].values():
        for name, r in per_client.items():
            value = "n/a" if r["value"] is None else f"{r['value']:.3f}x"
            verdict = "informational" if r["met"] is None else f"(target {r['target']}x) " + (
                "met" if r["met"] else "MISSED")
            rows.append(f"{name} {r['metric']} / {r['baseline']}: {value} {verdict}")
    busiest = max(r["other_cpu_pct"] for r in report["config"]["runs"])
    if busiest > BUSY_PCT:
        rows.append(f"\nWARNING: other processes used up to {busiest:.0f}% of a core during a run: the machine "
                    f"was not quiet, req/s (and less so CPU/req) are contaminated; see config.runs")
    return "\n".join(rows)


def run(args) -> int:
    """For each protocol: start its Flow, run its clients, stop it; then write bench.json."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    docs_file = RESULTS_DIR / "search-docs.json"
    write_search_docs(docs_file)
    specs = [spec for spec in client_specs(docs_file) if spec.protocol in args.protocols]
    revision = loadgen_revision()
    runs: dict[str, list[dict]] = {}
    ports: dict[str, int] = {}
    for protocol in args.protocols:
        with demo_flow(protocol, log_dir=RESULTS_DIR / "flow") as flow:
            ports[protocol] = flow.port
            runs |= run_rounds([spec for spec in specs if spec.protocol == protocol], flow, args)
    throughput = {} if args.skip_throughput else bench_throughput.measure(args.protocols, args)
    clients = {spec.name: aggregate(spec, runs[spec.name]) for spec in specs}
    config = run_config(args, ports, revision) | {"runs": run_records(runs)}
    report = {"clients": clients, "ratios": ratios(clients), "generator_throughput": throughput, "config": config}
    (RESULTS_DIR / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    text = render(report) + ("\n\n" + bench_throughput.render(throughput) if throughput else "")
    print("\n" + text + f"\n\nwritten: {RESULTS_DIR / 'bench.json'}", flush=True)
    failures = [c["failures"] for c in clients.values()] + [t["failures"] for t in throughput.values()]
    return 1 if any(failures) else 0


def main() -> None:
    args = parse_args()
    run_main("bench", lambda: run(args))


if __name__ == "__main__":
    main()
