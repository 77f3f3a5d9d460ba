"""report.html from a run's files: self-contained; one time axis, one colour and one name per
endpoint; honest about few samples and about runs where nothing succeeded."""
import json
import re

from loadgen.errors import ValidationError
from loadgen.metrics import Metrics
from loadgen.reports.html import SECTIONS, render, write_report
from loadgen.reports.series import TimeSeriesWriter
from loadgen.reports.summary import summarize
from loadgen.reports.svg import PALETTE
from loadgen.results import Result


def _run_dir(tmp_path, *, http=False, failing=False, per_second=50, seconds=5):
    writer, total = TimeSeriesWriter(tmp_path, start_epoch=0.0), Metrics()
    for second in range(seconds):
        interval = Metrics()
        for i in range(per_second):
            error = ValidationError(f"expected 5 matches, got {i % 2}") if failing else None
            for endpoint in ("/search", "/index"):
                interval.add(Result(endpoint=endpoint, protocol="grpc", started_at=0.0, bytes_out=1, docs_sent=2,
                                    latency_s=0.010 + 0.001 * i + 0.002 * second, error=error))
        if not failing:
            interval.add_time("executor", "encoder", 0.004)
        writer.write_interval(interval, start_epoch=second, end_epoch=second + 1, gauges={"users": 4, "inflight": 2})
        total.merge(interval)
    writer.close()
    run = {"target": "grpc://127.0.0.1:1", "protocol": "grpc", "grpc_mode": "unary",
           "slo": [{"slo": "p99<1s", "passed": True, "actual": 61.0},
                   {"slo": "failures<1%", "passed": False, "actual": 2.123456}],
           "run": {"started_at": "2026-11-28T16:27:11Z", "ended_at": "2026-11-28T16:27:16Z",
                   "command": "locust -f locustfiles/image.py", "versions": {"loadgen": "0.1.0"}, "seed": 0,
                   "host": "grpc://127.0.0.1:1", "label": "jina 3.33"}}
    if http:
        run["executors_note"] = "not available: the HTTP gateway returns no routes"
        total.entries.pop(("executor", "encoder"))
    (tmp_path / "summary.json").write_text(json.dumps(summarize(total, duration_s=float(seconds), run=run)))
    return tmp_path


def _charts(html):
    return re.findall(r"<svg .*?</svg>", html)


def _x_ticks(svg):
    return re.findall(r'<line x1="([0-9.]+)" y1="[0-9.]+" x2="\1" y2="[0-9.]+" stroke="#666"/><text [^>]*>([^<]*)<', svg)


def test_the_report_is_self_contained_with_a_header_tables_and_charts(tmp_path):
    html = write_report(_run_dir(tmp_path)).read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    # latency /index and /search, req/s, failures (none: a note), users, distribution, breakdown
    assert len(_charts(html)) == 7
    assert "id='endpoints'" in html and "PASS p99&lt;1s" in html and "encoder" in html
    assert re.search(r"<polyline [^>]*points=\"[0-9., ]{20,}\"", html), "lines with real points"
    facts = re.search(r"<div class='facts' id='facts'>(.*?)</div></div>", html).group(1)
    assert "500" in facts and "p99 latency" in facts  # 500 requests, and the total's p99
    assert "SLO: FAIL, 1 of 2 gates missed: failures&lt;1% (actual 2.123)" in html
    assert "label <b>jina 3.33</b>" in html and "locust -f locustfiles/image.py" in html
    assert "No request failed." in html and "no request failed" in html


def test_time_charts_share_one_axis_and_endpoints_keep_their_colour_and_name(tmp_path):
    html = write_report(_run_dir(tmp_path)).read_text()
    time_charts = [c for c in _charts(html) if "seconds since the start" in c]
    assert len(time_charts) == 4  # 2 latency (no failures: a note, not a chart), req/s, users
    assert all(_x_ticks(c) == _x_ticks(time_charts[0]) for c in time_charts) and len(_x_ticks(time_charts[0])) >= 4
    colors = {"/index": PALETTE[0], "/search": PALETTE[1]}  # endpoints in summary order
    for chart in _charts(html):
        for name, color in colors.items():
            if f"{name}: latency" in chart:
                assert set(re.findall(r'<polyline fill="none" stroke="(#[0-9a-f]{6})"', chart)) == {color}
    req_s = next(c for c in _charts(html) if "requests per second" in c)
    for name, color in colors.items():
        assert re.search(f'stroke="{color}" stroke-width="2.5"/><text [^>]*>{name}<', req_s), "legend colour"
    assert f"background:{colors['/search']}'></span>/search" in html, "the table's swatch"
    assert not re.search(r"grpc:/(index|search)", html), "one naming: the summary's, not the log tags"


def test_the_distribution_stops_where_the_samples_do(tmp_path):
    html = write_report(_run_dir(tmp_path)).read_text()  # 250 samples per endpoint
    spectrum = next(c for c in _charts(html) if "latency by percentile" in c)
    assert [label for _, label in _x_ticks(spectrum)] == ["0%", "90%", "99%"], "no 99.9% axis for 250 samples"
    assert "/search: 250 samples; drawn up to 99.6%; its p99 rests on the slowest 2" in html
    last_x = max(float(x) for x in re.findall(r"([0-9.]+),[0-9.]+", re.search(r'points="([^"]*)"', spectrum).group(1)))
    right_edge = max(float(x) for x, _ in _x_ticks(spectrum))
    assert last_x > right_edge, "each curve runs to its own last supported percentile (2.4 nines)"


def test_a_p99_of_few_samples_is_marked_and_explained(tmp_path):
    few = write_report(_run_dir(tmp_path / "few", per_second=50)).read_text()
    latency = next(c for c in _charts(few) if "/search: latency" in c)
    assert latency.count("<circle") == 5 and "p99 of an interval with &lt; 100 successful requests" in latency
    many = write_report(_run_dir(tmp_path / "many", per_second=120, seconds=2)).read_text()
    assert "<circle" not in next(c for c in _charts(many) if "/search: latency" in c)


def test_a_run_where_nothing_succeeded_says_so_instead_of_zero_latencies(tmp_path):
    html = write_report(_run_dir(tmp_path, failing=True)).read_text()
    assert "0.00" not in re.search(r"<table id='endpoints'>.*?</table>", html).group(0)
    assert html.count("no successful request: no latency to draw") == 3  # 2 latency charts, the distribution
    assert "<b>no successful request</b>" in html  # the header's latency fact
    assert "500 of 500 requests failed (100.0%), 100.00 failures/s on average; by class: validation: 500" in html
    messages = re.search(r"<table id='failure-messages'>.*?</table>", html).group(0)
    assert messages.count("validation: expected 5 matches, got 0") == 2 and "<td>125</td>" in messages
    assert "per-Executor breakdown: no successful request" in html
    failures = next(c for c in _charts(html) if "failures per second" in c)
    assert "<polyline" in failures and ",100.0" not in failures


def test_sections_are_a_list_of_functions(tmp_path):
    directory = _run_dir(tmp_path)
    summary = json.loads((directory / "summary.json").read_text())
    html = render(summary=summary, rows=[], spectra={}, sections=[*SECTIONS, lambda data: "<p id='mine'>mine</p>"])
    assert html.endswith("<p id='mine'>mine</p></body></html>\n")


def test_without_routes_the_report_says_so(tmp_path):
    html = write_report(_run_dir(tmp_path, http=True)).read_text()
    assert "not available: the HTTP gateway returns no routes" in html
