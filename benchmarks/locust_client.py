"""loadgen's product path, measured: ``locustfiles/text.py`` driven by Locust as a library.

    .venv/bin/python benchmarks/locust_client.py --host grpc://127.0.0.1:PORT --grpc-mode unary
    .venv/bin/python benchmarks/locust_client.py --host ws://127.0.0.1:PORT      # http:// too

The locustfile is loaded the way ``locust -f`` loads it (its ``register(events, kind="text")``
adds loadgen's options and listeners), options are parsed by Locust's own parser, and
``events.init`` creates loadgen's session. The users (``JinaUser``, speaking ``--host``'s
protocol: session, pre-encoded pools, one gRPC channel / websocket connection / keep-alive
HTTP connection per user, reply validation, HDR metrics and Locust's ``request`` event,
per-second time series under ``--results-dir``) run under a ``LocalRunner`` with
``--task-mix search:1 --request-size 10 --top-k 10 --preindex-docs 0`` (``--grpc-mode``
matters for gRPC only).

Timer (see bench_window.py for units): the window opens once all users are spawned (pools
are built in ``test_start``, channels opened in ``on_start``) and ``--warmup`` seconds have
passed; it closes before ``runner.quit()`` (after which loadgen writes its summary.json).
Requests and failures come from Locust's stats (every loadgen request fires Locust's
``request`` event). Prints one JSON line.
"""
from __future__ import annotations

from locust import events  # first: Locust applies gevent's monkey-patching on import

import logging
import time
from pathlib import Path

import gevent
from locust.argument_parser import get_parser
from locust.env import Environment
from locust.runners import STATE_RUNNING
from locust.util.load_locustfile import load_locustfile

from bench_window import Window, client_parser, emit

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "locustfiles" / "text.py"
SPAWN_TIMEOUT_S = 60.0


def locust_options(args):
    """Locust's parsed options, including loadgen's (registered by the locustfile)."""
    argv = ["-f", str(LOCUSTFILE), "--headless", "-H", args.host, "--grpc-mode", args.grpc_mode,
            "--task-mix", "search:1", "--request-size", "10", "--top-k", "10", "--preindex-docs", "0",
            "--results-dir", args.results_dir or str(ROOT / "results" / "bench" / "loadgen"),
            "--overwrite"]  # every round and every make bench replaces the last one's files
    if args.skip_host_check:
        argv.append("--skip-host-check")
    return get_parser(default_config_files=[]).parse_args(argv)


def start_environment(args) -> Environment:
    """Load the locustfile, build the environment and runner, fire ``init`` (loadgen's session)."""
    user_classes, _ = load_locustfile(str(LOCUSTFILE))
    env = Environment(user_classes=list(user_classes.values()), events=events, host=args.host,
                      parsed_options=locust_options(args), locustfile=str(LOCUSTFILE))
    runner = env.create_local_runner()
    events.init.fire(environment=env, runner=runner, web_ui=None)
    return env


def wait_spawned(env: Environment, users: int) -> None:
    """Block (cooperatively) until ``users`` users run. :raises TimeoutError: after 60 s."""
    deadline = time.monotonic() + SPAWN_TIMEOUT_S
    while env.runner.state != STATE_RUNNING or env.runner.user_count < users:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{users} users not running after {SPAWN_TIMEOUT_S:g} s")
        gevent.sleep(0.05)


def run_window(env: Environment, args) -> Window:
    """Spawn ``args.users`` users, measure one window once they all run and ``--warmup``
    seconds have passed, then stop the runner. Requests and failures come from Locust's
    stats (also ``floor_locust.py``'s)."""
    stats = env.stats  # not stats.total: runner.start() replaces that entry
    window = Window(lambda: (stats.total.num_requests, stats.total.num_failures))
    env.runner.start(args.users, spawn_rate=args.users)
    try:
        wait_spawned(env, args.users)
        window.run(gevent.sleep, warmup_s=args.warmup, duration_s=args.duration)
    finally:
        env.runner.quit()
    return window


def stats_errors(env: Environment) -> dict[str, int]:
    """Locust's errors of the run, as a window result's ``errors``."""
    return {f"{e.method} {e.name}: {e.error}": e.occurrences for e in env.stats.errors.values()}


def measure(env: Environment, args) -> dict:
    """Run the load; return the window's result (see the module docstring)."""
    window = run_window(env, args)
    events.quitting.fire(environment=env, reverse=True)  # loadgen writes summary.json, as after a CLI run
    return window.result(errors=stats_errors(env))


def main() -> None:
    parser = client_parser(__doc__.splitlines()[0])
    parser.add_argument("--grpc-mode", choices=("unary", "stream"), default="unary")
    parser.add_argument("--results-dir", help="loadgen's summary and time series go here (default results/bench/loadgen)")
    parser.add_argument("--skip-host-check", action="store_true",
                        help="do not ask the gateway which endpoints it serves (the fake gateway's websocket "
                             "replies carry no Executor route to tell)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    emit(measure(start_environment(args), args))


if __name__ == "__main__":
    main()
