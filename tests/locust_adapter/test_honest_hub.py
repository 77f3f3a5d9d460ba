"""Nothing on a load-generating gevent hub may distort the latencies it times (issue 15 §1).

A fake gateway (tests/fakegateway.py, its own process) answers every request in exactly
``DELAY_MS``; so every latency loadgen reports must be that delay plus a little loopback and
client time. Two things used to block the hub and be timed as the server's delay:

- refills of a dataset's pools: decoding large images inside a user's greenlet (a refill of
  4 noise PNGs of 1000x1000 blocks for ~70 ms);
- the web UI's "HDR percentiles" rows, built at every ``/stats/requests`` poll (hdrh walked
  the counts array in Python: 25-90 ms per histogram).

Small runs (8 users, 10-12 s) sized for a loaded 2-core machine; a timing test that fails
under load should be rerun alone.
"""
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, run_locust
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


def _summary(results: Path) -> dict:
    return json.loads((results / "summary.json").read_text())


def test_refilling_pools_from_slow_images_do_not_distort_latency(tmp_path, launch_fake_gateway):
    """Pools of 2 requests x 2 images must refill every 2 requests, from PNGs that take
    ~16 ms each to decode, far slower than 8 users consume them: the data is the bottleneck,
    users wait for it (counted), and every reported latency stays the gateway's 50 ms."""
    port = launch_fake_gateway("--delay-ms", REFILL_DELAY_MS)
    _noise_pngs(tmp_path / "images", count=12, side=1000)
    results = tmp_path / "results"
    proc = run_locust(["-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{port}", "--headless",
                       "-u", "8", "-r", "8", "-t", "12s", "--dataset", f"images:{tmp_path / 'images'}",
                       "--image-shape", "16,16,3", "--request-size", "2", "--pool-size", "2",
                       "--task-mix", "index:1,search:1", "--preindex-docs", "0", "--results-dir", str(results)],
                      cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _summary(results)
    total = summary["total"]
    assert total["failures"] == 0 and total["requests"] >= 100, total
    latency = total["latency_ms"]
    assert latency["p99"] <= REFILL_DELAY_MS * 1.10, latency
    assert latency["max"] <= REFILL_DELAY_MS * 1.40, latency
    # 8 users could send 160 req/s (320 images/s); decoding gives far fewer: users waited.
    waits = summary["dataset"]
    assert waits["waits"] > 0 and waits["wait_s"] > 1.0, waits
    assert "data-bound: the generator waited" in proc.stdout


def _start_web_ui_run(tmp_path: Path, name: str, port: int) -> tuple[subprocess.Popen, int, Path]:
    """A single-process run with the web UI up (``--autostart``): its process, web port and
    results directory."""
    web_port, results = free_port(), tmp_path / name
    locust = Path(sys.executable).parent / "locust"
    proc = subprocess.Popen(
        [str(locust), "-f", "locustfiles/image.py", "--host", f"grpc://127.0.0.1:{port}", "--autostart",
         "--autoquit", "1", "-u", "4", "-r", "4", "-t", "12s", "--web-host", "127.0.0.1", "--web-port",
         str(web_port), "--image-shape", "8,8,3", "--request-size", "1", "--preindex-docs", "0",
         "--results-dir", str(results)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


def _finish(proc: subprocess.Popen, results: Path) -> dict:
    try:
        out, _ = proc.communicate(timeout=90)
    finally:
        proc.kill()
    assert proc.returncode == 0, out[-3000:]
    return json.loads((results / "summary.json").read_text())["total"]


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
        quiet, polled = _finish(quiet_proc, quiet_dir), _finish(polled_proc, polled_dir)
    finally:
        stop.set()
        poller.join()
    assert len(rows) >= 15 and max(rows) >= 4, rows  # the HDR rows were built at every poll
    assert quiet["failures"] == polled["failures"] == 0
    assert quiet["latency_ms"]["p99"] >= POLL_DELAY_MS  # the truth: every answer takes 20 ms
    assert polled["latency_ms"]["p99"] <= quiet["latency_ms"]["p99"] * 1.10, (quiet["latency_ms"], polled["latency_ms"])
