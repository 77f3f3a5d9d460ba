"""Who used the machine's CPU during a client run: the Flow, the client, or anyone else;
and the facts about the machine and software that a benchmark result is only valid for.

The client and the Flow share the machine, so a benchmark run is only as clean as the
machine was quiet. :class:`RunLoad` takes Linux ``/proc`` snapshots around one client run
and reports, as % of ONE core averaged over the whole run (start-up and teardown included):

- ``flow_cpu_pct``: the Flow's processes (its process group: gateway and Executors);
- ``client_cpu_pct``: the finished client subprocess (``RUSAGE_CHILDREN``) plus this process;
- ``other_cpu_pct``: every other process on the machine (busy time from ``/proc/stat``
  minus the two above) -- anything well above a few % means the figures are contaminated.

:func:`machine_facts` says what ran where: cores, CPU model, package versions of both
virtualenvs (read from metadata: jina is never imported here) and loadgen's commit.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import time
from importlib import metadata
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent
BUSY_PCT = 10.0  # a run during which other processes used more than this % of a core is flagged


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle since boot (``/proc/stat``: all but idle, iowait)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / HZ


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of process group ``pgid``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / HZ


def own_cpu_s() -> float:
    """CPU seconds of this process and of its finished (waited-for) children."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage,
                                                    (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))


class RunLoad:
    """``with RunLoad(flow_pgid) as load: ...`` then ``load.result()`` (see the module docstring)."""

    def __init__(self, flow_pgid: int):
        self._pgid = flow_pgid

    def _snapshot(self) -> tuple[float, ...]:
        return time.perf_counter(), machine_busy_s(), group_cpu_s(self._pgid), own_cpu_s()

    def __enter__(self) -> "RunLoad":
        self._start = self._snapshot()
        return self

    def __exit__(self, *exc) -> None:
        self._end = self._snapshot()

    def result(self) -> dict:
        wall, busy, flow, client = (end - start for start, end in zip(self._start, self._end))
        pct = 100.0 / wall if wall > 0 else 0.0
        return {"run_s": round(wall, 2), "flow_cpu_pct": round(flow * pct, 1),
                "client_cpu_pct": round(client * pct, 1),
                "other_cpu_pct": round(max(0.0, busy - flow - client) * pct, 1)}


def others_pct(flow_pgid: int, sample_s: float) -> float:
    """% of one core that processes other than the Flow and this one used over ``sample_s``."""
    def snapshot() -> tuple[float, float, float]:
        return machine_busy_s(), group_cpu_s(flow_pgid), own_cpu_s()

    start = snapshot()
    time.sleep(sample_s)
    busy, flow, own = (end - begin for begin, end in zip(start, snapshot()))
    return max(0.0, busy - flow - own) * 100.0 / sample_s


def wait_quiet(flow_pgid: int, *, max_pct: float, timeout_s: float, sample_s: float = 2.0) -> tuple[float, float]:
    """Sample :func:`others_pct` until it is <= ``max_pct`` or ``timeout_s`` has passed.

    :returns: (seconds waited, the last sample's %).
    """
    started = time.monotonic()
    while True:
        pct = others_pct(flow_pgid, sample_s)
        waited = time.monotonic() - started
        if pct <= max_pct or waited >= timeout_s:
            return waited, pct


def add_wait_quiet_option(parser: argparse.ArgumentParser, *, before: str) -> None:
    """``--wait-quiet SECONDS`` (default 0: do not wait); ``before`` names what it waits before."""
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help=f"before each {before}, wait up to SECONDS until other processes use <= {BUSY_PCT:g}%% "
                             "of a core (for shared machines; default 0: do not wait)")


def wait_quiet_if_asked(flow_pgid: int, timeout_s: float) -> None:
    """:func:`wait_quiet` for up to ``timeout_s`` seconds (``--wait-quiet``; 0: return at once) and say how long."""
    if timeout_s > 0:
        waited, pct = wait_quiet(flow_pgid, max_pct=BUSY_PCT, timeout_s=timeout_s)
        print(f"    waited {waited:.0f} s for a quiet machine (others: {pct:.0f}% of a core)", flush=True)


def machine_facts(flow_python: str, *, revision_at_start: str) -> dict:
    """Cores, CPU model, both virtualenvs' versions, loadgen's commit when the run started
    (``revision_at_start``, from :func:`loadgen_revision`) and now, the date (UTC) and the load
    average now; ``flow_python`` is the flow virtualenv's interpreter."""
    return {
        "nproc": os.cpu_count(), "machine": platform.machine(), "cpu_model": cpu_model(),
        "loadgen_revision": revision_at_start, "loadgen_revision_end": loadgen_revision(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg_end": os.getloadavg(),
        "client_venv": {"python": platform.python_version(),
                        **{p: metadata.version(p) for p in ("locust", "grpcio", "gevent", "protobuf", "websockets")}},
        "flow_venv": flow_versions(flow_python),
    }


def flow_versions(python: str) -> dict:
    """Versions of the flow virtualenv's packages (read from metadata; jina is not imported)."""
    code = ("import importlib.metadata as m, json, platform; print(json.dumps({'python': "
            "platform.python_version(), **{p: m.version(p) for p in ('jina', 'docarray', 'grpcio', 'protobuf')}}))")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr.strip()[-200:]}


def loadgen_revision() -> str:
    """The checkout's commit, with ``+dirty`` when loadgen/ or locustfiles/ have uncommitted changes."""
    def git(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "loadgen", "locustfiles") else "")


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (else ``platform.processor()``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
