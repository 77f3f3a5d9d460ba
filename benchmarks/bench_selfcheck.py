"""Event-loop lag and CPU of the load generator in runs of known load: the measurements
behind ``saturated`` (loadgen.selfcheck.LIMITS; docs/results.md, "Is the load generator
the bottleneck?").

    .venv/bin/python benchmarks/bench_selfcheck.py [--rounds 3] [--seconds 10] [--only idle,normal]
    .venv/bin/python benchmarks/bench_selfcheck.py --monitor-cost

Each case is a real ``locust`` run (one process, text locustfile, gRPC) against
tests/fakegateway.py (its own process) with a fixed delay; rounds are interleaved. Printed
per run: the summary's ``generator`` figures (loop-lag p50/p99/max ms over the run after a
2 s warm-up, CPU % of one core), the achieved req/s, and how much CPU every other process on
the machine used meanwhile (% of one core; the machine is shared, and a process that waits
for a core lags as much as a busy one).

``--monitor-cost``: CPU of an otherwise idle gevent process for 20 s with and without the
loop monitor (one wake every LOOP_LAG_PERIOD_S, a perf_counter read and one histogram record per wake).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from machine_load import machine_busy_s, own_cpu_s  # noqa: E402

OPEN = ("--arrival-rate", "200", "--arrival", "uniform")
CASES = {  # name: (what it is, gateway delay ms, users, extra locust options)
    "idle": ("closed loop, 1 user, 20 ms gateway", 20, 1, ()),
    "normal": ("open loop 200 req/s, 20 users, 5 ms gateway", 5, 20, OPEN),
    "busy": ("as normal + a validator burning 2 ms CPU per reply (~40% of a core)", 5, 20,
             (*OPEN, "--validator", "cpu_burn:burn", "--validator-kwargs", '{"ms": 2}')),
    "flat-out": ("closed loop, 30 users, 0 ms gateway (as fast as the client goes)", 0, 30, ()),
    "saturated": ("as normal + a validator burning 6 ms CPU per reply (~120% of a core asked)", 5, 20,
                  (*OPEN, "--validator", "cpu_burn:burn", "--validator-kwargs", '{"ms": 6}')),
}


def run_case(name: str, seconds: float, workdir: Path) -> dict:
    _, delay_ms, users, extra = CASES[name]
    gateway = subprocess.Popen([sys.executable, str(ROOT / "tests/fakegateway.py"), "--port", str(_port()),
                                "--delay-ms", str(delay_ms)], stdout=subprocess.PIPE, text=True)
    port = gateway.args[gateway.args.index("--port") + 1]
    try:
        assert gateway.stdout.readline().strip() == "ready"
        results = workdir / f"{name}-{time.time_ns()}"
        args = [str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/text.py", "--host",
                f"grpc://127.0.0.1:{port}", "--headless", "-u", str(users), "-r", "100", "-t", f"{seconds:g}s",
                "--task-mix", "search:1", "--request-size", "1", "--top-k", "3", "--warmup", "2",
                "--results-dir", str(results), *extra]
        env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'tests/locustfiles'}", "PATH": "/usr/bin:/bin"}
        busy0, own0, t0 = machine_busy_s(), own_cpu_s(), time.perf_counter()
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
        busy, own, wall = machine_busy_s() - busy0, own_cpu_s() - own0, time.perf_counter() - t0
    finally:
        gateway.kill()
        gateway.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: exit {proc.returncode}: {proc.stderr[-1500:]}")
    summary = json.loads((results / "summary.json").read_text())
    return {"case": name, **summary["generator"], "rps": summary["total"]["rps"],
            "p99_ms": summary["total"]["latency_ms"]["p99"],
            "others_pct": round(max(0.0, busy - own) * 100 / wall, 1)}  # own: locust (a waited-for child) + this


def _port() -> int:
    from loadgen.ports import free_port
    return free_port()


def monitor_cost(seconds: float) -> None:
    code = f"""
import time, gevent
from loadgen.metrics import Metrics
from loadgen.locust_adapter.monitor import LoopMonitor
with_monitor = {{}}
for monitored in (False, True, False, True):
    metrics = Metrics()
    monitor = LoopMonitor(lambda lag: metrics.add_time("generator", "loop_lag", lag))
    if monitored:
        monitor.start()
    c0, w0 = time.process_time(), time.perf_counter()
    gevent.sleep({seconds / 4})
    c1, w1 = time.process_time(), time.perf_counter()
    monitor.stop()
    n = metrics.entry("generator", "loop_lag").requests
    print(f"monitor {{'on ' if monitored else 'off'}}: {{100 * (c1 - c0) / (w1 - w0):.2f}}% of a core, {{n}} wakes")
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default=",".join(CASES), help="comma-separated cases: " + ", ".join(CASES))
    parser.add_argument("--monitor-cost", action="store_true")
    args = parser.parse_args()
    if args.monitor_cost:
        return monitor_cost(20.0)
    names = [n for n in args.only.split(",") if n]
    print("| case | round | lag p50 ms | lag p99 ms | lag max ms | CPU % | req/s | p99 ms | others % | saturated |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="bench-selfcheck-") as tmp:
        for round_ in range(1, args.rounds + 1):
            for name in names:
                r = run_case(name, args.seconds, Path(tmp))
                lag = r["loop_lag_ms"]
                print(f"| {name} | {round_} | {lag['p50']} | {lag['p99']} | {lag['max']} | {r['cpu_pct_max']} | "
                      f"{r['rps']:.0f} | {r['p99_ms']:.1f} | {r['others_pct']} | {r['saturated']} |", flush=True)
    for name in names:
        print(f"- {name}: {CASES[name][0]}")


if __name__ == "__main__":
    main()
