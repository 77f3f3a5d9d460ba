"""The web UI tab and report.html in a real browser (Debian's Chromium via Playwright).

Screenshots are saved under each test's temp dir (``web-ui-hdr-tab.png``, ``report.png``).
"""
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, TOP_K
from loadgen.ports import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.integration, pytest.mark.skipif(CHROMIUM is None, reason="no chromium: run `make browser` as root")]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def _locust_web(flow, tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/text.py", "--web-host",
                             "127.0.0.1", "--web-port", str(port), "--host", flow.target.url, "--request-size", "2",
                             "--top-k", str(TOP_K), "--results-dir", str(tmp_path / "results")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base, timeout=2)
            return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("the web UI did not come up")


def test_hdr_tab_shows_live_exact_percentiles(flow, tmp_path, page):
    proc, base = _locust_web(flow, tmp_path)
    try:
        form = urllib.parse.urlencode({"user_count": 2, "spawn_rate": 2}).encode()
        assert json.loads(urllib.request.urlopen(f"{base}/swarm", data=form, timeout=10).read())["success"]
        time.sleep(4)
        page.goto(f"{base}/?tab=loadgen-hdr")
        page.get_by_text("HDR percentiles").first.click()
        row = page.locator("tr", has_text="/search").first
        row.wait_for(timeout=20000)
        cells = row.locator("td").all_inner_texts()
        page.screenshot(path=str(tmp_path / "web-ui-hdr-tab.png"), full_page=True)
        assert "grpc" in cells and int(cells[cells.index("/search") + 1]) > 0
        numbers = [float(c) for c in cells if c.replace(".", "", 1).isdigit() and "." in c]
        assert numbers and all(n > 0 for n in numbers), cells
        assert page.locator("tr", has_text="encoder").count() >= 1, "per-Executor rows too"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert (tmp_path / "results" / "report.html").is_file()


def test_report_html_renders_plots_with_numbers(flow, tmp_path, page):
    proc = subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/text.py", "--headless",
                           "-u", "2", "-r", "2", "-t", "4s", "--host", flow.target.url, "--request-size", "2",
                           "--top-k", str(TOP_K), "--results-dir", str(tmp_path / "results")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page.goto((tmp_path / "results" / "report.html").as_uri())
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    charts = page.locator("svg.chart")
    # latency over time for /index and /search, req/s, the load generator's loop lag, spectrum, breakdown
    assert charts.count() == 6
    for i in range(6):
        box = charts.nth(i).bounding_box()
        assert box["width"] > 500 and box["height"] > 150
    assert page.locator("svg.chart polyline").count() >= 4
    table = page.locator("#endpoints").inner_text()
    assert "/search" in table and "p99 ms" in table
    assert page.locator("svg.chart", has_text="encoder").count() == 1
    assert page.locator("svg.chart", has_text="event-loop lag").locator("polyline").count() >= 3  # p50, p99, max
    assert page.locator("#generator").inner_text().startswith(("not saturated", "SATURATED"))
