"""What four items of loadgen's product path cost per request, next to the gevent websocket floor.

    .venv/bin/python benchmarks/cost_items.py [--rounds 8] [--window 8] [--floor-rounds 6]
                                              [--variants base,all,parts,recv_timeout,loop_lag,task_sleep]

(docs/performance.md, "Where the rest of the gap goes"). Starts ``tests/fakegateway.py
--protocol websocket --canned --delay-ms 30`` on 127.0.0.1 (10 users then send ~320 req/s),
then runs, round after round, one window of ``benchmarks/locust_client.py`` per variant
(10 users) and, after them, ``--floor-rounds`` windows of ``floor_websocket_gevent.py``.
A variant switches items off **for this measurement only**, by patching them out of the
client process before it starts:

- ``base``: loadgen as shipped;
- ``parts``: no breakdown rows (``Session.record`` logs no per-Executor/gateway/network parts);
- ``recv_timeout``: websockets' ``recv`` without a timeout (no timer per receive);
- ``loop_lag``: the self-check's loop-lag monitor asleep;
- ``task_sleep``: no ``gevent.sleep(0)`` between Locust tasks;
- ``all``: the four together.

Timer (bench_window.py): each window's client CPU (all threads) per request, in µs. Windows
are interleaved so that the machine's drift hits every variant alike; the medians and
ranges are printed as one JSON line. On a shared VM one window swings ±15 %: use 7 or more
rounds.
"""
from __future__ import annotations

import argparse
import json
import os
import runpy
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
ITEMS = ("parts", "recv_timeout", "loop_lag", "task_sleep")
USERS, DELAY_MS, WARMUP_S = 10, 30, 1


def switch_off(items: set[str]) -> None:
    """Patch ``items`` out of this process (a client about to run ``locust_client.py``)."""
    from locust import events  # noqa: F401 - first: Locust monkey-patches on import
    import loadgen.locust_adapter.monitor as monitor
    import loadgen.locust_adapter.session as session
    import loadgen.protocols.websocket as websocket
    if "parts" in items:
        session.breakdown = lambda result: None
    if "recv_timeout" in items:
        def receive(self, connection, deadline):
            while True:
                raw = connection.recv(decode=False)
                request_id = websocket.reply_request_id(raw)
                if not request_id or request_id == self._request_id:
                    return raw
        websocket.WebsocketTransport._receive = receive
    if "loop_lag" in items:
        start = monitor.LoopMonitor.__init__

        def asleep(self, record, **kwargs):
            start(self, record, **{**kwargs, "period_s": 3600.0})
        monitor.LoopMonitor.__init__ = asleep
    if "task_sleep" in items:
        sys.modules["locust.user.task"].TaskSet.wait = lambda self: None


def client(variant: str, argv: list[str]) -> None:
    """Run locust_client.py with ``variant``'s items switched off (this process only)."""
    switch_off(set(ITEMS) if variant == "all" else {variant} - {"base"})
    sys.path.insert(0, str(BENCH))
    sys.argv = [str(BENCH / "locust_client.py"), *argv]
    runpy.run_path(str(BENCH / "locust_client.py"), run_name="__main__")


def window(cmd: list[str], timeout_s: float) -> float:
    """One window's client CPU µs/req (a helper's last JSON line)."""
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s,
                          env={**os.environ, "PYTHONPATH": f"{ROOT}:{BENCH}"})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.exit(f"cost_items: {cmd[1]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return float(json.loads(lines[-1])["cpu_us_per_req"])


def measure(args: argparse.Namespace, host: str) -> dict[str, list[float]]:
    """Interleaved windows: every variant once per round, then the floor's windows."""
    common = ["--host", host, "--users", str(USERS), "--duration", str(args.window), "--warmup", str(WARMUP_S)]
    timeout_s = args.window + WARMUP_S + 120
    runs: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for variant in args.variants:
            cmd = [sys.executable, str(Path(__file__)), "--client", variant, *common, "--skip-host-check",
                   "--results-dir", str(ROOT / "results" / "bench" / "cost-items")]
            runs.setdefault(variant, []).append(window(cmd, timeout_s))
    for _ in range(args.floor_rounds):
        cmd = [sys.executable, str(BENCH / "floor_websocket_gevent.py"), *common]
        runs.setdefault("floor-websocket-gevent", []).append(window(cmd, timeout_s))
    return runs


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        client(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8, help="windows per variant (default 8)")
    parser.add_argument("--window", type=float, default=8.0, help="seconds per window (default 8)")
    parser.add_argument("--floor-rounds", type=int, default=6, help="windows of the gevent floor (default 6)")
    parser.add_argument("--variants", default="base,all," + ",".join(ITEMS),
                        type=lambda text: [v for v in text.split(",") if v])
    args = parser.parse_args()
    unknown = set(args.variants) - {"base", "all", *ITEMS}
    if unknown:
        parser.error(f"--variants: unknown {sorted(unknown)}; use base, all, {', '.join(ITEMS)}")
    sys.path.insert(0, str(ROOT))
    from loadgen.ports import free_port
    port = free_port()
    gateway = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakegateway.py"), "--port", str(port),
                                "--delay-ms", str(DELAY_MS), "--canned", "--protocol", "websocket"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        if gateway.stdout.readline().strip() != "ready":
            sys.exit("cost_items: the fake gateway did not start")
        runs = measure(args, f"ws://127.0.0.1:{port}")
    finally:
        gateway.kill()
        gateway.wait()
    print(json.dumps({name: {"median_us_per_req": round(statistics.median(v), 1), "min": round(min(v), 1),
                             "max": round(max(v), 1), "windows": len(v)} for name, v in runs.items()}))


if __name__ == "__main__":
    main()
