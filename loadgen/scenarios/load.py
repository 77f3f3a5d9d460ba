"""``index`` and ``query`` steps: one headless Locust run of loadgen's locustfile each.

Each step runs ``python -m locust -f locustfiles/<kind>.py --headless ...`` as a child
process of the same virtualenv, with loadgen's options (``--task-mix index:1`` or
``search:1``, ``--request-size``, ``--top-k``, ``--arrival-rate``, ``--slo``,
``--processes N`` for ``workers: N``, ...) and its own ``--results-dir``, then reads the
``summary.json`` loadgen writes there. Why a child process and not an ``Environment`` in
this one: loadgen's Locust adapter needs gevent's monkey-patching, which must happen before
anything else is imported (importing locust after boto3 or ssl recurses forever), would
turn this process's subprocess and signal handling cooperative, and Locust's ``events``
are process-global, so consecutive steps in one process would pile up listeners. A fresh
Locust per step is also exactly what ``locust -f`` users run, including its master/worker
mode.

The child runs in its own session: Ctrl-C here stops the scenario, which then sends the
child SIGTERM -- Locust's clean shutdown, after which loadgen has written ``summary.json``.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from loadgen.config import TargetConfig
from loadgen.flowctl import free_port, project_root

ENDPOINTS = {"index": "/index", "query": "/search"}
STARTUP_GRACE_S = 120.0  # Locust start, pool encoding and shutdown, beyond execution_time
STOP_GRACE_S = 30.0  # after SIGTERM, before SIGKILL
POLL_S = 0.5
PROTOCOL_TYPES = ("grpc", "websocket", "http")


@dataclass(frozen=True, kw_only=True)
class LoadOutcome:
    """What a load step left behind: ``summary`` (None when Locust wrote none), Locust's
    exit code (1: some requests failed, 2: usage, 3: an SLO gate failed) and its log."""

    summary: Optional[dict[str, Any]]
    exit_code: int
    log_path: Path

    def error_line(self) -> str:
        """loadgen's own one-line error from the log, else Locust's last error, else its last line."""
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        ours = [line for line in lines if "loadgen: error:" in line]
        locusts = [line for line in lines if "/ERROR/" in line or "/CRITICAL/" in line]
        return (ours or locusts or lines or [""])[-1]


def locust_argv(method: str, kwargs: Mapping[str, Any], *, target: TargetConfig, results_dir: Path) -> list[str]:
    """The Locust command line of a load step (``python -m locust ...``)."""
    inputs = kwargs["inputs"]
    users = str(kwargs["num_clients"])
    locustfile = "replay" if kwargs["replay_file"] else inputs.kind
    argv = [sys.executable, "-m", "locust", "-f", str(project_root() / "locustfiles" / f"{locustfile}.py"),
            "--headless", "--only-summary", "-u", users, "-r", users, "-t", f"{kwargs['execution_time']:g}s",
            "--host", target.url, "--task-mix", f"{ENDPOINTS[method].lstrip('/')}:1",
            "--request-size", str(kwargs["request_size"]), "--top-k", str(kwargs.get("top_k", 10)),
            "--seed", str(inputs.seed), "--grpc-mode", kwargs["grpc_mode"], "--timeout", f"{kwargs['timeout']:g}",
            "--preindex-docs", "0", "--results-dir", str(results_dir)]
    if inputs.image_shape:
        argv += ["--image-shape", ",".join(map(str, inputs.image_shape))]
    if kwargs["replay_file"]:
        # The file's lines choose endpoints and documents; start it again at its end (Iago's
        # default) so that the step lasts execution_time.
        argv += ["--replay-file", kwargs["replay_file"], "--reuse-file"]
    if kwargs["arrival_rate"]:
        argv += ["--arrival-rate", kwargs["arrival_rate"]]
    if kwargs["workers"]:
        # A private master port: on Locust's default (5557) the workers of any other run on
        # this machine would join this master.
        port = str(free_port())
        argv += ["--processes", str(kwargs["workers"]), "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
                 "--master-host", "127.0.0.1", "--master-port", port]
    for slo in kwargs["slo"]:
        argv += ["--slo", slo]
    return argv


def run_load(argv: list[str], *, results_dir: Path, execution_time_s: float,
             progress: Callable[[float, int, int], None] = lambda *_: None) -> LoadOutcome:
    """Run Locust and wait for it; ``progress(elapsed_s, requests, failures)`` about every
    half second. Ctrl-C (KeyboardInterrupt) stops Locust cleanly and is re-raised."""
    results_dir.mkdir(parents=True, exist_ok=True)
    log_path = results_dir / "locust.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=project_root(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        code = _wait(proc, results_dir, execution_time_s + STARTUP_GRACE_S, progress)
    except BaseException:
        stop(proc)
        raise
    return LoadOutcome(summary=read_summary(results_dir), exit_code=code, log_path=log_path)


def _wait(proc: subprocess.Popen, results_dir: Path, limit_s: float, progress: Callable) -> int:
    started = time.monotonic()
    while proc.poll() is None:
        if time.monotonic() - started > limit_s:
            stop(proc)
            return 124  # like timeout(1)
        time.sleep(POLL_S)
        progress(time.monotonic() - started, *series_totals(results_dir / "timeseries.csv"))
    return proc.returncode


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (Locust writes its results), then SIGKILL to the group after a grace period."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # --processes workers left behind
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def series_totals(path: Path) -> tuple[int, int]:
    """Requests and failures so far, from the run's ``timeseries.csv`` (0, 0 before it exists)."""
    requests = failures = 0
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                if row.get("request_type") in PROTOCOL_TYPES:
                    requests += int(row.get("requests") or 0)
                    failures += int(row.get("failures") or 0)
    except (OSError, ValueError):
        pass
    return requests, failures


def read_summary(results_dir: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads((results_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
