"""advice.html in a real browser (Debian's Chromium via Playwright, as tests/test_browser.py):
the capacity chart with its target and chosen lines, the bottleneck bars, the fragment and
the table are drawn and visible; a screenshot is saved as ``advice.png`` in the test's temp dir
(docs/advise-html.png was made this way)."""
import json
import shutil

import pytest

from loadgen.advise.page import write_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.integration, pytest.mark.skipif(CHROMIUM is None, reason="no chromium: run `make browser` as root")]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def tried(step, encoder, held, achieved, p99, share, change):
    topology = {"encoder": {"replicas": encoder, "shards": 1}, "indexer": {"replicas": 1, "shards": 1}}
    return {"step": step, "topology": topology, "processes": encoder + 1, "runtimes": encoder + 2, "change": change,
            "verdict": "held" if held else "violated", "held": held, "max_rate": 30.0 if held else None,
            "achieved_rate": achieved, "p99_ms": p99, "bottleneck": "encoder",
            "shares": {"encoder": share, "indexer": round(1 - share, 4)}, "gain": None if step == 1 else 0.25,
            "cpu_busy": 0.6, "flow_cpu_cores": 0.12, "cores": 2, "reason": "/search:p99<400ms: 120 ms",
            "dir": f"0{step}-encoder{encoder}-indexer1", "report": f"0{step}-encoder{encoder}-indexer1/trial-30rps/report.html"}


def test_advice_html_draws_capacity_against_processes_and_the_bottleneck(tmp_path):
    from playwright.sync_api import sync_playwright

    steps = [tried(1, 1, False, 24.1, 936.0, 0.995, "the Flow as given"),
             tried(2, 2, True, 29.9, 122.0, 0.958, "encoder +1 replica")]
    chosen = {"topology": steps[1]["topology"], "processes": 3, "max_rate": 30.0}
    (tmp_path / "advice.json").write_text(json.dumps({
        "target_rate": 30.0, "slo": ["/search:p99<400ms"], "chosen": chosen, "tried": steps,
        "stopped_because": "target-held: encoder 2, indexer 1 holds 30 req/s within the SLO"}))
    html = write_page(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(html.as_uri())
        assert page.locator("#answer").inner_text().startswith("recommended: encoder 2, indexer 1 (3 processes")
        assert "replicas: 2" in page.locator("#fragment").inner_text()
        for mark in ("line.h-mark", "line.v-mark"):
            box = page.locator(mark).first.bounding_box()
            assert box is not None and (box["width"] > 100 or box["height"] > 100), mark
        assert page.locator("circle").count() == len(steps) + 1  # a point per topology, the held one again
        assert page.locator("svg rect[height='10']").count() == 2 * len(steps)  # a bar per Executor and step
        assert page.locator("#tried tr").count() == 1 + len(steps)
        assert page.locator("#runs a").count() == len(steps)
        page.screenshot(path=str(tmp_path / "advice.png"), full_page=True)
        browser.close()
