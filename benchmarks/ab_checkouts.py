"""Client CPU per request of two checkouts of loadgen, side by side with the gevent and Locust floors.

    .venv/bin/python benchmarks/ab_checkouts.py BEFORE_DIR AFTER_DIR [--protocols websocket,http,grpc]
        [--rounds 6] [--window 8] [--delay-ms 30]

For each protocol: ``tests/fakegateway.py --canned`` (its own process, replies built once per
kind, ``--delay-ms`` each), then ``--rounds`` rounds of four windows, one right after the
other: ``benchmarks/locust_client.py`` of BEFORE_DIR, of AFTER_DIR (each run with its own
checkout first on ``PYTHONPATH``, so that its ``loadgen`` is the one measured), the
protocol's gevent floor and the Locust floor (``floor_locust.py``, both from AFTER_DIR). 10
users, one request in flight each. A checkout is a directory such as ``git worktree add
/tmp/before COMMIT`` makes; both use this interpreter's packages. Prints each window, then per
protocol the medians and ranges of client CPU µs/req as one JSON line. Interleaved windows,
because single windows of this shared machine move by ±15% (docs/performance.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"websocket": "floor_websocket_gevent.py", "grpc": "floor_grpc_gevent.py", "http": "floor_http_gevent.py"}
SCHEMES = {"websocket": "ws", "grpc": "grpc", "http": "http"}


def window(tree: Path, script: str, host: str, args: argparse.Namespace, extra: tuple = ()) -> float:
    """One measured window of ``script`` from ``tree``; its client CPU µs/req."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'benchmarks'}"}
    cmd = [sys.executable, str(tree / "benchmarks" / script), "--host", host, "--users", "10",
           "--duration", str(args.window), "--warmup", "1", *extra]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=args.window + 180)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.exit(f"ab_checkouts: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return float(json.loads(lines[-1])["cpu_us_per_req"])


def protocol_rounds(protocol: str, args: argparse.Namespace) -> dict[str, list[float]]:
    sys.path.insert(0, str(ROOT))
    from loadgen.ports import free_port
    port = free_port()
    gateway = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fakegateway.py"), "--port", str(port),
                                "--delay-ms", str(args.delay_ms), "--canned", "--protocol", protocol],
                               stdout=subprocess.PIPE, text=True)
    host, runs = f"{SCHEMES[protocol]}://127.0.0.1:{port}", {}
    try:
        if gateway.stdout.readline().strip() != "ready":
            sys.exit("ab_checkouts: the fake gateway did not start")
        for number in range(1, args.rounds + 1):
            for name, tree, script, extra in (
                    ("before", args.before, "locust_client.py", ("--skip-host-check", "--results-dir", str(args.results / "before"))),
                    ("after", args.after, "locust_client.py", ("--skip-host-check", "--results-dir", str(args.results / "after"))),
                    ("gevent floor", args.after, FLOORS[protocol], ()),
                    ("locust floor", args.after, "floor_locust.py", ())):
                runs.setdefault(name, []).append(window(tree, script, host, args, extra))
                print(f"{protocol} round {number} {name}: {runs[name][-1]:.0f} µs/req", flush=True)
    finally:
        gateway.kill()
        gateway.wait()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--protocols", default="websocket,http,grpc",
                        type=lambda text: [p for p in text.split(",") if p])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--window", type=float, default=8.0, help="seconds per window (default 8)")
    parser.add_argument("--delay-ms", type=float, default=30.0, help="the fake gateway's delay (default 30)")
    parser.add_argument("--results", type=Path, default=ROOT / "results" / "bench" / "ab")
    args = parser.parse_args()
    for label, tree in (("BEFORE_DIR", args.before), ("AFTER_DIR", args.after)):
        if not (tree / "benchmarks" / "locust_client.py").is_file():
            parser.error(f"{label} {tree}: not a loadgen checkout (no benchmarks/locust_client.py)")
    if set(args.protocols) - set(FLOORS):
        parser.error(f"--protocols: use {', '.join(FLOORS)}")
    args.before, args.after = args.before.resolve(), args.after.resolve()
    summary = {}
    for protocol in args.protocols:
        runs = protocol_rounds(protocol, args)
        summary[protocol] = {name: {"median_us_per_req": round(statistics.median(v), 1), "min": round(min(v), 1),
                                    "max": round(max(v), 1), "windows": len(v)} for name, v in runs.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
