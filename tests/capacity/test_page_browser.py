"""capacity.html in a real browser (Debian's Chromium via Playwright, as tests/test_browser.py):
the chart, its knee and gate lines are drawn and visible; a screenshot is saved as
``capacity.png`` in the test's temp dir (docs/capacity-html.png was made this way)."""
import json
import shutil

import pytest

from loadgen.capacity.page import write_page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.integration, pytest.mark.skipif(CHROMIUM is None, reason="no chromium: run `make browser` as root")]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def trial(rate, achieved, p99, verdict):
    latency = {"p50": 52.0, "p90": 55.0, "p95": (52 + p99) / 2, "p99": p99, "p999": p99, "max": p99, "mean": 53.0}
    endpoint = {"requests": int(achieved * 6), "failures": 0, "rps": achieved, "docs_per_s": achieved,
                "latency_ms": latency, "timed_requests": int(achieved * 6)}
    return {"offered_rate": rate, "achieved_rate": achieved, "windows": 3, "stable": True, "verdict": verdict,
            "reason": f"/search:p99<75ms: {p99} ms", "endpoints": {"/search": endpoint}, "dir": f"trial-{rate:g}rps",
            "users": 10, "docs_per_s": achieved, "total": endpoint, "late_share": 0.0, "duration_s": 8.0}


def test_capacity_html_draws_the_knee_and_the_gate(tmp_path):
    from playwright.sync_api import sync_playwright

    trials = [trial(37, 36, 60, "held"), trial(74, 72, 62, "held"), trial(148, 151, 79, "violated"),
              trial(111, 113, 67, "held"), trial(138, 144, 74, "held")]
    (tmp_path / "capacity.json").write_text(json.dumps({"max_rate": 138, "max_docs_per_s": 138, "limit": "slo",
                                                        "slo": ["/search:p99<75ms"], "trials": trials}))
    html = write_page(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(html.as_uri())
        assert page.locator("#answer").inner_text().startswith("max sustainable rate within SLO: 138 req/s")
        for mark in ("line.h-mark", "line.v-mark"):
            box = page.locator(mark).first.bounding_box()
            assert box is not None and (box["width"] > 100 or box["height"] > 100), mark
        assert page.locator("circle").count() == 3 * len(trials)
        assert page.locator("#trials tr").count() == 1 + len(trials)
        page.screenshot(path=str(tmp_path / "capacity.png"), full_page=True)
        browser.close()
