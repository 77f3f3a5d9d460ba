"""Faults during a run (`make chaos`): no crash, no lost result, failures classified.

Each case drives a real Locust process against the stand-in gateway (tests/fakegateway.py)
on loopback, for a few seconds, and asserts on the files the run wrote.
"""
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_locust
from loadgen.ports import free_port

pytestmark = [pytest.mark.locust, pytest.mark.chaos]
LOCUST = str(Path(sys.executable).parent / "locust")


def _gateway(port, *extra):
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/fakegateway.py"), "--port", str(port), *extra],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stdout:
        proc.stdout.close()


def _args(port, results, seconds, users=4, *extra):
    return ["-f", "locustfiles/text.py", "--host", f"grpc://127.0.0.1:{port}", "--headless", "-u", str(users),
            "-r", "100", "-t", f"{seconds}s", "--task-mix", "search:1", "--request-size", "1", "--top-k", "3",
            "--results-dir", str(results), "--csv", str(results / "locust"), "--csv-full-history", *extra]


def _summary(results):
    return json.loads((results / "summary.json").read_text())


def _history(results):
    rows = csv.DictReader(io.StringIO((results / "locust_stats_history.csv").read_text()))
    return [r for r in rows if r["Name"] == "Aggregated"]


def test_gateway_killed_and_restarted_mid_run(tmp_path):
    """Failures while the gateway is down (connect), successes after it is back; users live on."""
    port, results = free_port(), tmp_path / "results"
    gateway = _gateway(port)
    run = subprocess.Popen([LOCUST, *_args(port, results, 16, 4, "--timeout", "2", "--skip-host-check")],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(5)
        _stop(gateway)
        time.sleep(3)
        gateway = _gateway(port)
        _, stderr = run.communicate(timeout=90)
    finally:
        _stop(gateway)
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1 and "Traceback" not in stderr  # failures happened: Locust's exit code 1
    summary = _summary(results)
    assert set(summary["failures"]) == {"connect"} and summary["total"]["failures"] > 0
    series = [r for r in csv.DictReader(io.StringIO((results / "timeseries.csv").read_text()))
              if r["request_type"] == "grpc"]
    down = max(i for i, r in enumerate(series) if int(r["failures"]))
    after = series[down + 1:]
    assert any(int(r["requests"]) > 0 and int(r["failures"]) == 0 for r in after), ("recovered after the restart",
                                                                                    series)
    users = {int(r["User Count"]) for r in _history(results)[3:]}
    assert users == {4}, ("no user greenlet died", users)


def test_a_stalled_gateway_gives_timeouts_and_users_recover(tmp_path):
    port, results = free_port(), tmp_path / "results"
    gateway = _gateway(port, "--stall-at", str(time.time() + 4), "--stall-s", "3", "--delay-ms", "1")
    try:
        proc = run_locust(_args(port, results, 10, 4, "--timeout", "1"), cwd=ROOT)
    finally:
        _stop(gateway)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    summary = _summary(results)
    assert set(summary["failures"]) == {"timeout"} and summary["total"]["failures"] >= 4
    assert summary["total"]["requests"] - summary["total"]["failures"] > 100, "work went on before and after"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_a_random_moment_keeps_complete_results(tmp_path, sig):
    port, results = free_port(), tmp_path / "results"
    gateway = _gateway(port)
    run = subprocess.Popen([LOCUST, *_args(port, results, 30)], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(random.uniform(3.0, 6.0))
        run.send_signal(sig)
        _, stderr = run.communicate(timeout=60)
    finally:
        _stop(gateway)
    (tmp_path / "stderr.txt").write_text(stderr)
    assert "Traceback" not in stderr, stderr[stderr.find("Traceback") - 300:][:3000]
    summary = _summary(results)
    assert summary["total"]["requests"] > 0 and summary["total"]["failures"] == 0
    rows = [r for r in csv.DictReader(io.StringIO((results / "timeseries.csv").read_text()))
            if r["request_type"] == "grpc"]
    assert sum(int(r["requests"]) for r in rows) == summary["total"]["requests"], "the series is complete too"
    assert (results / "report.html").is_file()
    assert not [p.name for p in results.iterdir() if p.name.startswith(".")], "no temp files left"


@pytest.fixture
def full_disk(tmp_path):
    """A results directory on a 16 KiB tmpfs (root), else a read-only directory (other users)."""
    target = tmp_path / "full"
    target.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(target)],
                                 capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("cannot mount a tmpfs here, and root ignores read-only directories")
        (target / "filler").write_bytes(b"\0" * 12 * 1024)  # leave about 4 KiB free
        yield target
        subprocess.run(["umount", str(target)], check=False)
    else:
        target.chmod(0o500)
        yield target
        target.chmod(0o700)


def test_a_full_results_disk_is_a_clear_error_and_the_load_runs(full_disk):
    port = free_port()
    gateway = _gateway(port)
    try:
        proc = run_locust([*_args(port, full_disk, 4)[:-3]], cwd=ROOT)  # no --csv: only our files
    finally:
        _stop(gateway)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "cannot write" in proc.stderr or "time series" in proc.stderr, proc.stderr[-2000:]
    assert "/search" in proc.stdout and "requests" in proc.stdout, "the table is printed all the same"
    assert proc.returncode == 0, "the load itself was unaffected"
