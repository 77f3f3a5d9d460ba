"""A fleet on loopback: the start commands rendered into a master's and two workers'
user-data run as real processes (``/opt/jina-loadgen`` replaced by this checkout, whose
``.venv`` has the same layout), the master's web API is polled until both workers are
connected (the same poll ``fleet up`` uses), a short load runs against the session's demo
Flow, and the merged summary counts both workers."""
from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import ROOT, TOP_K
from loadgen.cloud.userdata import INSTALL_DIR, LaunchSpec, render_user_data, unit_command
from loadgen.cloud.master_api import wait_for_workers
from loadgen.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.locust]
LOAD_S = 7  # more than two worker report periods (3 s each)


def local_command(spec: LaunchSpec) -> tuple[str, list[str]]:
    """The unit's working directory and command, moved from the AMI's path to this checkout."""
    workdir, argv = unit_command(render_user_data(spec))
    assert workdir == INSTALL_DIR and argv[0] == f"{INSTALL_DIR}/.venv/bin/locust"
    return str(ROOT), [str(ROOT / argv[0][len(INSTALL_DIR) + 1:]), *argv[1:]]


def test_rendered_master_and_two_workers_run_a_load_on_loopback(flow, tmp_path):
    web_port, master_port = free_port(), free_port()
    common = dict(locustfile="locustfiles/text.py", master_port=master_port, fleet_id="lg-loopback")
    master = LaunchSpec(role="master", host=flow.target.url, web_port=web_port, bind_host="127.0.0.1",
                        results_dir=str(tmp_path / "results"), **common,
                        locust_args=("--top-k", str(TOP_K), "--request-size", "2", "--preindex-docs", "0"))
    worker = LaunchSpec(role="worker", master_ip="127.0.0.1", processes=1, **common)
    procs = []
    try:
        for number, spec in enumerate((master, worker, worker)):
            cwd, argv = local_command(spec)
            log = open(tmp_path / f"{spec.role}-{number}.log", "wb")
            procs.append(subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL))
            log.close()
        ui = f"http://127.0.0.1:{web_port}"
        assert wait_for_workers(ui, 2, timeout_s=90, distinct_hosts=False, interval_s=0.5, out=print) == 2
        form = urllib.parse.urlencode({"user_count": 4, "spawn_rate": 4, "host": flow.target.url}).encode()
        with urllib.request.urlopen(f"{ui}/swarm", data=form, timeout=10) as reply:
            assert json.loads(reply.read())["success"]
        time.sleep(LOAD_S)
    finally:
        _stop(procs)
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(tmp_path.glob("*.log")))
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["workers"] == 2, logs
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0, logs
    assert summary["target"] == flow.target.url and summary["kind"] == "text"


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM the master (it tells its workers to quit and waits for their last reports),
    then make sure nothing outlives the test."""
    if procs:
        procs[0].send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
