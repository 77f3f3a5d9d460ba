"""Locust's --master and --worker as separate processes on loopback."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, TOP_K
from loadgen.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.locust, pytest.mark.chaos]
LOCUST = str(Path(sys.executable).parent / "locust")


def _start(args, tmp_path, name):
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([LOCUST, "-f", "locustfiles/text.py", *args], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log


def test_a_killed_worker_keeps_its_reported_samples_and_is_listed_as_lost(flow, tmp_path):
    port = free_port()
    master, master_log = _start(["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                                 "--headless", "--expect-workers", "2", "-u", "4", "-r", "4", "-t", "18s",
                                 "--host", flow.target.url, "--request-size", "2", "--top-k", str(TOP_K),
                                 "--results-dir", str(tmp_path / "results")], tmp_path, "master")
    workers = [_start(["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)], tmp_path, f"w{i}")
               for i in range(2)]
    try:
        time.sleep(11)  # both report at least once (every 3 s), even on a busy machine
        workers[1][0].send_signal(signal.SIGKILL)
        master.wait(timeout=90)
    finally:
        for proc, log in [*workers, (master, master_log)]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            log.close()
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["workers"] == 2 and len(summary["workers_lost"]) == 1, (tmp_path / "master.log").read_text()[-3000:]
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
