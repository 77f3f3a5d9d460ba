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
        total = page.locator("tr", has_text="total").first.locator("td").all_inner_texts()
        assert int(total[total.index("total", 1) + 1]) > int(cells[cells.index("/search") + 1]), "all requests"
        assert page.get_by_text("p99 uncorrected ms").count() == 0, "closed loop: no open-loop columns"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert (tmp_path / "results" / "report.html").is_file()


# Every pair of text labels of a chart whose boxes overlap (rounding aside), and every chart
# whose box leaves the viewport.
GEOMETRY = """() => {
  const boxes = el => Array.from(el.querySelectorAll('text')).map(t => [t.textContent, t.getBoundingClientRect()]);
  const overlaps = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const labels = boxes(svg);
    for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
      const [a, ra] = labels[i], [b, rb] = labels[j];
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 0.5 && h > 0.5) overlaps.push([a, b]);
    }
  }
  const width = document.documentElement.clientWidth;
  const outside = Array.from(document.querySelectorAll('svg.chart')).map(c => c.getBoundingClientRect())
    .filter(r => r.left < 0 || r.right > width).map(r => [r.left, r.right]);
  const labels = document.querySelectorAll('svg.chart text').length;
  return {overlaps, outside, labels, charts: document.querySelectorAll('svg.chart').length,
          page_width: document.documentElement.scrollWidth, width};
}"""


def _run(flow, tmp_path, *extra):
    results = tmp_path / "results"
    proc = subprocess.run([str(Path(sys.executable).parent / "locust"), "-f", "locustfiles/text.py", "--headless",
                           "-u", "3", "-r", "3", "-t", "5s", "--host", flow.target.url, "--request-size", "2",
                           "--top-k", str(TOP_K), "--results-dir", str(results), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return proc, results / "report.html"


def _check_geometry(page, report, shot):
    """Screenshots at two widths (kept in the test's temp dir); the labels never overlap and
    every chart fits the viewport (charts scale down with the page)."""
    for width in (1400, 760):
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(report.as_uri())
        page.screenshot(path=str(shot.with_name(f"{shot.stem}-{width}.png")), full_page=True)
        geometry = page.evaluate(GEOMETRY)
        assert geometry["labels"] > 20 and geometry["overlaps"] == [], geometry["overlaps"]
        assert geometry["outside"] == [], (width, geometry["outside"])
        assert geometry["page_width"] <= geometry["width"], "nothing widens the page beyond the viewport"
    return geometry


def test_report_of_a_demo_run_in_chromium(flow, tmp_path, page):
    proc, report = _run(flow, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    geometry = _check_geometry(page, report, tmp_path / "report.png")
    # latency of /index and /search, req/s, failures (none: a note), users, the load generator's
    # loop lag, distribution, breakdown
    assert geometry["charts"] == 8
    for chart in page.locator("svg.chart").all():
        assert chart.bounding_box()["width"] > 500
    assert page.locator("svg.chart polyline").count() >= 10
    assert "/search" in page.locator("#endpoints").inner_text() and "p99 ms" in page.locator("#endpoints").inner_text()
    assert page.locator("svg.chart", has_text="encoder").count() == 1
    assert "p99 latency" in page.locator("#facts").inner_text() and "No request failed." in page.content()
    assert page.locator("svg.chart", has_text="event-loop lag").locator("polyline").count() >= 3  # p50, p99, max
    assert page.locator("#generator").inner_text().startswith(("not saturated", "SATURATED"))


def test_report_of_an_all_failures_run_in_chromium(flow, tmp_path, page):
    proc, report = _run(flow, tmp_path, "--task-mix", "serch:1", "--skip-host-check")
    assert proc.returncode == 1, proc.stderr[-2000:]  # every request failed
    _check_geometry(page, report, tmp_path / "report-all-failures.png")
    assert "no successful request" in page.locator("#facts").inner_text()
    assert page.locator("svg.chart", has_text="no successful request").count() == 2  # latency, distribution
    assert "did not answer" in page.locator("#failure-messages").inner_text()
    assert page.locator("svg.chart", has_text="failures per second").locator("polyline").count() == 1


def test_the_web_form_sets_loadgens_main_options(flow, tmp_path, page):
    """Task mix, request size, top_k, arrival rate and dataset are in the start form
    ("Custom parameters"); what is typed there is what the run sends."""
    proc, base = _locust_web(flow, tmp_path)
    try:
        page.goto(base)
        page.get_by_text("Custom parameters").click()
        for name in ("taskMix", "requestSize", "topK", "arrivalRate", "dataset"):
            assert page.locator(f"input[name='{name}']").count() == 1, name
        assert page.locator("input[name='taskMix']").input_value() == "index:1,search:4"
        page.locator("input[name='taskMix']").fill("search:1")
        page.locator("input[name='requestSize']").fill("3")
        page.screenshot(path=str(tmp_path / "web-ui-form.png"), full_page=True)
        page.get_by_role("button", name="Start").click()
        time.sleep(4)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["task_mix"] == {"/search": 1} and summary["request_size"] == 3
    search = summary["endpoints"]["/search"]
    assert list(summary["endpoints"]) == ["/search"] and search["requests"] > 0 and search["failures"] == 0
    assert search["docs_per_s"] == pytest.approx(3 * search["rps"], rel=0.01), "3 documents per request"
