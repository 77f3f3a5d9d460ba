"""compare.html in a real browser (Debian's Chromium via Playwright, as tests/test_browser.py):
for each endpoint, the latency-by-percentile chart holds both runs' curves, and so does the
p99-over-time chart. A screenshot is saved as ``compare.png`` in the test's temp dir."""
import shutil

import pytest

from loadgen.cli import main

from .conftest import side_by_side

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.locust, pytest.mark.skipif(CHROMIUM is None, reason="no chromium: run `make browser` as root")]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def test_compare_html_shows_both_runs_curves(launch_fake_gateway, tmp_path, page):
    base, new = side_by_side(launch_fake_gateway, tmp_path, [10, 20], ["v1", "v2"], seconds=5)
    assert main(["compare", str(base), str(new)]) == 4
    page.goto((new / "compare.html").as_uri())
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    charts = page.locator("svg.chart")
    assert charts.count() == 4  # per endpoint (/index, /search): percentile curves, p99 over time
    for i in range(4):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box["width"] > 500 and box["height"] > 150
        lines = chart.locator("polyline")
        assert lines.count() == 2, chart.inner_html()[:500]
        assert all(len(lines.nth(j).get_attribute("points").split()) >= 5 for j in range(2))
        legend = chart.text_content()
        assert "base: v1" in legend and "new: v2" in legend
    spectrum = page.locator("svg.chart", has_text="/search: latency by percentile")
    assert spectrum.count() == 1
    # the slower run's curve lies above the other from 0 % to p90 (SVG: a smaller y is higher);
    # beyond, both are the shared machine's hiccups, in either order
    base_curve, new_curve = (spectrum.locator("polyline").nth(j).get_attribute("points").split() for j in range(2))
    body = [(b, n) for b, n in zip(base_curve, new_curve)][:11]  # the spectrum's first 11 points: 0 % ... 90 %
    assert all(float(n.split(",")[1]) < float(b.split(",")[1]) for b, n in body)
    assert page.locator("#comparison td.worse").count() >= 2
