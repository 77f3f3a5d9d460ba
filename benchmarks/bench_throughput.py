"""Generator throughput: the highest request rate ONE loadgen process sustains, per protocol.

    .venv/bin/python benchmarks/bench_throughput.py [--users 32] [--duration 15] [--warmup 2]
                                                    [--rounds 1] [--wait-quiet SECONDS]
                                                    [--protocols grpc,websocket,http]

(also part of ``make bench``: ``bench.json`` key ``generator_throughput``; see docs/performance.md).

For each protocol: starts ``tests/fakegateway.py --delay-ms 0 --canned`` on 127.0.0.1 -- a
zero-delay echo that answers like a Jina gateway of that protocol (gRPC ``process_single_data``,
websocket binary frames, HTTP JSON) with 10 docs of 10 matches and a gateway route, each kind
of reply built once so that the fake gateway costs little CPU -- and runs loadgen's product
path against it (``benchmarks/locust_client.py``: ``locustfiles/text.py`` under Locust, full
reply validation, HDR metrics, breakdown, Locust events, time series), closed loop, ``--users``
users with one request in flight each and no wait: as many requests as the process can send.

Timer (bench_window.py): the client's window gives req/s and its CPU (all threads) per
request; ``client_cpu_pct`` is that CPU over the window as % of one core. Around the run,
``machine_load.RunLoad`` gives the gateway's and other processes' CPU. The figures:

- ``rps``: replies per second one process achieved (the generator throughput when the
  client was the limit, ``limited_by == "client"``: its CPU >= 90% of a core);
- ``rps_per_core``: ``rps`` scaled to a fully busy core (``rps * 100 / client_cpu_pct``),
  the estimate when something else (the gateway, other processes) limited the run;
- ``processes_for``: how many such processes a target rate needs,
  ``ceil(target / min(rps_per_core, rps if the client was the limit))``.
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

from bench_flow import BenchError, run_helper, run_main
from loadgen.ports import free_port
from machine_load import BUSY_PCT, RunLoad, add_wait_quiet_option, wait_quiet_if_asked

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "results" / "bench"
PROTOCOLS = ("grpc", "websocket", "http")
SCHEMES = {"grpc": "grpc", "websocket": "ws", "http": "http"}
TARGET_RATES = (1000, 5000, 10000, 50000)  # req/s for processes_for
SATURATED_PCT = 90.0  # a client above this % of a core was the limit


class FakeGateway:
    """``with FakeGateway(protocol, log) as gw:`` -- tests/fakegateway.py, zero delay, canned replies,
    in a process group of its own (for RunLoad), killed on leaving the block."""

    def __init__(self, protocol: str, log: Path):
        self.protocol, self.log, self.port = protocol, log, free_port()

    def __enter__(self) -> "FakeGateway":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fakegateway.py"), "--port", str(self.port), "--delay-ms", "0",
             "--canned", "--protocol", self.protocol],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True, start_new_session=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            raise BenchError(f"the fake {self.protocol} gateway did not start; see {self.log}")
        return self

    @property
    def url(self) -> str:
        return f"{SCHEMES[self.protocol]}://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self._log.close()


def run_client(url: str, protocol: str, args) -> dict:
    """One closed-loop run of the product path at full speed; its window's JSON result."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "locust_client.py"), "--host", url,
           "--users", str(args.throughput_users), "--duration", str(args.duration), "--warmup",
           str(args.throughput_warmup), "--results-dir", str(RESULTS_DIR / f"throughput-{protocol}"),
           "--skip-host-check"]  # the fake gateway cannot say what it serves over websocket
    proc = run_helper(cmd, cwd=ROOT, timeout_s=args.duration + args.throughput_warmup + 180,
                      what=f"throughput {protocol}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-25:])
        raise BenchError(f"throughput {protocol}: helper exited with code {proc.returncode}:\n{tail}")
    return json.loads(lines[-1])


def one_run(protocol: str, round_no: int, args) -> dict:
    """Gateway up, (wait for a quiet machine), one client run with machine accounting."""
    with FakeGateway(protocol, RESULTS_DIR / "throughput-gateway" / f"{protocol}.log") as gateway:
        print(f"[throughput {protocol}, round {round_no}/{args.rounds}] {args.throughput_users} users, "
              f"zero-delay fake gateway, {args.throughput_warmup:g} s warm-up + {args.duration:g} s window ...",
              flush=True)
        wait_quiet_if_asked(gateway.proc.pid, args.wait_quiet)
        with RunLoad(gateway.proc.pid) as load:
            result = run_client(gateway.url, protocol, args)
    machine = load.result()
    client_pct = 100.0 * result["cpu_s"] / result["window_s"] if result["window_s"] else 0.0
    run = {"round": round_no, "rps": round(result["rps"], 1), "cpu_us_per_req": round(result["cpu_us_per_req"], 1),
           "client_cpu_pct": round(client_pct, 1), "gateway_cpu_pct": machine["flow_cpu_pct"],
           "other_cpu_pct": machine["other_cpu_pct"], "requests": result["requests"],
           "failures": result["failures"]}
    print(f"    {run['rps']:.0f} req/s, {run['cpu_us_per_req']:.0f} µs CPU/req, client {run['client_cpu_pct']:.0f}% "
          f"of a core (window), gateway {run['gateway_cpu_pct']}%, others {run['other_cpu_pct']}% (whole run), "
          f"{run['failures']} failures", flush=True)
    return run


def summarize(runs: list[dict], users: int) -> dict:
    """The median run (by req/s) of a protocol, with its projection and process counts."""
    run = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
    per_core = run["rps"] * 100.0 / run["client_cpu_pct"] if run["client_cpu_pct"] else 0.0
    saturated = run["client_cpu_pct"] >= SATURATED_PCT
    if saturated:
        limited_by = "client"
    elif run["gateway_cpu_pct"] >= SATURATED_PCT:
        limited_by = "gateway"
    else:
        limited_by = "machine" if run["other_cpu_pct"] > BUSY_PCT else "unknown"
    capacity = min(per_core, run["rps"]) if saturated else per_core
    return {
        **{k: v for k, v in run.items() if k != "round"}, "users": users,
        "rps_per_core": round(per_core, 1), "limited_by": limited_by,
        "requests": sum(r["requests"] for r in runs), "failures": sum(r["failures"] for r in runs),
        "rounds_rps": [r["rps"] for r in runs],
        "processes_for": {str(rate): math.ceil(rate / capacity) if capacity else None for rate in TARGET_RATES},
    }


def measure(protocols, args) -> dict[str, dict]:
    """``generator_throughput`` of bench.json: per protocol, rounds interleaved."""
    runs: dict[str, list[dict]] = {p: [] for p in protocols}
    for round_no in range(1, args.rounds + 1):
        for protocol in protocols:
            runs[protocol].append(one_run(protocol, round_no, args))
    return {p: summarize(runs[p], args.throughput_users) | {"runs": runs[p]} for p in protocols}


def render(throughput: dict[str, dict]) -> str:
    rows = [f"{'throughput':<11} {'req/s':>8} {'client CPU':>11} {'µs/req':>7} {'req/s per core':>15} "
            f"{'gateway CPU':>12} {'others':>7} {'limited by':>11}  processes for 1k/5k/10k/50k req/s"]
    for protocol, t in throughput.items():
        counts = "/".join(str(n) for n in t["processes_for"].values())
        rows.append(f"{protocol:<11} {t['rps']:>8.0f} {t['client_cpu_pct']:>10.0f}% {t['cpu_us_per_req']:>7.0f} "
                    f"{t['rps_per_core']:>15.0f} {t['gateway_cpu_pct']:>11.0f}% {t['other_cpu_pct']:>6.0f}% "
                    f"{t['limited_by']:>11}  {counts}")
    return "\n".join(rows)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The throughput options (shared with bench_clients.py)."""
    parser.add_argument("--throughput-users", type=int, default=32,
                        help="users of the generator-throughput runs (default 32)")
    parser.add_argument("--throughput-warmup", type=float, default=2.0,
                        help="seconds of load before each throughput window (default 2)")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per protocol, interleaved; the median is "
                        "reported (default 1)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    add_options(parser)
    add_wait_quiet_option(parser, before="run")
    args = parser.parse_args(argv)
    args.protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    if set(args.protocols) - set(PROTOCOLS) or not args.protocols:
        parser.error(f"--protocols: use some of {','.join(PROTOCOLS)}")
    if args.throughput_users < 1 or args.rounds < 1 or args.duration <= 0 or args.throughput_warmup < 0:
        parser.error("--throughput-users and --rounds must be >= 1, --duration > 0, --throughput-warmup >= 0")
    return args


def run(args) -> int:
    throughput = measure(args.protocols, args)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / "throughput.json"
    out.write_text(json.dumps({"generator_throughput": throughput}, indent=2) + "\n")
    print("\n" + render(throughput) + f"\n\nwritten: {out}", flush=True)
    return 1 if any(t["failures"] for t in throughput.values()) else 0


if __name__ == "__main__":
    arguments = parse_args()
    run_main("bench_throughput", lambda: run(arguments))
