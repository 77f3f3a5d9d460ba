"""Nothing on a load-generating gevent hub may distort the latencies it times (issue 15 §1).

A fake gateway (tests/fakegateway.py, its own process) answers every request in exactly
its ``--delay-ms``; so every latency loadgen reports must be that delay plus a little
loopback and client time. Two things used to block the hub and be timed as the server's
delay:

- refills of a dataset's pools: decoding large images inside a user's greenlet (a refill of
  8 noise PNGs of 1000x1000 blocks for ~130 ms);
- the web UI's "HDR percentiles" rows, built at every ``/stats/requests`` poll (hdrh walked
  the counts array in Python: 25-90 ms per histogram).

Each test runs a control beside the run under test, at the same time, so that both see the
same machine: small runs (2-4 users, 12 s) sized for a loaded 2-core machine. Both fail
before issue 15 (refills: p99 185 ms against the control's 76; polling: p99 249 against 97).
"""
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from loadgen.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.locust]
REFILL_DELAY_MS = 50
POLL_DELAY_MS = 20


def _noise_pngs(folder: Path, count: int, side: int) -> None:
    """``count`` PNGs of random noise, ``side`` x ``side`` RGB: incompressible, so slow to decode."""
    from PIL import Image

    folder.mkdir()
    rng = np.random.default_rng(15)
    for i in range(count):
        pixels = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"noise{i:02d}.png", compress_level=1)


def _start_locust(args: list[str]) -> subprocess.Popen:
    locust = Path(sys.executable).parent / "locust"
    return subprocess.Popen([str(locust), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)


def _finish(proc: subprocess.Popen, results: Path) -> tuple[dict, str]:
    """Wait for a run; its summary and output."""
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, out[-3000:]
    return json.loads((results / "summary.json").read_text()), out


def _judge(latency: dict, control: dict, delay_ms: float) -> None:
    """The reported p99 and max within 10% and 40% of the gateway's delay. A control run
    (random data, no refills) at the same time tells whether the machine is quiet enough to
    judge that: if even the control misses it, other jobs are distorting every figure, and
    the run must at least match the control (a refill on the hub adds its whole length to
    the requests in flight: before issue 15, p99 185 ms against the control's 76 ms)."""
    if control["p99"] <= delay_ms * 1.10 and control["max"] <= delay_ms * 1.40:
        assert latency["p99"] <= delay_ms * 1.10 and latency["max"] <= delay_ms * 1.40, (latency, control)
    else:  # a loaded machine: rerun alone to check the bounds themselves
        assert latency["p50"] <= control["p50"] * 1.10 and latency["p99"] <= control["p99"] * 1.25, (latency,
                                                                                                   control)


def test_refilling_pools_from_slow_images_do_not_distort_latency(tmp_path, launch_fake_gateway):
    """Pools of 8 one-image requests per endpoint refill every 8 requests from noise PNGs of
    1000x1000 (~16 ms each to decode: ~130 ms per refill, 5 refills a second, all off the
    hub); every reported latency stays the gateway's 50 ms. Beside it, at the same time, the same run on random
    data against a gateway of its own: the control of the machine's noise."""
    log = tmp_path / "gateway.log"
    port = launch_fake_gateway("--delay-ms", REFILL_DELAY_MS, "--log", log)
    control_port = launch_fake_gateway("--delay-ms", REFILL_DELAY_MS)
    _noise_pngs(tmp_path / "images", count=12, side=1000)
    common = ["-f", "locustfiles/image.py", "--headless", "-u", "2", "-r", "2", "-t", "12s", "--image-shape", "16,16,3",
              "--request-size", "1", "--pool-size", "8", "--task-mix", "index:1,search:1", "--preindex-docs", "0"]
    data = _start_locust([*common, "--host", f"grpc://127.0.0.1:{port}", "--dataset", f"images:{tmp_path / 'images'}",
                          "--results-dir", str(tmp_path / "data")])
    control = _start_locust([*common, "--host", f"grpc://127.0.0.1:{control_port}",
                             "--results-dir", str(tmp_path / "control")])
    (summary, out), (control_summary, _) = _finish(data, tmp_path / "data"), _finish(control, tmp_path / "control")
    total = summary["total"]
    assert total["failures"] == 0 and total["requests"] >= 100, total
    # The truth that pools refilled: the gateway saw all 12 images, a pool holds 8 at a time.
    first_ids = {line.split()[2] for line in log.read_text().splitlines()}
    assert len(first_ids) == 12, len(first_ids)
    _judge(total["latency_ms"], control_summary["total"]["latency_ms"], REFILL_DELAY_MS)
    waits = summary["dataset"]
    assert waits["waits"] >= 0 and waits["wait_s"] >= 0  # counted (usually 0 here: the data keeps up)
    assert ("data-bound: the generator waited" in out) == (waits["waits"] > 0)


def _start_web_ui_run(tmp_path: Path, name: str, port: int) -> tuple[subprocess.Popen, int, Path]:
    """A single-process run with the web UI up (``--autostart``): its process, web port and
    results directory."""
    web_port, results = free_port(), tmp_path / name
    proc = _start_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{port}", "--autostart",
                          "--autoquit", "1", "-u", "4", "-r", "4", "-t", "12s", "--web-host", "127.0.0.1",
                          "--web-port", str(web_port), "--image-shape", "8,8,3", "--request-size", "1",
                          "--preindex-docs", "0", "--results-dir", str(results)])
    return proc, web_port, results


def _poll(web_port: int, stop: threading.Event, rows: list) -> None:
    """Fetch ``/stats/requests`` twice a second, as an open page does (every 2 s) but faster;
    note how many HDR rows each answer carried."""
    while not stop.wait(0.5):
        try:
            reply = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{web_port}/stats/requests", timeout=5).read())
        except OSError:
            continue  # not up yet, or gone
        rows.append(len(reply.get("extended_stats", [{}])[0].get("data", [])))


def test_polling_the_web_ui_does_not_distort_latency(tmp_path, launch_fake_gateway):
    """Two identical runs at the same time against one gateway, so that both see the same
    machine (other jobs, the gateway's own CPU); only one has its web UI polled."""
    port = launch_fake_gateway("--delay-ms", POLL_DELAY_MS)
    quiet_proc, _, quiet_dir = _start_web_ui_run(tmp_path, "quiet", port)
    polled_proc, web_port, polled_dir = _start_web_ui_run(tmp_path, "polled", port)
    rows, stop = [], threading.Event()
    poller = threading.Thread(target=_poll, args=(web_port, stop, rows), daemon=True)
    poller.start()
    try:
        quiet, polled = _finish(quiet_proc, quiet_dir)[0]["total"], _finish(polled_proc, polled_dir)[0]["total"]
    finally:
        stop.set()
        poller.join()
    assert len(rows) >= 15 and max(rows) >= 4, rows  # the HDR rows were built at every poll
    assert quiet["failures"] == polled["failures"] == 0
    quiet_p99, polled_p99 = quiet["latency_ms"]["p99"], polled["latency_ms"]["p99"]
    assert quiet_p99 >= POLL_DELAY_MS  # the truth: every answer takes 20 ms
    # Within 10% when the machine lets the quiet run come near the truth (~22-26 ms); when
    # other jobs push even the quiet p99 past 30 ms, two identical runs differ by up to ~25%
    # there (rerun alone to check the 10%). Before issue 15: 249 ms against 97.
    tolerance = 1.10 if quiet_p99 <= POLL_DELAY_MS * 1.5 else 1.25
    assert polled_p99 <= quiet_p99 * tolerance, (quiet["latency_ms"], polled["latency_ms"])
